"""the last authenticator code's time step, so that no code is accepted twice

Revision ID: 0008_totp_last_step
Revises: 0007_accounts_register
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_totp_last_step"
down_revision: str | None = "0007_accounts_register"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch copy: copying user_account on SQLite would drop
    # its case-insensitive e-mail index, which SQLite cannot reflect to copy.
    op.add_column("user_account", sa.Column("totp_last_step", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE for the same reason (SQLite 3.35 and later can drop a column).
    op.drop_column("user_account", "totp_last_step")
