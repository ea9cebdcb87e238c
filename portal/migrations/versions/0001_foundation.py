"""foundation: areas, trusts, schools, users, memberships, audit

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-22 12:48:42.777111
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_foundation"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_area")),
        sa.UniqueConstraint("code", name=op.f("uq_area_code")),
        sa.UniqueConstraint("name", name=op.f("uq_area_name")),
    )
    op.create_table(
        "trust",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("group_uid", sa.String(length=20), nullable=True),
        sa.Column("companies_house_number", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust")),
        sa.UniqueConstraint("group_uid", name=op.f("uq_trust_group_uid")),
    )
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_signed_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
    )
    # One account per address whatever its case.
    op.create_index(
        "uq_user_account_email_lower", "user_account", [sa.text("lower(email)")], unique=True
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_audit_event_actor_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_event_occurred_at"), ["occurred_at"], unique=False
        )

    op.create_table(
        "school",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("urn", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "establishment_type",
            sa.Enum(
                "Community school",
                "Foundation school",
                "Voluntary aided school",
                "Voluntary controlled school",
                "Community special school",
                "Foundation special school",
                "Local authority nursery school",
                "Pupil referral unit",
                "Academy converter",
                "Academy sponsor led",
                "Academy special converter",
                "Academy special sponsor led",
                "Academy alternative provision converter",
                "Academy alternative provision sponsor led",
                "Academy 16-19 converter",
                "Academy 16 to 19 sponsor led",
                "Free schools",
                "Free schools special",
                "Free schools alternative provision",
                "Free schools 16 to 19",
                "University technical college",
                "Studio schools",
                name="establishment_type",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column(
            "phase",
            sa.Enum(
                "Nursery",
                "Primary",
                "Middle deemed primary",
                "Secondary",
                "Middle deemed secondary",
                "16 plus",
                "All-through",
                "Not applicable",
                name="phase",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("pupils_on_roll", sa.Integer(), nullable=False),
        sa.Column("postcode", sa.String(length=8), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "closed",
                name="school_status",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("pupils_on_roll >= 0", name=op.f("ck_school_pupils_not_negative")),
        sa.CheckConstraint("urn BETWEEN 100000 AND 999999", name=op.f("ck_school_urn_six_digits")),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name=op.f("fk_school_area_id_area")),
        sa.ForeignKeyConstraint(["trust_id"], ["trust.id"], name=op.f("fk_school_trust_id_trust")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school")),
        sa.UniqueConstraint("urn", name=op.f("uq_school_urn")),
    )
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_area_id"), ["area_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_school_trust_id"), ["trust_id"], unique=False)

    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "school_staff",
                "head_teacher",
                "trust_lead",
                "caf_officer",
                "publisher",
                "la_admin",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("trust_id", sa.Integer(), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(role IN ('school_staff', 'head_teacher') AND school_id IS NOT NULL AND trust_id IS NULL AND area_id IS NULL) OR (role = 'trust_lead' AND trust_id IS NOT NULL AND school_id IS NULL AND area_id IS NULL) OR (role = 'caf_officer' AND area_id IS NOT NULL AND school_id IS NULL AND trust_id IS NULL) OR (role IN ('publisher', 'la_admin') AND school_id IS NULL AND trust_id IS NULL AND area_id IS NULL)",
            name=op.f("ck_membership_organisation_matches_role"),
        ),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name=op.f("fk_membership_area_id_area")),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_membership_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trust.id"], name=op.f("fk_membership_trust_id_trust")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_membership_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_area_id"), ["area_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_membership_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_membership_trust_id"), ["trust_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_membership_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_user_id"))
        batch_op.drop_index(batch_op.f("ix_membership_trust_id"))
        batch_op.drop_index(batch_op.f("ix_membership_school_id"))
        batch_op.drop_index(batch_op.f("ix_membership_area_id"))

    op.drop_table("membership")
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_trust_id"))
        batch_op.drop_index(batch_op.f("ix_school_area_id"))

    op.drop_table("school")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_event_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))

    op.drop_table("audit_event")
    op.drop_index("uq_user_account_email_lower", table_name="user_account")
    op.drop_table("user_account")
    op.drop_table("trust")
    op.drop_table("area")
