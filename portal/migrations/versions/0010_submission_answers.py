"""buy-back submissions' answers as rows, for the analysis to add up

Revision ID: 0010_submission_answers
Revises: 0009_search_indexes
Create Date: 2026-11-22 21:30:00.000000

The buy-back analysis read every line of every latest submission (JSON) into Python to add
them up: about a second and a half at a large council's scale. Each service's answer in a
submission is now also a row (submission, service, buying, net), written with the
submission, so that the database adds them up. The rows of submissions made before this
migration are filled in from their lines, in SQL on both databases.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_submission_answers"
down_revision: str | None = "0009_search_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A line with a yes or no is an answer; the last line of a service in a submission stands
# (portal.models.submission_answers). Lines are written one per service, so "last" only
# matters for data nobody wrote through the portal.
BACKFILL = {
    "postgresql": """
        INSERT INTO buyback_submission_answer (submission_id, service_id, buying, net_pence)
        SELECT DISTINCT ON (s.id, (line.value->>'service_id')::int)
               s.id, (line.value->>'service_id')::int, (line.value->>'buying')::boolean,
               COALESCE((line.value->>'net_pence')::int, 0)
        FROM buyback_submission AS s,
             json_array_elements(s.lines) WITH ORDINALITY AS line(value, position)
        WHERE json_typeof(line.value->'buying') = 'boolean'
        ORDER BY s.id, (line.value->>'service_id')::int, line.position DESC
    """,
    "sqlite": """
        INSERT OR REPLACE INTO buyback_submission_answer
            (submission_id, service_id, buying, net_pence)
        SELECT s.id, CAST(json_extract(line.value, '$.service_id') AS INTEGER),
               json_extract(line.value, '$.buying'),
               COALESCE(CAST(json_extract(line.value, '$.net_pence') AS INTEGER), 0)
        FROM buyback_submission AS s, json_each(s.lines) AS line
        WHERE json_type(line.value, '$.buying') IN ('true', 'false')
        ORDER BY s.id, line.key
    """,
}


def upgrade() -> None:
    op.create_table(
        "buyback_submission_answer",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("buying", sa.Boolean(), nullable=False),
        sa.Column("net_pence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["buyback_submission.id"],
            name=op.f("fk_buyback_submission_answer_submission_id_buyback_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "submission_id", "service_id", name=op.f("pk_buyback_submission_answer")
        ),
    )
    op.execute(BACKFILL[op.get_bind().dialect.name])


def downgrade() -> None:
    op.drop_table("buyback_submission_answer")
