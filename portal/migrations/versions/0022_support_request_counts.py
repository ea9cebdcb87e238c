"""support request counts: each area's requests of each status, kept by the database

Revision ID: 0022_support_request_counts
Revises: 0021_contact_directory_version
Create Date: 2026-12-07 04:35:00.000000

The officer's queue says how many requests match ("297 requests"). Counting an area's open
requests visited every one of them, some 270 table pages at factor 10, on every drawing of
the queue. support_request_count holds the number of requests of each area and status,
changed by triggers in the statement that inserts, deletes or moves a request (whoever makes
the change: the portal, a script or psql), so that it is always what a count of the rows
would give, in the same transaction. The queue's rows come from two partial indexes of the
open requests, in the queue's orders, so that a page reads its own rows only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_support_request_counts"
down_revision: str | None = "0021_contact_directory_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('new', 'acknowledged', 'in_progress')"
ADD = (
    "INSERT INTO support_request_count (area_id, status, n) VALUES (NEW.area_id, NEW.status, 1)"
    " ON CONFLICT (area_id, status) DO UPDATE SET n = support_request_count.n + 1"
)
TAKE = (
    "UPDATE support_request_count SET n = n - 1 WHERE area_id = OLD.area_id AND status = OLD.status"
)
MOVED = "OLD.area_id IS NOT NEW.area_id OR OLD.status IS NOT NEW.status"


def upgrade() -> None:
    op.create_table(
        "support_request_count",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("area_id", "status", name=op.f("pk_support_request_count")),
    )
    op.execute(
        "INSERT INTO support_request_count (area_id, status, n)"
        " SELECT area_id, status, count(*) FROM support_request GROUP BY area_id, status"
    )
    for name, columns in (
        ("ix_support_request_open_respond_by", ["area_id", "respond_by", "id"]),
        ("ix_support_request_open_submitted_at", ["area_id", "submitted_at", "id"]),
    ):
        op.create_index(
            name,
            "support_request",
            columns,
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION support_request_counted() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN"
            "  IF TG_OP IN ('UPDATE', 'DELETE') THEN " + TAKE + "; END IF;"
            "  IF TG_OP IN ('INSERT', 'UPDATE') THEN " + ADD + "; END IF;"
            "  RETURN NULL;"
            " END $$"
        )
        op.execute(
            "CREATE TRIGGER support_request_counted AFTER INSERT OR DELETE ON support_request"
            " FOR EACH ROW EXECUTE FUNCTION support_request_counted()"
        )
        op.execute(
            "CREATE TRIGGER support_request_moved AFTER UPDATE OF area_id, status"
            " ON support_request FOR EACH ROW"
            " WHEN (OLD.area_id IS DISTINCT FROM NEW.area_id"
            " OR OLD.status IS DISTINCT FROM NEW.status)"
            " EXECUTE FUNCTION support_request_counted()"
        )
        op.execute(
            "CREATE FUNCTION support_request_emptied() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN DELETE FROM support_request_count; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER support_request_emptied AFTER TRUNCATE ON support_request"
            " FOR EACH STATEMENT EXECUTE FUNCTION support_request_emptied()"
        )
        return
    op.execute(
        f"CREATE TRIGGER support_request_added AFTER INSERT ON support_request BEGIN {ADD}; END"
    )
    op.execute(
        f"CREATE TRIGGER support_request_removed AFTER DELETE ON support_request BEGIN {TAKE}; END"
    )
    op.execute(
        "CREATE TRIGGER support_request_moved AFTER UPDATE OF area_id, status ON support_request"
        f" WHEN {MOVED} BEGIN {TAKE}; {ADD}; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER support_request_emptied ON support_request")
        op.execute("DROP FUNCTION support_request_emptied()")
        op.execute("DROP TRIGGER support_request_moved ON support_request")
        op.execute("DROP TRIGGER support_request_counted ON support_request")
        op.execute("DROP FUNCTION support_request_counted()")
    else:
        for name in ("support_request_added", "support_request_removed", "support_request_moved"):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_index("ix_support_request_open_submitted_at", table_name="support_request")
    op.drop_index("ix_support_request_open_respond_by", table_name="support_request")
    op.drop_table("support_request_count")
