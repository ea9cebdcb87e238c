"""catalogue version: a number the database changes with the offer's years and categories

Revision ID: 0023_catalogue_version
Revises: 0022_support_request_counts
Create Date: 2026-12-07 13:30:00.000000

The catalogue's filters offer every financial year with an offer, with how many offers of
each are published and drafts, and every category (portal.services.catalogue
catalogue_choices): the same for everyone who sees the same offers, worked out on every
drawing of the catalogue. catalogue_version holds one number, which the database itself
replaces with one never used before in the statement of any change to services' offers or
to categories (triggers: whoever makes the change, the portal, a script or psql), so that
what was worked out for one number is what those tables held whenever it had that number,
as contact_directory does for the contacts (migration 0021). The number is read with the
signed-in person (portal/versions.py), so a page learns it without a round trip of its own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_catalogue_version"
down_revision: str | None = "0022_support_request_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("service_offer", "service_category")
EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "catalogue_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_version")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE catalogue_version_seq")
        # Begun at the clock's microseconds, not 1: a database migrated down and up again
        # (or made afresh) never gives a number a running process may have seen before.
        op.execute(
            "SELECT setval('catalogue_version_seq',"
            " (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)"
        )
        op.execute(
            "INSERT INTO catalogue_version (id, version) VALUES (1, nextval('catalogue_version_seq'))"
        )
        # Taken before the statement's rows are locked (BEFORE ... FOR EACH STATEMENT), so
        # that two writers queue for it before either holds an offer.
        op.execute(
            "CREATE FUNCTION catalogue_changed() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN"
            "  UPDATE catalogue_version SET version = nextval('catalogue_version_seq');"
            "  RETURN NULL;"
            " END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_catalogue_changed"
                f" BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION catalogue_changed()"
            )
        return
    # SQLite (one machine, in development): a random 64-bit number, never used again in
    # practice, even when a change is rolled back.
    op.execute("INSERT INTO catalogue_version (id, version) VALUES (1, random())")
    bump = "UPDATE catalogue_version SET version = random();"
    for table in TABLES:
        for event in EVENTS:
            name = f"{table}_{event.lower()}_catalogue_changed"
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {bump} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_catalogue_changed ON {table}")
        op.execute("DROP FUNCTION catalogue_changed()")
        op.execute("DROP SEQUENCE catalogue_version_seq")
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER {table}_{event.lower()}_catalogue_changed")
    op.drop_table("catalogue_version")
