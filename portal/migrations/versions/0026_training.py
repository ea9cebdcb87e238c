"""training: courses, sessions, bookings, evaluations, supply-cover funds and claims

Revision ID: 0026_training
Revises: 0025_catalogue_version_services
Create Date: 2026-12-08 02:04:27.119296

Also: the training coordinator, a new council-wide role (the role checks of membership and
membership_invitation admit it), and one text attachment on an outbox message (a booking's
calendar file).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# SQLite copies a table to change its checks (batch mode): only that table is read back, not
# user_account, whose expression indexes SQLite cannot reflect.
_THIS_TABLE_ONLY = {"resolve_fks": False}
# The bookings still in play: one a person a session (models/training.py).
LIVE_BOOKING = "status IN ('awaiting_approval', 'offered', 'confirmed', 'waiting')"
ROLES_BEFORE = (
    "school_staff",
    "head_teacher",
    "trust_lead",
    "caf_officer",
    "publisher",
    "la_admin",
)
ROLES_AFTER = (*ROLES_BEFORE, "training_coordinator")


def _organisation_check(council_roles: tuple[str, ...]) -> str:
    council = ", ".join(f"'{role}'" for role in council_roles)
    return (
        "(role IN ('school_staff', 'head_teacher') AND school_id IS NOT NULL"
        " AND trust_id IS NULL AND area_id IS NULL)"
        " OR (role = 'trust_lead' AND trust_id IS NOT NULL"
        " AND school_id IS NULL AND area_id IS NULL)"
        " OR (role = 'caf_officer' AND area_id IS NOT NULL"
        " AND school_id IS NULL AND trust_id IS NULL)"
        f" OR (role IN ({council}) AND school_id IS NULL"
        " AND trust_id IS NULL AND area_id IS NULL)"
    )


def _role_checks(roles: tuple[str, ...], council_roles: tuple[str, ...]) -> None:
    """Replace the two checks on a role's columns: its value, and its organisation."""
    values = ", ".join(f"'{role}'" for role in roles)
    for table in ("membership", "membership_invitation"):
        with op.batch_alter_table(table, reflect_kwargs=_THIS_TABLE_ONLY) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_role"), type_="check")
            batch_op.drop_constraint(
                batch_op.f(f"ck_{table}_organisation_matches_role"), type_="check"
            )
            batch_op.create_check_constraint("role", f"role IN ({values})")
            batch_op.create_check_constraint(
                "organisation_matches_role", _organisation_check(council_roles)
            )


revision: str = "0026_training"
down_revision: str | None = "0025_catalogue_version_services"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _role_checks(ROLES_AFTER, ("publisher", "la_admin", "training_coordinator"))
    op.create_table(
        "supply_fund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("total_pence", sa.Integer(), nullable=False),
        sa.Column("covers_from", sa.Date(), nullable=False),
        sa.Column("covers_to", sa.Date(), nullable=False),
        sa.Column("claims_close_on", sa.Date(), nullable=False),
        sa.Column("daily_rate_pence", sa.Integer(), nullable=False),
        sa.Column("half_day_rate_pence", sa.Integer(), nullable=False),
        sa.Column(
            "eligibility",
            sa.Enum(
                "all_schools",
                "maintained",
                name="fund_eligibility",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("lump_sum_pence", sa.Integer(), nullable=False),
        sa.Column("roll_year", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "allocated",
                "closed",
                name="fund_status",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "covers_to >= covers_from", name=op.f("ck_supply_fund_fund_dates_in_order")
        ),
        sa.CheckConstraint(
            "half_day_rate_pence > 0 AND daily_rate_pence >= half_day_rate_pence",
            name=op.f("ck_supply_fund_fund_rates_in_order"),
        ),
        sa.CheckConstraint(
            "lump_sum_pence >= 0", name=op.f("ck_supply_fund_fund_lump_sum_not_negative")
        ),
        sa.CheckConstraint(
            "total_pence BETWEEN 1 AND 100000000", name=op.f("ck_supply_fund_fund_total_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_supply_fund_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_fund")),
    )
    op.create_table(
        "course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(length=300), nullable=False),
        sa.Column(
            "staff_level",
            sa.Enum(
                "all_staff",
                "support_staff",
                "teachers",
                "middle_leaders",
                "senior_leaders",
                "designated_leads",
                "governors",
                name="staff_level",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("learning_outcomes", sa.Text(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("price_pence", sa.Integer(), nullable=False),
        sa.Column("member_price_pence", sa.Integer(), nullable=True),
        sa.Column("member_service_id", sa.Integer(), nullable=True),
        sa.Column("academy_price_pence", sa.Integer(), nullable=True),
        sa.Column("cancellation_days", sa.Integer(), nullable=False),
        sa.Column("late_charge_pence", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "published",
                "withdrawn",
                name="course_status",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "academy_price_pence IS NULL OR academy_price_pence BETWEEN 0 AND 100000000",
            name=op.f("ck_course_course_academy_price_in_range"),
        ),
        sa.CheckConstraint(
            "cancellation_days BETWEEN 0 AND 90", name=op.f("ck_course_course_window_in_range")
        ),
        sa.CheckConstraint(
            "duration_minutes BETWEEN 15 AND 7200", name=op.f("ck_course_course_duration")
        ),
        sa.CheckConstraint(
            "late_charge_pence IS NULL OR late_charge_pence BETWEEN 0 AND 100000000",
            name=op.f("ck_course_course_late_charge_in_range"),
        ),
        sa.CheckConstraint(
            "member_price_pence IS NULL OR (member_service_id IS NOT NULL AND member_price_pence BETWEEN 0 AND price_pence)",
            name=op.f("ck_course_course_member_price_names_service"),
        ),
        sa.CheckConstraint(
            "price_pence BETWEEN 0 AND 100000000", name=op.f("ck_course_course_price_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["member_service_id"], ["service.id"], name=op.f("fk_course_member_service_id_service")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course")),
    )
    op.create_table(
        "school_training_settings",
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column(
            "approver",
            sa.Enum(
                "nobody",
                "head_teacher",
                "training_lead",
                name="approver",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("training_lead_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "approver <> 'training_lead' OR training_lead_id IS NOT NULL",
            name=op.f("ck_school_training_settings_training_lead_named"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_school_training_settings_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["training_lead_id"],
            ["user_account.id"],
            name=op.f("fk_school_training_settings_training_lead_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_school_training_settings")),
    )
    op.create_table(
        "supply_fund_allocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("pupils", sa.Integer(), nullable=False),
        sa.Column("lump_sum_pence", sa.Integer(), nullable=False),
        sa.Column("exact_pupil_share_micropence", sa.BigInteger(), nullable=False),
        sa.Column("pupil_share_pence", sa.Integer(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("approved_pence", sa.Integer(), server_default="0", nullable=False),
        sa.Column("paid_pence", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "approved_pence >= 0 AND approved_pence <= amount_pence",
            name=op.f("ck_supply_fund_allocation_allocation_never_overspent"),
        ),
        sa.CheckConstraint(
            "paid_pence >= 0 AND paid_pence <= approved_pence",
            name=op.f("ck_supply_fund_allocation_paid_le_app"),
        ),
        sa.ForeignKeyConstraint(
            ["fund_id"],
            ["supply_fund.id"],
            name=op.f("fk_supply_fund_allocation_fund_id_supply_fund"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_supply_fund_allocation_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_fund_allocation")),
        sa.UniqueConstraint("fund_id", "school_id", name=op.f("uq_supply_fund_allocation_fund_id")),
    )
    with op.batch_alter_table("supply_fund_allocation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_fund_allocation_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "supply_payment_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        sa.Column("total_pence", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_supply_payment_batch_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["fund_id"],
            ["supply_fund.id"],
            name=op.f("fk_supply_payment_batch_fund_id_supply_fund"),
        ),
        sa.ForeignKeyConstraint(
            ["paid_by_id"],
            ["user_account.id"],
            name=op.f("fk_supply_payment_batch_paid_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_payment_batch")),
        sa.UniqueConstraint("reference", name=op.f("uq_supply_payment_batch_reference")),
    )
    with op.batch_alter_table("supply_payment_batch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_payment_batch_fund_id"), ["fund_id"], unique=False
        )

    op.create_table(
        "course_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("venue", sa.String(length=300), nullable=True),
        sa.Column("online_link", sa.String(length=500), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("places_taken", sa.Integer(), server_default="0", nullable=False),
        sa.Column("trainer", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "scheduled",
                "cancelled",
                name="session_status",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("cancelled_reason", sa.String(length=500), nullable=True),
        sa.Column("register_taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "capacity BETWEEN 1 AND 1000", name=op.f("ck_course_session_session_capacity_in_range")
        ),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_course_session_session_ends_after_it_starts")
        ),
        sa.CheckConstraint(
            "places_taken >= 0 AND places_taken <= capacity",
            name=op.f("ck_course_session_session_places_in_range"),
        ),
        sa.CheckConstraint(
            "venue IS NOT NULL OR online_link IS NOT NULL",
            name=op.f("ck_course_session_session_has_a_place"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["area.id"], name=op.f("fk_course_session_area_id_area")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_course_session_course_id_course")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_session")),
    )
    with op.batch_alter_table("course_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_session_area_id"), ["area_id"], unique=False)
        batch_op.create_index("ix_course_session_course", ["course_id", "starts_at"], unique=False)
        batch_op.create_index("ix_course_session_starts_at", ["starts_at", "id"], unique=False)

    op.create_table(
        "supply_fund_course",
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_supply_fund_course_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["fund_id"],
            ["supply_fund.id"],
            name=op.f("fk_supply_fund_course_fund_id_supply_fund"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("fund_id", "course_id", name=op.f("pk_supply_fund_course")),
    )
    with op.batch_alter_table("supply_fund_course", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_fund_course_course_id"), ["course_id"], unique=False
        )

    op.create_table(
        "training_booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("attendee_name", sa.String(length=120), nullable=False),
        sa.Column("attendee_email", sa.String(length=254), nullable=False),
        sa.Column("attendee_job_title", sa.String(length=120), nullable=False),
        sa.Column("attendee_user_id", sa.Integer(), nullable=True),
        sa.Column("booked_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "awaiting_approval",
                "offered",
                "confirmed",
                "waiting",
                "cancelled",
                "refused",
                "offer_lapsed",
                "session_cancelled",
                name="booking_status",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("joined_list_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("price_pence", sa.Integer(), nullable=False),
        sa.Column("charge_pence", sa.Integer(), nullable=False),
        sa.Column(
            "attendance",
            sa.Enum(
                "attended",
                "absent",
                name="attendance",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=True,
        ),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evaluation_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submission_key", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "charge_pence BETWEEN 0 AND 100000000",
            name=op.f("ck_training_booking_booking_charge_in_range"),
        ),
        sa.CheckConstraint(
            "price_pence BETWEEN 0 AND 100000000",
            name=op.f("ck_training_booking_booking_price_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["attendee_user_id"],
            ["user_account.id"],
            name=op.f("fk_training_booking_attendee_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["booked_by_id"],
            ["user_account.id"],
            name=op.f("fk_training_booking_booked_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_training_booking_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_training_booking_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["course_session.id"],
            name=op.f("fk_training_booking_session_id_course_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_booking")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_training_booking_submission_key")),
    )
    with op.batch_alter_table("training_booking", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_booking_attendee_user_id"), ["attendee_user_id"], unique=False
        )
        batch_op.create_index("ix_training_booking_email", ["attendee_email"], unique=False)
        batch_op.create_index(
            "ix_training_booking_offer_expiry", ["status", "offer_expires_at"], unique=False
        )
        batch_op.create_index(
            "ix_training_booking_school", ["school_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_training_booking_session", ["session_id", "status", "joined_list_at"], unique=False
        )
        batch_op.create_index(
            "uq_training_booking_live_attendee",
            ["session_id", "attendee_email"],
            unique=True,
            postgresql_where=sa.text(LIVE_BOOKING),
            sqlite_where=sa.text(LIVE_BOOKING),
        )

    op.create_table(
        "supply_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("half_days", sa.Integer(), nullable=False),
        sa.Column("cost_pence", sa.Integer(), nullable=False),
        sa.Column("agency_reference", sa.String(length=100), nullable=False),
        sa.Column("evidence_filename", sa.String(length=255), nullable=False),
        sa.Column("evidence_type", sa.String(length=100), nullable=False),
        sa.Column("evidence_bytes", sa.Integer(), nullable=False),
        sa.Column("evidence_path", sa.String(length=500), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "submitted",
                "approved",
                "part_approved",
                "refused",
                "paid",
                name="claim_status",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("approved_pence", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("claimed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payment_batch_id", sa.Integer(), nullable=True),
        sa.Column("submission_key", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "approved_pence IS NULL OR approved_pence BETWEEN 0 AND cost_pence",
            name=op.f("ck_supply_claim_claim_approved_in_range"),
        ),
        sa.CheckConstraint(
            "cost_pence BETWEEN 1 AND 100000000", name=op.f("ck_supply_claim_claim_cost_in_range")
        ),
        sa.CheckConstraint(
            "half_days BETWEEN 1 AND 20", name=op.f("ck_supply_claim_claim_half_days_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["training_booking.id"],
            name=op.f("fk_supply_claim_booking_id_training_booking"),
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by_id"],
            ["user_account.id"],
            name=op.f("fk_supply_claim_claimed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_supply_claim_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["fund_id"], ["supply_fund.id"], name=op.f("fk_supply_claim_fund_id_supply_fund")
        ),
        sa.ForeignKeyConstraint(
            ["payment_batch_id"],
            ["supply_payment_batch.id"],
            name=op.f("fk_supply_claim_payment_batch_id_supply_payment_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_supply_claim_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_claim")),
        sa.UniqueConstraint("fund_id", "booking_id", name=op.f("uq_supply_claim_fund_id")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_supply_claim_submission_key")),
    )
    with op.batch_alter_table("supply_claim", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_claim_booking_id"), ["booking_id"], unique=False
        )
        batch_op.create_index(
            "ix_supply_claim_fund_status", ["fund_id", "status", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supply_claim_payment_batch_id"), ["payment_batch_id"], unique=False
        )
        batch_op.create_index("ix_supply_claim_school", ["school_id", "created_at"], unique=False)

    op.create_table(
        "training_evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("overall", sa.Integer(), nullable=False),
        sa.Column("met_outcomes", sa.Integer(), nullable=False),
        sa.Column("will_use", sa.Text(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "met_outcomes BETWEEN 1 AND 5",
            name=op.f("ck_training_evaluation_evaluation_outcomes_in_range"),
        ),
        sa.CheckConstraint(
            "overall BETWEEN 1 AND 5",
            name=op.f("ck_training_evaluation_evaluation_overall_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["training_booking.id"],
            name=op.f("fk_training_evaluation_booking_id_training_booking"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_evaluation")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_training_evaluation_booking_id")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("attachment_type", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("attachment", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM membership_invitation WHERE role = 'training_coordinator'"))
    op.execute(sa.text("DELETE FROM membership WHERE role = 'training_coordinator'"))
    _role_checks(ROLES_BEFORE, ("publisher", "la_admin"))
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("attachment")
        batch_op.drop_column("attachment_type")
        batch_op.drop_column("attachment_name")

    op.drop_table("training_evaluation")
    with op.batch_alter_table("supply_claim", schema=None) as batch_op:
        batch_op.drop_index("ix_supply_claim_school")
        batch_op.drop_index(batch_op.f("ix_supply_claim_payment_batch_id"))
        batch_op.drop_index("ix_supply_claim_fund_status")
        batch_op.drop_index(batch_op.f("ix_supply_claim_booking_id"))

    op.drop_table("supply_claim")
    with op.batch_alter_table("training_booking", schema=None) as batch_op:
        batch_op.drop_index("ix_training_booking_session")
        batch_op.drop_index("uq_training_booking_live_attendee")
        batch_op.drop_index("ix_training_booking_school")
        batch_op.drop_index("ix_training_booking_offer_expiry")
        batch_op.drop_index("ix_training_booking_email")
        batch_op.drop_index(batch_op.f("ix_training_booking_attendee_user_id"))

    op.drop_table("training_booking")
    with op.batch_alter_table("supply_fund_course", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_fund_course_course_id"))

    op.drop_table("supply_fund_course")
    with op.batch_alter_table("course_session", schema=None) as batch_op:
        batch_op.drop_index("ix_course_session_starts_at")
        batch_op.drop_index("ix_course_session_course")
        batch_op.drop_index(batch_op.f("ix_course_session_area_id"))

    op.drop_table("course_session")
    with op.batch_alter_table("supply_payment_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_payment_batch_fund_id"))

    op.drop_table("supply_payment_batch")
    with op.batch_alter_table("supply_fund_allocation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_fund_allocation_school_id"))

    op.drop_table("supply_fund_allocation")
    op.drop_table("school_training_settings")
    op.drop_table("course")
    op.drop_table("supply_fund")
