"""sign-in protection: failures counted per browser the account knows; links to unlock one

Revision ID: 0013_sign_in_protection
Revises: 0012_membership_invitations
Create Date: 2026-12-07 10:00:00.000000

A browser that has completed a sign-in holds a device cookie for the account; its failures
are counted in sign_in_device, apart from the account's count for every other browser
(user_account.failed_sign_ins). While the other browsers are locked out, the owner is
e-mailed a link (an account_token of the new purpose sign_in_unlock) that lets one more
browser sign in.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_sign_in_protection"
down_revision: str | None = "0012_membership_invitations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PURPOSES = ("invitation", "password_reset")
_THIS_TABLE_ONLY = {"resolve_fks": False}


def _purpose(*values: str) -> sa.Enum:
    return sa.Enum(
        *values, name="token_purpose", native_enum=False, create_constraint=True, length=60
    )


def upgrade() -> None:
    op.create_table(
        "sign_in_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("failed_sign_ins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_sign_in_device_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_device")),
        sa.UniqueConstraint("user_id", "device", name=op.f("uq_sign_in_device_user_id")),
    )
    # The purpose is text with a CHECK constraint (not a native enum): a new value is a new
    # constraint, which SQLite makes by copying the table (batch mode). Only this table is
    # read back for the copy: not user_account, whose expression indexes SQLite cannot.
    with op.batch_alter_table("account_token", reflect_kwargs=_THIS_TABLE_ONLY) as batch_op:
        batch_op.alter_column(
            "purpose",
            existing_type=_purpose(*_PURPOSES),
            type_=_purpose(*_PURPOSES, "sign_in_unlock"),
            existing_nullable=False,
        )


def downgrade() -> None:
    op.execute("DELETE FROM account_token WHERE purpose = 'sign_in_unlock'")
    with op.batch_alter_table("account_token", reflect_kwargs=_THIS_TABLE_ONLY) as batch_op:
        batch_op.alter_column(
            "purpose",
            existing_type=_purpose(*_PURPOSES, "sign_in_unlock"),
            type_=_purpose(*_PURPOSES),
            existing_nullable=False,
        )
    op.drop_table("sign_in_device")
