"""drop data stamps: pages are drawn on every request, so nothing counts changes per table

Revision ID: 0019_drop_data_stamps
Revises: 0018_submission_totals
Create Date: 2026-12-08 00:00:00.000000

The stamps (0011_data_stamps) told the pages kept for reuse whether a table they read had
changed. Those pages are gone (issue 18): every page is drawn from the database as it
stands, so the table and the write it cost every commit go too. Going down makes the table
again as 0011 made it, empty: a table with no row has not changed since, as there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_drop_data_stamps"
down_revision: str | None = "0018_submission_totals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("data_stamp")


def downgrade() -> None:
    op.create_table(
        "data_stamp",
        sa.Column("table_name", sa.String(length=63), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_data_stamp")),
    )
