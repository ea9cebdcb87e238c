"""Schools as the DfE register describes them, the trusts they belong to, the council's
areas, and each school's pupils on roll by year."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base
from portal.models.base import stored_enum


class EstablishmentGroup(enum.StrEnum):
    MAINTAINED = "Local authority maintained school"
    SPECIAL = "Special school"
    ACADEMY = "Academy"
    FREE_SCHOOL = "Free school"


class EstablishmentType(enum.StrEnum):
    """The DfE register's 'TypeOfEstablishment (name)' for schools a council works with."""

    COMMUNITY = "Community school"
    FOUNDATION = "Foundation school"
    VOLUNTARY_AIDED = "Voluntary aided school"
    VOLUNTARY_CONTROLLED = "Voluntary controlled school"
    COMMUNITY_SPECIAL = "Community special school"
    FOUNDATION_SPECIAL = "Foundation special school"
    NURSERY = "Local authority nursery school"
    PUPIL_REFERRAL_UNIT = "Pupil referral unit"
    ACADEMY_CONVERTER = "Academy converter"
    ACADEMY_SPONSOR_LED = "Academy sponsor led"
    ACADEMY_SPECIAL_CONVERTER = "Academy special converter"
    ACADEMY_SPECIAL_SPONSOR_LED = "Academy special sponsor led"
    ACADEMY_AP_CONVERTER = "Academy alternative provision converter"
    ACADEMY_AP_SPONSOR_LED = "Academy alternative provision sponsor led"
    ACADEMY_16_19_CONVERTER = "Academy 16-19 converter"
    ACADEMY_16_19_SPONSOR_LED = "Academy 16 to 19 sponsor led"
    FREE_SCHOOL = "Free schools"
    FREE_SCHOOL_SPECIAL = "Free schools special"
    FREE_SCHOOL_AP = "Free schools alternative provision"
    FREE_SCHOOL_16_19 = "Free schools 16 to 19"
    UNIVERSITY_TECHNICAL_COLLEGE = "University technical college"
    STUDIO_SCHOOL = "Studio schools"

    @property
    def group(self) -> EstablishmentGroup:
        if self in SPECIAL_MAINTAINED:
            return EstablishmentGroup.SPECIAL
        if self.name.startswith("ACADEMY"):
            return EstablishmentGroup.ACADEMY
        if self.name.startswith("FREE_SCHOOL") or self in _OTHER_FREE_SCHOOLS:
            return EstablishmentGroup.FREE_SCHOOL
        return EstablishmentGroup.MAINTAINED

    @property
    def is_academy(self) -> bool:
        """Academies and free schools are funded by the DfE, not maintained by the council."""
        return self.group in (EstablishmentGroup.ACADEMY, EstablishmentGroup.FREE_SCHOOL)


SPECIAL_MAINTAINED = {EstablishmentType.COMMUNITY_SPECIAL, EstablishmentType.FOUNDATION_SPECIAL}
_OTHER_FREE_SCHOOLS = {
    EstablishmentType.UNIVERSITY_TECHNICAL_COLLEGE,
    EstablishmentType.STUDIO_SCHOOL,
}


class Phase(enum.StrEnum):
    """The DfE register's 'PhaseOfEducation (name)'."""

    NURSERY = "Nursery"
    PRIMARY = "Primary"
    MIDDLE_DEEMED_PRIMARY = "Middle deemed primary"
    SECONDARY = "Secondary"
    MIDDLE_DEEMED_SECONDARY = "Middle deemed secondary"
    SIXTEEN_PLUS = "16 plus"
    ALL_THROUGH = "All-through"
    NOT_APPLICABLE = "Not applicable"


class SchoolStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Area(Base):
    """A locality: the council's division of its schools into local teams."""

    __tablename__ = "area"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    # The register's 'DistrictAdministrative (name)' values whose schools belong here.
    districts: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

    schools: Mapped[list[School]] = relationship(back_populates="area")

    def __repr__(self) -> str:
        return f"<Area {self.name}>"


class Trust(Base):
    """A multi-academy trust."""

    __tablename__ = "trust"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The register's 'Trusts (code)' (group UID): how an import finds the trust again.
    group_uid: Mapped[str | None] = mapped_column(String(20), unique=True)
    companies_house_number: Mapped[str | None] = mapped_column(String(8))

    schools: Mapped[list[School]] = relationship(back_populates="trust")

    def __repr__(self) -> str:
        return f"<Trust {self.name}>"


class School(Base):
    __tablename__ = "school"
    __table_args__ = (
        CheckConstraint("urn BETWEEN 100000 AND 999999", name="urn_six_digits"),
        CheckConstraint("pupils_on_roll >= 0", name="pupils_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    urn: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    establishment_type: Mapped[EstablishmentType] = mapped_column(
        stored_enum(EstablishmentType, "establishment_type")
    )
    phase: Mapped[Phase] = mapped_column(stored_enum(Phase, "phase"))
    pupils_on_roll: Mapped[int] = mapped_column(Integer, default=0)
    postcode: Mapped[str] = mapped_column(String(8))
    status: Mapped[SchoolStatus] = mapped_column(
        stored_enum(SchoolStatus, "school_status"), default=SchoolStatus.OPEN
    )
    closed_on: Mapped[date | None]
    # From the DfE register: the LA code, the administrative district (to place the school
    # in an area), and why a record needs a person to look at it (e.g. a successor URN).
    la_code: Mapped[str | None] = mapped_column(String(3))
    district: Mapped[str | None] = mapped_column(String(100))
    review_note: Mapped[str | None] = mapped_column(String(300))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trust.id"), index=True)

    area: Mapped[Area] = relationship(back_populates="schools")
    trust: Mapped[Trust | None] = relationship(back_populates="schools")

    @property
    def is_academy(self) -> bool:
        return self.establishment_type.is_academy

    def __repr__(self) -> str:
        return f"<School {self.urn} {self.name}>"


class SchoolRoll(Base):
    """A school's pupils on roll as recorded for a financial year (the census the prices
    for that year are based on)."""

    __tablename__ = "school_roll"
    __table_args__ = (
        Index("uq_school_roll_school_year", "school_id", "year", unique=True),
        CheckConstraint("pupils_on_roll >= 0", name="pupils_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    year: Mapped[int]
    pupils_on_roll: Mapped[int]
