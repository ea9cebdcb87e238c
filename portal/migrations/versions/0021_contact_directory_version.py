"""contact directory version: a number the database changes with the directory

Revision ID: 0021_contact_directory_version
Revises: 0020_contact_search_text
Create Date: 2026-12-07 02:30:00.000000

Every school of an area is shown the same key contacts (portal.contacts.service): ranking an
area's contacts by role is most of the contacts page's time, and the answer changes only when
the directory does. contact_directory holds one number, which the database itself replaces
with one never used before in the statement of any change to contacts, the areas they serve
or the areas' names (triggers: whoever makes the change, the portal, a script or psql), so
that what was worked out for one number is what the directory held whenever it had that
number. Never used before, even when a change is rolled back: a PostgreSQL sequence does not
go back; on SQLite (one machine, in development) a random 64-bit number.

On PostgreSQL the number is taken before the statement's rows are locked (BEFORE ...
FOR EACH STATEMENT), so two writers queue for it before either holds a contact, and never
wait for each other in a circle.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_contact_directory_version"
down_revision: str | None = "0020_contact_search_text"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("contact", "contact_area", "area")
EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "contact_directory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_directory")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE contact_directory_version_seq")
        op.execute(
            "INSERT INTO contact_directory (id, version)"
            " VALUES (1, nextval('contact_directory_version_seq'))"
        )
        op.execute(
            "CREATE FUNCTION contact_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN"
            "  UPDATE contact_directory SET version = nextval('contact_directory_version_seq');"
            "  RETURN NULL;"
            " END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_directory_changed"
                f" BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION contact_directory_changed()"
            )
        return
    op.execute("INSERT INTO contact_directory (id, version) VALUES (1, random())")
    bump = "UPDATE contact_directory SET version = random();"
    for table in TABLES:
        for event in EVENTS:
            name = f"{table}_{event.lower()}_directory_changed"
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {bump} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_directory_changed ON {table}")
        op.execute("DROP FUNCTION contact_directory_changed()")
        op.execute("DROP SEQUENCE contact_directory_version_seq")
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER {table}_{event.lower()}_directory_changed")
    op.drop_table("contact_directory")
