"""catalogue version: changed by services too

Revision ID: 0025_catalogue_version_services
Revises: 0024_submission_answer_options
Create Date: 2026-12-07 21:00:00.000000

A school's task list takes the year's offer (which services a kind of school may buy, with
their names and categories) as worked out once per catalogue version (portal/buyback/
offer.py). A service's name, category, kind and who may buy it are the service's own
columns: so that the version says whenever what was worked out may differ, any change to
services now replaces it too, as changes to offers and categories do (0023).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025_catalogue_version_services"
down_revision: str | None = "0024_submission_answer_options"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "service"
EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The function 0023 made: one number for the statement, taken before its rows are
        # locked.
        op.execute(
            f"CREATE TRIGGER {TABLE}_catalogue_changed"
            f" BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {TABLE}"
            " FOR EACH STATEMENT EXECUTE FUNCTION catalogue_changed()"
        )
        return
    bump = "UPDATE catalogue_version SET version = random();"
    for event in EVENTS:
        name = f"{TABLE}_{event.lower()}_catalogue_changed"
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {TABLE} BEGIN {bump} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {TABLE}_catalogue_changed ON {TABLE}")
    else:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER {TABLE}_{event.lower()}_catalogue_changed")
