"""indexes for searching and listing at a large council's scale

Revision ID: 0009_search_indexes
Revises: 0008_totp_last_step
Create Date: 2026-11-22 16:30:00.000000

Checked with EXPLAIN on PostgreSQL at seed-scale factor 10 (bench/explain.py; the plans are in
bench/RESULTS.md). Searching 60,000 accounts or 6,000 schools for a name fragment
("%smith%") read every row; trigram indexes (pg_trgm, PostgreSQL only) answer it from the
index. The accounts list, in name order, read and sorted every account for one page; an
index on lower(display_name), id gives the page in order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_search_indexes"
down_revision: str | None = "0008_totp_last_step"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Searched with ILIKE '%...%': name -> (table, column).
TRIGRAM_INDEXES = {
    "ix_user_account_display_name_trgm": ("user_account", "display_name"),
    "ix_user_account_email_trgm": ("user_account", "email"),
    "ix_school_name_trgm": ("school", "name"),
}


def upgrade() -> None:
    op.create_index(
        "ix_user_account_display_name_lower",
        "user_account",
        [sa.text("lower(display_name)"), "id"],
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13 and later): the database's owner may
    # create it. Its operator class is named with its schema, wherever it was installed.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema = op.get_bind().scalar(
        sa.text(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
        )
    )
    for name, (table, column) in TRIGRAM_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {table} USING gin ({column} {schema}.gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        # The extension stays: other databases' objects in this cluster may use it.
    op.drop_index("ix_user_account_display_name_lower", table_name="user_account")
