"""The contacts directory: who schools call for what, in which areas."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Computed,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, utcnow
from portal.models.accounts import User
from portal.models.base import stored_enum
from portal.models.schools import Area


class ContactGroup(enum.StrEnum):
    """What a contact helps with: how a school's contacts are grouped on its page and poster."""

    EARLY_HELP = "Early help and the CAF"
    FAMILIES = "Families and young people"
    SAFEGUARDING = "Children's social care"
    ATTENDANCE = "Attendance and welfare"
    SEN = "Special educational needs and psychology"
    SPECIALISTS = "Countywide specialists"


class ContactRole(enum.StrEnum):
    CAF_OFFICER = "caf_officer"
    EARLY_INTERVENTION_PRIMARY = "early_intervention_primary"
    EARLY_INTERVENTION_SECONDARY = "early_intervention_secondary"
    FAMILY_SUPPORT = "family_support"
    TARGETED_YOUTH_SUPPORT = "targeted_youth_support"
    CHILDRENS_TEAM = "childrens_team"
    EDUCATION_SOCIAL_WORK = "education_social_work"
    EDUCATIONAL_PSYCHOLOGY = "educational_psychology"
    SEN_TEAM = "sen_team"
    SPECIALIST = "specialist"

    @property
    def label(self) -> str:
        return CONTACT_ROLE_LABELS[self][0]

    @property
    def group(self) -> ContactGroup:
        return CONTACT_ROLE_LABELS[self][1]


CONTACT_ROLE_LABELS: dict[ContactRole, tuple[str, ContactGroup]] = {
    ContactRole.CAF_OFFICER: ("CAF officer", ContactGroup.EARLY_HELP),
    ContactRole.EARLY_INTERVENTION_PRIMARY: (
        "Early intervention operations manager (primary)",
        ContactGroup.EARLY_HELP,
    ),
    ContactRole.EARLY_INTERVENTION_SECONDARY: (
        "Early intervention operations manager (secondary)",
        ContactGroup.EARLY_HELP,
    ),
    ContactRole.FAMILY_SUPPORT: ("Family support", ContactGroup.FAMILIES),
    ContactRole.TARGETED_YOUTH_SUPPORT: ("Targeted youth support", ContactGroup.FAMILIES),
    ContactRole.CHILDRENS_TEAM: ("Children's team", ContactGroup.SAFEGUARDING),
    ContactRole.EDUCATION_SOCIAL_WORK: ("Education social work", ContactGroup.ATTENDANCE),
    ContactRole.EDUCATIONAL_PSYCHOLOGY: ("Educational psychology", ContactGroup.SEN),
    ContactRole.SEN_TEAM: ("SEN team", ContactGroup.SEN),
    ContactRole.SPECIALIST: ("Countywide specialist", ContactGroup.SPECIALISTS),
}

# Contact.search_text, as the database works it out (migration 0020 says the same).
CONTACT_SEARCH_TEXT = (
    "lower(name || '\n' || coalesce(job_title, '') || '\n' || help_with || '\n' || email)"
)

contact_area = Table(
    "contact_area",
    Base.metadata,
    Column("contact_id", ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("area.id"), primary_key=True, index=True),
)


# One row: a number the database replaces with one never used before whenever contacts, the
# areas they serve or the areas' names change (triggers, migration 0021). What is worked out
# from the directory for one number is what the directory held at that number
# (portal.contacts.cards.directory_version).
contact_directory = Table(
    "contact_directory",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)


class Contact(Base):
    """A person or team that schools contact: in some areas, or countywide."""

    __tablename__ = "contact"
    __table_args__ = (Index("ix_contact_retired_role", "retired_at", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    job_title: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[ContactRole] = mapped_column(stored_enum(ContactRole, "contact_role"))
    help_with: Mapped[str] = mapped_column(Text)
    # E.164 ('+441214960001'), shown in the national format: one spelling to search and dial.
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    out_of_hours: Mapped[str | None] = mapped_column(String(300))
    countywide: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    last_checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What a search looks in, lower-cased once when the contact is written: ILIKE on four
    # columns lower-cased every row of the directory for every search (most of its time,
    # at a large council's scale). A line break between the parts, which a search (its
    # spaces made single, ContactSearch) cannot hold, so no match spans two of them. Kept by
    # the database; never loaded with a Contact.
    search_text: Mapped[str] = mapped_column(
        Text, Computed(CONTACT_SEARCH_TEXT, persisted=True), deferred=True
    )

    areas: Mapped[list[Area]] = relationship(
        secondary=contact_area, lazy="selectin", order_by="Area.name"
    )
    # Shown only on a contact's page, the "needs checking" list and the CSV export, which
    # load it with the contacts; every other list of contacts leaves it be.
    last_checked_by: Mapped[User | None] = relationship()

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    @property
    def coverage(self) -> str:
        if self.countywide:
            return "Countywide"
        return ", ".join(area.name for area in self.areas)

    def __repr__(self) -> str:
        return f"<Contact {self.id} {self.name}>"
