"""buy-back season: changes not yet sent, more than one reminder, reminders per window

Revision ID: 0017_buyback_season
Revises: 0016_support_assignment
Create Date: 2026-12-07 12:00:00.000000

* buyback_choice.unsent_since and unsent_told_at: since when the saved choice differs from
  what was last submitted, and when the people who submit were told that staff changed it.
* buyback_line.changed_at and changed_by_id: who last changed each answer, and when.
* buyback_window.reminder_days: the days before the deadline this window's reminders go
  (None: the council's BUYBACK_REMINDER_DAYS).
* buyback_reminder.days_before: which of those reminders this was. A school is reminded
  once per reminder, not once per window. Reminders sent before this migration were the one
  reminder of the old default, 7 days before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_buyback_season"
down_revision: str | None = "0016_support_assignment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite copies a table to add a foreign key (batch mode): only that table is read back,
# not user_account, whose expression indexes SQLite cannot reflect.
_THIS_TABLE_ONLY = {"resolve_fks": False}


def upgrade() -> None:
    with op.batch_alter_table("buyback_choice", reflect_kwargs=_THIS_TABLE_ONLY) as batch_op:
        batch_op.add_column(sa.Column("unsent_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("unsent_told_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("buyback_line", reflect_kwargs=_THIS_TABLE_ONLY) as batch_op:
        batch_op.add_column(sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("changed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_buyback_line_changed_by_id_user_account"),
            "user_account",
            ["changed_by_id"],
            ["id"],
        )
    with op.batch_alter_table("buyback_window", reflect_kwargs=_THIS_TABLE_ONLY) as batch_op:
        batch_op.add_column(sa.Column("reminder_days", sa.JSON(), nullable=True))
    with op.batch_alter_table("buyback_reminder", reflect_kwargs=_THIS_TABLE_ONLY) as batch_op:
        batch_op.add_column(
            sa.Column("days_before", sa.Integer(), nullable=False, server_default="7")
        )
    with op.batch_alter_table("buyback_reminder", reflect_kwargs=_THIS_TABLE_ONLY) as batch_op:
        batch_op.alter_column("days_before", server_default=None)
        batch_op.drop_index("uq_buyback_reminder_school_window")
        batch_op.create_index(
            "uq_buyback_reminder_school_window_days",
            ["school_id", "window_id", "days_before"],
            unique=True,
        )


def downgrade() -> None:
    # One reminder per school and window again: the latest of each stands for them all.
    op.execute(
        "DELETE FROM buyback_reminder WHERE id NOT IN ("
        " SELECT MAX(id) FROM buyback_reminder GROUP BY school_id, window_id)"
    )
    with op.batch_alter_table("buyback_reminder", reflect_kwargs=_THIS_TABLE_ONLY) as batch_op:
        batch_op.drop_index("uq_buyback_reminder_school_window_days")
        batch_op.create_index(
            "uq_buyback_reminder_school_window", ["school_id", "window_id"], unique=True
        )
        batch_op.drop_column("days_before")
    with op.batch_alter_table("buyback_window", reflect_kwargs=_THIS_TABLE_ONLY) as batch_op:
        batch_op.drop_column("reminder_days")
    with op.batch_alter_table("buyback_line", reflect_kwargs=_THIS_TABLE_ONLY) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_buyback_line_changed_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("changed_by_id")
        batch_op.drop_column("changed_at")
    with op.batch_alter_table("buyback_choice", reflect_kwargs=_THIS_TABLE_ONLY) as batch_op:
        batch_op.drop_column("unsent_told_at")
        batch_op.drop_column("unsent_since")
