"""submission totals: a whole buy-back choice may come to more than an INTEGER of pence

Revision ID: 0018_submission_totals
Revises: 0017_buyback_season
Create Date: 2026-12-07 00:30:00.000000

Each service in a choice is capped at £2,000,000.00 (portal.pricing.MAX_QUOTE_PENCE),
but a choice of a dozen such services comes to more than PostgreSQL's INTEGER holds
(2,147,483,647 pence, £21,474,836.47), and submitting it failed with a server error. Its
totals become BIGINT on PostgreSQL; SQLite's INTEGER is 64-bit already, so nothing changes
there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_submission_totals"
down_revision: str | None = "0017_buyback_season"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("net_pence", "vat_pence")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in _COLUMNS:
        op.alter_column(
            "buyback_submission",
            column,
            existing_type=sa.Integer(),
            type_=sa.BigInteger(),
            existing_nullable=False,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # A total too large for an INTEGER cannot go back: it would be refused here, loudly,
    # rather than cut short.
    for column in _COLUMNS:
        op.alter_column(
            "buyback_submission",
            column,
            existing_type=sa.BigInteger(),
            type_=sa.Integer(),
            existing_nullable=False,
        )
