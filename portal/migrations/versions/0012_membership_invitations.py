"""membership invitations: a role offered waits for its owner's answer before it gives access

Revision ID: 0012_membership_invitations
Revises: 0011_data_stamps
Create Date: 2026-12-12 10:00:00.000000

Inviting an address that already had an account used to add the role to it at once, and
inviting a new one made its account at once. Now an invitation is a row of its own
(membership_invitation), for an address, that gives nothing until the person accepts, when
it becomes a membership (of an account made then, for someone new). Each e-mailed link
belongs to one invitation and to no account (account_token.user_id may be empty).

Existing data needs no change: every membership there is was given already, so stays; an
invitation link sent before this (account_token.invitation_id empty) still opens the
account it was sent for, with the roles it was given then. Going down drops the invitations
still waiting for an answer, and their links: they gave no access, so none is lost.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_membership_invitations"
down_revision: str | None = "0011_data_stamps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNRESOLVED = {"resolve_fks": False}


def upgrade() -> None:
    op.create_table(
        "membership_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("invited_name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
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
            name=op.f("ck_membership_invitation_organisation_matches_role"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["area.id"], name=op.f("fk_membership_invitation_area_id_area")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_membership_invitation_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trust.id"], name=op.f("fk_membership_invitation_trust_id_trust")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_invitation")),
    )
    with op.batch_alter_table("membership_invitation", schema=None) as batch_op:
        for column in ("area_id", "email", "school_id", "trust_id"):
            batch_op.create_index(
                batch_op.f(f"ix_membership_invitation_{column}"), [column], unique=False
            )

    # A batch copy on SQLite (it cannot add a foreign key to a table in place); account_token
    # has no expression index for the copy to lose, and the tables it refers to are not read
    # (user_account's case-insensitive index is one SQLite cannot reflect).
    with op.batch_alter_table("account_token", reflect_kwargs=_UNRESOLVED) as batch_op:
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("invitation_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_account_token_invitation_id"), ["invitation_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_account_token_invitation_id_membership_invitation"),
            "membership_invitation",
            ["invitation_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    # The links for invitations still waiting go with them: they belong to no account.
    op.execute(sa.text("DELETE FROM account_token WHERE invitation_id IS NOT NULL"))
    with op.batch_alter_table("account_token", reflect_kwargs=_UNRESOLVED) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_account_token_invitation_id_membership_invitation"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_account_token_invitation_id"))
        batch_op.drop_column("invitation_id")
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("membership_invitation", schema=None) as batch_op:
        for column in ("trust_id", "school_id", "email", "area_id"):
            batch_op.drop_index(batch_op.f(f"ix_membership_invitation_{column}"))
    op.drop_table("membership_invitation")
