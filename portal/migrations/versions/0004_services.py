"""services, offers and prices

Revision ID: 0004_services
Revises: 0003_support
Create Date: 2026-11-22 13:35:15.977429
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_services"
down_revision: str | None = "0003_support"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "service_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_category")),
        sa.UniqueConstraint("public_id", name=op.f("uq_service_category_public_id")),
        sa.UniqueConstraint("name", name=op.f("uq_service_category_name")),
    )
    op.create_table(
        "service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "statutory",
                "discretionary",
                "traded",
                name="service_kind",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("included", sa.Text(), nullable=False),
        sa.Column("standards", sa.Text(), nullable=True),
        sa.Column("statutory_duties", sa.Text(), nullable=True),
        sa.Column("provider_team", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("contact_phone", sa.String(length=20), nullable=True),
        sa.Column("eligible", sa.JSON(), nullable=False),
        sa.Column("phases", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["service_category.id"],
            name=op.f("fk_service_category_id_service_category"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service")),
        sa.UniqueConstraint("public_id", name=op.f("uq_service_public_id")),
    )
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_category_id"), ["category_id"], unique=False)

    op.create_table(
        "service_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "published",
                "withdrawn",
                name="offer_status",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column(
            "decision",
            sa.Enum(
                "new",
                "continue",
                "repriced",
                "ceased",
                name="trading_decision",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("vat_applies", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "year BETWEEN 2000 AND 2100", name=op.f("ck_service_offer_year_plausible")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_service_offer_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_offer")),
    )
    with op.batch_alter_table("service_offer", schema=None) as batch_op:
        batch_op.create_index("uq_service_offer_service_year", ["service_id", "year"], unique=True)

    op.create_table(
        "price_option",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "basis",
            sa.Enum(
                "per_school",
                "per_pupil",
                "banded",
                "flat_plus_per_pupil",
                "per_unit",
                name="pricing_basis",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column(
            "audience",
            sa.Enum(
                "all",
                "maintained",
                "academies",
                name="price_audience",
                native_enum=False,
                create_constraint=True,
                length=60,
            ),
            nullable=False,
        ),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("per_pupil_pence", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.Column("minimum_pence", sa.Integer(), nullable=True),
        sa.Column("rates", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["service_offer.id"],
            name=op.f("fk_price_option_offer_id_service_offer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_option")),
    )
    with op.batch_alter_table("price_option", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_price_option_offer_id"), ["offer_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("price_option", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_price_option_offer_id"))

    op.drop_table("price_option")
    with op.batch_alter_table("service_offer", schema=None) as batch_op:
        batch_op.drop_index("uq_service_offer_service_year")

    op.drop_table("service_offer")
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_category_id"))

    op.drop_table("service")
    op.drop_table("service_category")
