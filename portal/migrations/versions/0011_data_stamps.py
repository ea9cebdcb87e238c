"""data stamps: a count of committed changes per table, for the pages kept for reuse

Revision ID: 0011_data_stamps
Revises: 0010_submission_answers
Create Date: 2026-12-06 14:00:00.000000

The portal keeps a page it has drawn for a person and serves it again while none of the
tables it read has changed (portal/page_cache.py). Each commit that changes a table moves
that table's stamp here, in the same transaction (portal/stamps.py). A table gets its row
the first time it changes; a table with no row has never changed since this migration.
Both went with the kept pages, and 0019_drop_data_stamps drops the table again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_data_stamps"
down_revision: str | None = "0010_submission_answers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_stamp",
        sa.Column("table_name", sa.String(length=63), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_data_stamp")),
    )


def downgrade() -> None:
    op.drop_table("data_stamp")
