"""a closed buy-back window's figures, kept as they stood when it closed

Revision ID: 0015_analysis_frozen
Revises: 0013_sign_in_protection
Create Date: 2026-12-06 23:00:00.000000

The analysis of a window counted its schools as the register stood at the time of asking, so
a school closed by a later register import took its income out of a closed window's figures
(and its page and the next year's comparison then disagreed). Once a window has closed, its
figures are worked out once and kept here (portal.buyback.analysis). Nothing is filled in:
a closed window's figures are kept the first time they are asked for, or before the next
register import is applied.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_analysis_frozen"
down_revision: str | None = "0013_sign_in_protection"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "buyback_window_figures",
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kept_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["window_id"],
            ["buyback_window.id"],
            name=op.f("fk_buyback_window_figures_window_id_buyback_window"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("window_id", name=op.f("pk_buyback_window_figures")),
    )


def downgrade() -> None:
    op.drop_table("buyback_window_figures")
