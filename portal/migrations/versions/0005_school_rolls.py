"""school rolls by year

Revision ID: 0005_school_rolls
Revises: 0004_services
Create Date: 2026-11-22 13:36:32.098743
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_school_rolls"
down_revision: str | None = "0004_services"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "school_roll",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("pupils_on_roll", sa.Integer(), nullable=False),
        sa.CheckConstraint("pupils_on_roll >= 0", name=op.f("ck_school_roll_pupils_not_negative")),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_school_roll_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_roll")),
    )
    with op.batch_alter_table("school_roll", schema=None) as batch_op:
        batch_op.create_index("uq_school_roll_school_year", ["school_id", "year"], unique=True)


def downgrade() -> None:

    with op.batch_alter_table("school_roll", schema=None) as batch_op:
        batch_op.drop_index("uq_school_roll_school_year")

    op.drop_table("school_roll")
