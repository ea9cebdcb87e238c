"""support requests and outbox

Revision ID: 0003_support
Revises: 0002_contacts
Create Date: 2026-11-22 13:25:02.567246
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_support"
down_revision: str | None = "0002_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "failed",
                name="outbox_status",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_message_due", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "support_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("submission_key", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "advice",
                "completing",
                "team_around_the_family",
                "lead_professional",
                "training",
                name="support_kind",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("child_initials", sa.String(length=4), nullable=True),
        sa.Column("child_year_group", sa.String(length=20), nullable=True),
        sa.Column(
            "level_of_need",
            sa.Enum(
                "2a",
                "2b",
                name="level_of_need",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=True,
        ),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column(
            "urgency",
            sa.Enum(
                "routine",
                "soon",
                "urgent",
                name="urgency",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("contact_by", sa.String(length=10), nullable=False),
        sa.Column("contact_phone", sa.String(length=20), nullable=True),
        sa.Column("contact_times", sa.String(length=200), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "acknowledged",
                "in_progress",
                "closed",
                "redirected",
                name="support_status",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("meeting_on", sa.Date(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "assessment_started",
                "advice_given",
                "stepped_up",
                "no_further_action",
                name="support_outcome",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=True,
        ),
        sa.Column(
            "redirect_reason",
            sa.Enum(
                "another_area",
                "front_door",
                name="redirect_reason",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=True,
        ),
        sa.Column("assigned_officer_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("respond_by", sa.Date(), nullable=False),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["area.id"], name=op.f("fk_support_request_area_id_area")
        ),
        sa.ForeignKeyConstraint(
            ["assigned_officer_id"],
            ["user_account.id"],
            name=op.f("fk_support_request_assigned_officer_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["user_account.id"],
            name=op.f("fk_support_request_requester_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_support_request_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_request")),
        sa.UniqueConstraint("reference", name=op.f("uq_support_request_reference")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_support_request_submission_key")),
    )
    with op.batch_alter_table("support_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_support_request_area_status", ["area_id", "status", "submitted_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_support_request_requester_id"), ["requester_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_support_request_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "support_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column(
            "from_status",
            sa.Enum(
                "new",
                "acknowledged",
                "in_progress",
                "closed",
                "redirected",
                name="support_event_from_status",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "new",
                "acknowledged",
                "in_progress",
                "closed",
                "redirected",
                name="support_event_to_status",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("shared_with_school", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_support_event_actor_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["support_request.id"],
            name=op.f("fk_support_event_request_id_support_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_event")),
    )
    with op.batch_alter_table("support_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_support_event_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("support_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_event_request_id"))

    op.drop_table("support_event")
    with op.batch_alter_table("support_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_request_school_id"))
        batch_op.drop_index(batch_op.f("ix_support_request_requester_id"))
        batch_op.drop_index("ix_support_request_area_status")

    op.drop_table("support_request")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_due")

    op.drop_table("outbox_message")
