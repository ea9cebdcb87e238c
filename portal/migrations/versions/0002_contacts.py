"""contacts

Revision ID: 0002_contacts
Revises: 0001_foundation
Create Date: 2026-11-22 13:10:25.832877
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_contacts"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("job_title", sa.String(length=120), nullable=True),
        sa.Column(
            "role",
            sa.Enum(
                "caf_officer",
                "early_intervention_primary",
                "early_intervention_secondary",
                "family_support",
                "targeted_youth_support",
                "childrens_team",
                "education_social_work",
                "educational_psychology",
                "sen_team",
                "specialist",
                name="contact_role",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("help_with", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("out_of_hours", sa.String(length=300), nullable=True),
        sa.Column("countywide", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_checked_by_id", sa.Integer(), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["last_checked_by_id"],
            ["user_account.id"],
            name=op.f("fk_contact_last_checked_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact")),
    )
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_last_checked_at"), ["last_checked_at"], unique=False
        )
        batch_op.create_index("ix_contact_retired_role", ["retired_at", "role"], unique=False)

    op.create_table(
        "contact_area",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["area.id"], name=op.f("fk_contact_area_area_id_area")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
            name=op.f("fk_contact_area_contact_id_contact"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", "area_id", name=op.f("pk_contact_area")),
    )
    with op.batch_alter_table("contact_area", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_area_area_id"), ["area_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("contact_area", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_area_area_id"))

    op.drop_table("contact_area")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_retired_role")
        batch_op.drop_index(batch_op.f("ix_contact_last_checked_at"))

    op.drop_table("contact")
