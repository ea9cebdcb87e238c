"""The services the council offers schools: categories, services, each year's offer and
its price options, and who each service is for."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, utcnow
from portal.models.base import stored_enum
from portal.models.schools import (
    SPECIAL_MAINTAINED,
    EstablishmentGroup,
    EstablishmentType,
    Phase,
    School,
)

# One row: a number the database replaces with one never used before whenever services'
# offers or categories change (triggers, migration 0023): what the catalogue's filters offer
# (its years, their counts of offers, its categories) is worked out once per number
# (portal.services.catalogue catalogue_choices).
catalogue_version = Table(
    "catalogue_version",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)


class ServiceKind(enum.StrEnum):
    STATUTORY = "statutory"
    DISCRETIONARY = "discretionary"
    TRADED = "traded"

    @property
    def label(self) -> str:
        return {
            ServiceKind.STATUTORY: "Free: statutory",
            ServiceKind.DISCRETIONARY: "Free: discretionary",
            ServiceKind.TRADED: "Traded",
        }[self]


class Eligibility(enum.StrEnum):
    """Who a service is for, in the words schools use of themselves."""

    MAINTAINED = "maintained"
    ACADEMY = "academy"
    FREE_SCHOOL = "free_school"
    SPECIAL = "special"
    NURSERY = "nursery"

    @property
    def label(self) -> str:
        return {
            Eligibility.MAINTAINED: "Maintained schools",
            Eligibility.ACADEMY: "Academies",
            Eligibility.FREE_SCHOOL: "Free schools",
            Eligibility.SPECIAL: "Special schools",
            Eligibility.NURSERY: "Nursery schools",
        }[self]


def eligibility_of(school: School) -> set[Eligibility]:
    """The eligibility groups a school belongs to (a special academy is both)."""
    kind = school.establishment_type
    found = set()
    if kind.group is EstablishmentGroup.ACADEMY:
        found.add(Eligibility.ACADEMY)
    elif kind.group is EstablishmentGroup.FREE_SCHOOL:
        found.add(Eligibility.FREE_SCHOOL)
    else:
        found.add(Eligibility.MAINTAINED)
    if kind in SPECIAL_MAINTAINED or "special" in kind.value.lower():
        found.add(Eligibility.SPECIAL)
    if kind is EstablishmentType.NURSERY or school.phase is Phase.NURSERY:
        found.add(Eligibility.NURSERY)
    return found


def _new_uuid() -> str:
    return str(uuid.uuid4())


class ServiceCategory(Base):
    __tablename__ = "service_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Open Referral identifies records by UUID; ours stay stable once published.
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=_new_uuid)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str | None] = mapped_column(String(300))


class Service(Base):
    """A service the council gives schools: free (statutory or by choice) or traded."""

    __tablename__ = "service"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=_new_uuid)
    name: Mapped[str] = mapped_column(String(200))
    category_id: Mapped[int] = mapped_column(ForeignKey("service_category.id"), index=True)
    kind: Mapped[ServiceKind] = mapped_column(stored_enum(ServiceKind, "service_kind"))
    summary: Mapped[str] = mapped_column(String(300))
    included: Mapped[str] = mapped_column(Text)
    standards: Mapped[str | None] = mapped_column(Text)
    statutory_duties: Mapped[str | None] = mapped_column(Text)
    provider_team: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    # Empty lists mean everyone: every kind of school, every phase.
    eligible: Mapped[list[str]] = mapped_column(JSON, default=list)
    phases: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    category: Mapped[ServiceCategory] = relationship(lazy="joined")
    offers: Mapped[list[ServiceOffer]] = relationship(
        back_populates="service", order_by="ServiceOffer.year", cascade="all, delete-orphan"
    )

    def is_available_to(self, school: School) -> bool:
        return available_to(school, self.eligible, self.phases)


def available_to(school: School, eligible: Iterable[str], phases: Iterable[str]) -> bool:
    """Whether a service with these eligibility lists is open to the school (empty: all)."""
    return open_to(
        frozenset(e.value for e in eligibility_of(school)),
        school.phase.value,
        frozenset(eligible),
        frozenset(phases),
    )


def open_to(
    school_groups: frozenset[str],
    school_phase: str,
    eligible: frozenset[str],
    phases: frozenset[str],
) -> bool:
    """available_to, on what a school and a service say already worked out: for a report that
    asks it of every school for every service."""
    if phases and school_phase not in phases:
        return False
    return not eligible or bool(school_groups & eligible)


class OfferStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class TradingDecision(enum.StrEnum):
    NEW = "new"
    CONTINUE = "continue"
    REPRICED = "repriced"
    CEASED = "ceased"

    @property
    def label(self) -> str:
        return {
            TradingDecision.NEW: "New",
            TradingDecision.CONTINUE: "Continue",
            TradingDecision.REPRICED: "Continue, re-priced",
            TradingDecision.CEASED: "Ceased",
        }[self]


class ServiceOffer(Base):
    """A service in one financial year (April to March): its prices and its future."""

    __tablename__ = "service_offer"
    __table_args__ = (
        Index("uq_service_offer_service_year", "service_id", "year", unique=True),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_plausible"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    # The year the financial year starts: 2027 is April 2027 to March 2028, "2027-28".
    year: Mapped[int]
    status: Mapped[OfferStatus] = mapped_column(
        stored_enum(OfferStatus, "offer_status"), default=OfferStatus.DRAFT
    )
    decision: Mapped[TradingDecision] = mapped_column(
        stored_enum(TradingDecision, "trading_decision"), default=TradingDecision.NEW
    )
    vat_applies: Mapped[bool] = mapped_column(default=False)
    # What delivering the service costs the council that year, for the buy-back analysis.
    delivery_cost_pence: Mapped[int | None]
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    service: Mapped[Service] = relationship(back_populates="offers")
    options: Mapped[list[PriceOption]] = relationship(
        back_populates="offer",
        order_by="PriceOption.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def year_label(self) -> str:
        return financial_year_label(self.year)


def financial_year_label(year: int) -> str:
    return f"{year}-{(year + 1) % 100:02d}"


class PricingBasis(enum.StrEnum):
    PER_SCHOOL = "per_school"
    PER_PUPIL = "per_pupil"
    BANDED = "banded"
    FLAT_PLUS_PER_PUPIL = "flat_plus_per_pupil"
    PER_UNIT = "per_unit"

    @property
    def label(self) -> str:
        return {
            PricingBasis.PER_SCHOOL: "Per school",
            PricingBasis.PER_PUPIL: "Per pupil",
            PricingBasis.BANDED: "Banded by pupils on roll",
            PricingBasis.FLAT_PLUS_PER_PUPIL: "Flat fee plus a rate per pupil",
            PricingBasis.PER_UNIT: "Per unit",
        }[self]


class Audience(enum.StrEnum):
    """Which schools a price option is for: a separate academy price is its own option."""

    ALL = "all"
    MAINTAINED = "maintained"
    ACADEMIES = "academies"


class PriceOption(Base):
    """One way to buy an offer, priced on one basis. Every amount is in whole pence.

    ``rates`` holds what the basis needs, as JSON: per-phase pupil rates, bands, unit
    tiers, pack size (see ``portal.services.pricing`` for the shapes).
    """

    __tablename__ = "price_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(
        ForeignKey("service_offer.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(120))
    basis: Mapped[PricingBasis] = mapped_column(stored_enum(PricingBasis, "pricing_basis"))
    audience: Mapped[Audience] = mapped_column(
        stored_enum(Audience, "price_audience"), default=Audience.ALL
    )
    amount_pence: Mapped[int] = mapped_column(default=0)
    per_pupil_pence: Mapped[int] = mapped_column(default=0)
    unit: Mapped[str | None] = mapped_column(String(20))
    minimum_pence: Mapped[int | None]
    rates: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    offer: Mapped[ServiceOffer] = relationship(back_populates="options")
