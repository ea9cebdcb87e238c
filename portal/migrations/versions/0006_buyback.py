"""buy-back

Revision ID: 0006_buyback
Revises: 0005_school_rolls
Create Date: 2026-11-22 13:50:15.920026
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_buyback"
down_revision: str | None = "0005_school_rolls"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "buyback_window",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "cohort",
            sa.Enum(
                "maintained",
                "academies",
                "all",
                name="buyback_cohort",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "closes_at > opens_at", name=op.f("ck_buyback_window_closes_after_opening")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyback_window")),
    )
    with op.batch_alter_table("buyback_window", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_buyback_window_year"), ["year"], unique=False)

    op.create_table(
        "buyback_choice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                name="choice_status",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("purchase_order", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_buyback_choice_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_buyback_choice_updated_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["window_id"],
            ["buyback_window.id"],
            name=op.f("fk_buyback_choice_window_id_buyback_window"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyback_choice")),
    )
    with op.batch_alter_table("buyback_choice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_buyback_choice_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_buyback_choice_window_id"), ["window_id"], unique=False
        )
        batch_op.create_index(
            "uq_buyback_choice_school_window", ["school_id", "window_id"], unique=True
        )

    op.create_table(
        "buyback_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_buyback_reminder_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["window_id"],
            ["buyback_window.id"],
            name=op.f("fk_buyback_reminder_window_id_buyback_window"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyback_reminder")),
    )
    with op.batch_alter_table("buyback_reminder", schema=None) as batch_op:
        batch_op.create_index(
            "uq_buyback_reminder_school_window", ["school_id", "window_id"], unique=True
        )

    op.create_table(
        "buyback_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("choice_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("submission_key", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=False),
        sa.Column("purchase_order", sa.String(length=40), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("net_pence", sa.Integer(), nullable=False),
        sa.Column("vat_pence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["choice_id"],
            ["buyback_choice.id"],
            name=op.f("fk_buyback_submission_choice_id_buyback_choice"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["user_account.id"],
            name=op.f("fk_buyback_submission_submitted_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyback_submission")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_buyback_submission_submission_key")),
    )
    with op.batch_alter_table("buyback_submission", schema=None) as batch_op:
        batch_op.create_index(
            "uq_buyback_submission_choice_number", ["choice_id", "number"], unique=True
        )

    op.create_table(
        "buyback_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("choice_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("buying", sa.Boolean(), nullable=True),
        sa.Column("option_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("net_pence", sa.Integer(), nullable=True),
        sa.Column("vat_pence", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["choice_id"],
            ["buyback_choice.id"],
            name=op.f("fk_buyback_line_choice_id_buyback_choice"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["option_id"], ["price_option.id"], name=op.f("fk_buyback_line_option_id_price_option")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_buyback_line_service_id_service")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyback_line")),
    )
    with op.batch_alter_table("buyback_line", schema=None) as batch_op:
        batch_op.create_index(
            "uq_buyback_line_choice_service", ["choice_id", "service_id"], unique=True
        )

    with op.batch_alter_table("service_offer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_cost_pence", sa.Integer(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("service_offer", schema=None) as batch_op:
        batch_op.drop_column("delivery_cost_pence")

    with op.batch_alter_table("buyback_line", schema=None) as batch_op:
        batch_op.drop_index("uq_buyback_line_choice_service")

    op.drop_table("buyback_line")
    with op.batch_alter_table("buyback_submission", schema=None) as batch_op:
        batch_op.drop_index("uq_buyback_submission_choice_number")

    op.drop_table("buyback_submission")
    with op.batch_alter_table("buyback_reminder", schema=None) as batch_op:
        batch_op.drop_index("uq_buyback_reminder_school_window")

    op.drop_table("buyback_reminder")
    with op.batch_alter_table("buyback_choice", schema=None) as batch_op:
        batch_op.drop_index("uq_buyback_choice_school_window")
        batch_op.drop_index(batch_op.f("ix_buyback_choice_window_id"))
        batch_op.drop_index(batch_op.f("ix_buyback_choice_school_id"))

    op.drop_table("buyback_choice")
    with op.batch_alter_table("buyback_window", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_buyback_window_year"))

    op.drop_table("buyback_window")
