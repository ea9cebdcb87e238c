"""buy-back submissions' answers with the option and number sent

Revision ID: 0024_submission_answer_options
Revises: 0023_catalogue_version
Create Date: 2026-12-07 20:30:00.000000

A school's task list says which saved answers the council has not yet been sent, and what
each was when sent. It read the latest submission's lines (JSON, about 24 KB for a school
answering every service) into Python on every drawing to compare them with the answers.
Each answer row (0010) now also keeps the option and the number sent, and the option's name
and unit as they were, so that the task list compares in the statement that reads the
answers and reads no lines. The rows of submissions made before this migration are filled
in from their lines, in SQL on both databases, as 0010 filled the rows themselves: the last
line of a service stands.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_submission_answer_options"
down_revision: str | None = "0023_catalogue_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = {
    "postgresql": """
        UPDATE buyback_submission_answer AS answer
        SET option_id = (line.value->>'option_id')::int,
            option_name = line.value->>'option',
            unit = line.value->>'unit',
            quantity = COALESCE(NULLIF((line.value->>'quantity')::int, 0), 1)
        FROM (
            SELECT DISTINCT ON (s.id, (line.value->>'service_id')::int)
                   s.id AS submission_id, (line.value->>'service_id')::int AS service_id,
                   line.value
            FROM buyback_submission AS s,
                 json_array_elements(s.lines) WITH ORDINALITY AS line(value, position)
            WHERE json_typeof(line.value->'buying') = 'boolean'
            ORDER BY s.id, (line.value->>'service_id')::int, line.position DESC
        ) AS line
        WHERE answer.submission_id = line.submission_id
          AND answer.service_id = line.service_id
    """,
    "sqlite": """
        UPDATE buyback_submission_answer
        SET (option_id, option_name, unit, quantity) = (
            SELECT CAST(json_extract(line.value, '$.option_id') AS INTEGER),
                   json_extract(line.value, '$.option'),
                   json_extract(line.value, '$.unit'),
                   COALESCE(NULLIF(CAST(json_extract(line.value, '$.quantity') AS INTEGER), 0), 1)
            FROM buyback_submission AS s, json_each(s.lines) AS line
            WHERE s.id = buyback_submission_answer.submission_id
              AND CAST(json_extract(line.value, '$.service_id') AS INTEGER)
                  = buyback_submission_answer.service_id
              AND json_type(line.value, '$.buying') IN ('true', 'false')
            ORDER BY line.key DESC
            LIMIT 1
        )
    """,
}


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch copy (as 0008): a batch reflects the tables the answers
    # refer to, and SQLite cannot reflect user_account's case-insensitive index.
    op.add_column("buyback_submission_answer", sa.Column("option_id", sa.Integer(), nullable=True))
    op.add_column(
        "buyback_submission_answer", sa.Column("option_name", sa.String(length=120), nullable=True)
    )
    op.add_column(
        "buyback_submission_answer", sa.Column("unit", sa.String(length=20), nullable=True)
    )
    op.add_column(
        "buyback_submission_answer",
        sa.Column("quantity", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )
    op.execute(BACKFILL[op.get_bind().dialect.name])


def downgrade() -> None:
    # Plain ALTER TABLE for the same reason (SQLite 3.35 and later can drop a column).
    for column in ("quantity", "unit", "option_name", "option_id"):
        op.drop_column("buyback_submission_answer", column)
