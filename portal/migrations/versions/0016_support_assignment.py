"""support assignment: a request given to an officer shows on its timeline

Revision ID: 0016_support_assignment
Revises: 0015_analysis_frozen
Create Date: 2026-12-08 10:00:00.000000

A support request already names its officer (support_request.assigned_officer_id). An
officer can now give it to a colleague of the same area, or to nobody, and the timeline
records each such assignment: support_event.assignment marks the event, and
support_event.assigned_to_id names who it went to (nobody, when empty). The officer's
"mine" filter looks requests up by their officer, hence the index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_support_assignment"
down_revision: str | None = "0015_analysis_frozen"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_THIS_TABLE_ONLY = {"resolve_fks": False}


def upgrade() -> None:
    # SQLite adds a column with a foreign key only by copying the table (batch mode).
    with op.batch_alter_table("support_event", reflect_kwargs=_THIS_TABLE_ONLY) as batch_op:
        batch_op.add_column(
            sa.Column("assignment", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("assigned_to_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_support_event_assigned_to_id_user_account"),
            "user_account",
            ["assigned_to_id"],
            ["id"],
        )
    op.create_index(
        op.f("ix_support_request_assigned_officer_id"),
        "support_request",
        ["assigned_officer_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_support_request_assigned_officer_id"), table_name="support_request")
    with op.batch_alter_table("support_event", reflect_kwargs=_THIS_TABLE_ONLY) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_support_event_assigned_to_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("assigned_to_id")
        batch_op.drop_column("assignment")
