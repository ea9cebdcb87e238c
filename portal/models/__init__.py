"""The portal's records. Names follow the council's and the DfE's own words."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Computed,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
    func,
    insert,
    text,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.types import Date

from portal.db import Base, UTCDateTime, utcnow


def _enum(enum_class: type[enum.Enum], name: str) -> Enum:
    # Stored as the value's text, not a native enum type, so that adding a value is a plain
    # data change on PostgreSQL and SQLite alike.
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=60,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


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
        if self in _SPECIAL_MAINTAINED:
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


_SPECIAL_MAINTAINED = {EstablishmentType.COMMUNITY_SPECIAL, EstablishmentType.FOUNDATION_SPECIAL}
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


class Role(enum.StrEnum):
    """What a person does in the portal. Each role belongs to one kind of organisation."""

    SCHOOL_STAFF = "school_staff"
    HEAD_TEACHER = "head_teacher"
    TRUST_LEAD = "trust_lead"
    CAF_OFFICER = "caf_officer"
    PUBLISHER = "publisher"
    LA_ADMIN = "la_admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def is_council(self) -> bool:
        return self in (Role.CAF_OFFICER, Role.PUBLISHER, Role.LA_ADMIN)


ROLE_LABELS = {
    Role.SCHOOL_STAFF: "School staff",
    Role.HEAD_TEACHER: "Head teacher",
    Role.TRUST_LEAD: "Trust lead",
    Role.CAF_OFFICER: "CAF officer",
    Role.PUBLISHER: "Service publisher",
    Role.LA_ADMIN: "Council administrator",
}


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
        _enum(EstablishmentType, "establishment_type")
    )
    phase: Mapped[Phase] = mapped_column(_enum(Phase, "phase"))
    pupils_on_roll: Mapped[int] = mapped_column(Integer, default=0)
    postcode: Mapped[str] = mapped_column(String(8))
    status: Mapped[SchoolStatus] = mapped_column(
        _enum(SchoolStatus, "school_status"), default=SchoolStatus.OPEN
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


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Part of the session's identity: raising it ends every session signed in before.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set once a password has been chosen (an invited user has none until they accept).
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Failures from browsers the account does not know, and how long they are refused for
    # (portal/auth/lockout.py): the account's own browsers are counted in SignInDevice.
    failed_sign_ins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The second factor for council staff: a TOTP secret, and hashed one-time recovery codes.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recovery_codes: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # The 30-second time step of the last authenticator code accepted: a code is for one
    # sign-in, so none for this step or an earlier one is accepted again.
    totp_last_step: Mapped[int | None] = mapped_column()

    # Loaded when asked for (the signed-in person's with them, by load_user; a list of
    # accounts with selectinload), not with every User that some other row refers to.
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id}>"


# One account per address whatever its case: Head@Oakfield and head@oakfield are one.
Index("uq_user_account_email_lower", func.lower(User.email), unique=True)
# The accounts list is in name order: one page of it without sorting every account.
Index("ix_user_account_display_name_lower", func.lower(User.display_name), User.id)


class RoleInOrganisation:
    """A role in one organisation (a school, a trust, an area or the council): as a
    :class:`Membership` holds it, and as a :class:`MembershipInvitation` offers it."""

    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trust.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)

    @declared_attr
    def school(cls) -> Mapped[School | None]:
        return relationship(lazy="joined")

    @declared_attr
    def trust(cls) -> Mapped[Trust | None]:
        return relationship(lazy="joined")

    @declared_attr
    def area(cls) -> Mapped[Area | None]:
        return relationship(lazy="joined")

    @property
    def organisation_name(self) -> str:
        organisation = self.school or self.trust or self.area
        return organisation.name if organisation is not None else "the council"


def _organisation_matches_role() -> CheckConstraint:
    return CheckConstraint(
        "(role IN ('school_staff', 'head_teacher') AND school_id IS NOT NULL"
        " AND trust_id IS NULL AND area_id IS NULL)"
        " OR (role = 'trust_lead' AND trust_id IS NOT NULL"
        " AND school_id IS NULL AND area_id IS NULL)"
        " OR (role = 'caf_officer' AND area_id IS NOT NULL"
        " AND school_id IS NULL AND trust_id IS NULL)"
        " OR (role IN ('publisher', 'la_admin') AND school_id IS NULL"
        " AND trust_id IS NULL AND area_id IS NULL)",
        name="organisation_matches_role",
    )


class Membership(RoleInOrganisation, Base):
    """A person's role in one organisation: what they may see and do there.

    Every row grants access (portal/access.py reads them all). A role someone has been
    offered and not yet accepted is a :class:`MembershipInvitation`, never a row here.
    """

    __tablename__ = "membership"
    __table_args__ = (_organisation_matches_role(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )

    user: Mapped[User] = relationship(back_populates="memberships")


class MembershipInvitation(RoleInOrganisation, Base):
    """A role offered to an e-mail address by a head teacher, trust lead or council
    administrator, waiting for an answer. It gives no access: accepted, it becomes a
    :class:`Membership` of the address's account (made then, for someone new) and is gone;
    declined, it stays so that whoever invited them sees the answer.

    It names the address, not an account: nothing written when inviting says whether the
    address had one, and those who manage the organisation see only what they typed.
    """

    __tablename__ = "membership_invitation"
    __table_args__ = (_organisation_matches_role(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # In lower case, as the invite form leaves it.
    email: Mapped[str] = mapped_column(String(254), index=True)
    # The name the inviter typed: what the organisation sees until the person accepts.
    invited_name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The links sent for it: they end with it (withdrawn, or accepted).
    tokens: Mapped[list[AccountToken]] = relationship(
        back_populates="invitation", cascade="all, delete-orphan", passive_deletes=True
    )


class AuditEvent(Base):
    """Who did what to which record, and when. Written once, never changed."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    ip_address: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


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
# (portal.contacts.service.directory_version).
contact_directory = Table(
    "contact_directory",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
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


class Contact(Base):
    """A person or team that schools contact: in some areas, or countywide."""

    __tablename__ = "contact"
    __table_args__ = (Index("ix_contact_retired_role", "retired_at", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    job_title: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[ContactRole] = mapped_column(_enum(ContactRole, "contact_role"))
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


# --- CAF officer support ------------------------------------------------------------------


class SupportKind(enum.StrEnum):
    ADVICE = "advice"
    COMPLETING = "completing"
    TEAM_AROUND_THE_FAMILY = "team_around_the_family"
    LEAD_PROFESSIONAL = "lead_professional"
    TRAINING = "training"

    @property
    def label(self) -> str:
        return SUPPORT_KIND_LABELS[self]


SUPPORT_KIND_LABELS = {
    SupportKind.ADVICE: "Advice on whether to start an early help assessment",
    SupportKind.COMPLETING: "Help completing an early help assessment",
    SupportKind.TEAM_AROUND_THE_FAMILY: "A Team Around the Family meeting",
    SupportKind.LEAD_PROFESSIONAL: "Support for a Lead Professional",
    SupportKind.TRAINING: "Training for staff",
}


class LevelOfNeed(enum.StrEnum):
    """Levels 2a and 2b of the council's thresholds: the ones a CAF is for."""

    CAF = "2a"
    CAF_WITH_LEAD_PROFESSIONAL = "2b"

    @property
    def label(self) -> str:
        return {
            LevelOfNeed.CAF: "Level 2a: early help assessment (CAF)",
            LevelOfNeed.CAF_WITH_LEAD_PROFESSIONAL: (
                "Level 2b: early help assessment with a Lead Professional"
            ),
        }[self]


class Urgency(enum.StrEnum):
    ROUTINE = "routine"
    SOON = "soon"
    URGENT = "urgent"

    @property
    def label(self) -> str:
        return {Urgency.ROUTINE: "Routine", Urgency.SOON: "Soon", Urgency.URGENT: "Urgent"}[self]


class SupportStatus(enum.StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    REDIRECTED = "redirected"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_open(self) -> bool:
        return self not in (SupportStatus.CLOSED, SupportStatus.REDIRECTED)


class SupportOutcome(enum.StrEnum):
    ASSESSMENT_STARTED = "assessment_started"
    ADVICE_GIVEN = "advice_given"
    STEPPED_UP = "stepped_up"
    NO_FURTHER_ACTION = "no_further_action"

    @property
    def label(self) -> str:
        return {
            SupportOutcome.ASSESSMENT_STARTED: "Early help assessment started",
            SupportOutcome.ADVICE_GIVEN: "Advice given",
            SupportOutcome.STEPPED_UP: "Stepped up to children's social care",
            SupportOutcome.NO_FURTHER_ACTION: "No further action",
        }[self]


class RedirectReason(enum.StrEnum):
    ANOTHER_AREA = "another_area"
    FRONT_DOOR = "front_door"

    @property
    def label(self) -> str:
        return {
            RedirectReason.ANOTHER_AREA: "Belongs to another area",
            RedirectReason.FRONT_DOOR: "Sent to the children's services front door",
        }[self]


# The open requests, as SQL (the partial indexes of migration 0022).
OPEN_SUPPORT_REQUESTS = "status IN ('new', 'acknowledged', 'in_progress')"


class SupportRequest(Base):
    """A school's request for a CAF officer's support with one child (or with training).

    The child is never named: initials and year group only. ``version`` is checked on every
    update, so two officers working on the request at once cannot overwrite each other.
    """

    __tablename__ = "support_request"
    __table_args__ = (
        Index("ix_support_request_area_status", "area_id", "status", "submitted_at"),
        # The open requests of an area in the queue's orders (migration 0022).
        *(
            Index(
                f"ix_support_request_open_{column}",
                "area_id",
                column,
                "id",
                postgresql_where=text(OPEN_SUPPORT_REQUESTS),
                sqlite_where=text(OPEN_SUPPORT_REQUESTS),
            )
            for column in ("respond_by", "submitted_at")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    # One per "check your answers" page: a second press of submit finds the first request.
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[SupportKind] = mapped_column(_enum(SupportKind, "support_kind"))
    consent: Mapped[bool]
    child_initials: Mapped[str | None] = mapped_column(String(4))
    child_year_group: Mapped[str | None] = mapped_column(String(20))
    level_of_need: Mapped[LevelOfNeed | None] = mapped_column(_enum(LevelOfNeed, "level_of_need"))
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    urgency: Mapped[Urgency] = mapped_column(_enum(Urgency, "urgency"))
    contact_by: Mapped[str] = mapped_column(String(10))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contact_times: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)
    status: Mapped[SupportStatus] = mapped_column(
        _enum(SupportStatus, "support_status"), default=SupportStatus.NEW
    )
    meeting_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[SupportOutcome | None] = mapped_column(_enum(SupportOutcome, "support_outcome"))
    redirect_reason: Mapped[RedirectReason | None] = mapped_column(
        _enum(RedirectReason, "redirect_reason")
    )
    assigned_officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), index=True
    )
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    respond_by: Mapped[date] = mapped_column(Date)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    school: Mapped[School] = relationship(lazy="joined")
    area: Mapped[Area] = relationship(lazy="joined")
    requester: Mapped[User] = relationship(foreign_keys=[requester_id], lazy="joined")
    assigned_officer: Mapped[User | None] = relationship(
        foreign_keys=[assigned_officer_id], lazy="joined"
    )
    events: Mapped[list[SupportEvent]] = relationship(
        back_populates="request", order_by="SupportEvent.id", cascade="all, delete-orphan"
    )

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


# How many requests each area has of each status, kept by the database's triggers in the
# statement of every change to a request (migration 0022): what a count of the rows gives,
# in the same transaction, without visiting them (portal.support.service.queue).
support_request_count = Table(
    "support_request_count",
    Base.metadata,
    Column("area_id", Integer, primary_key=True),
    Column("status", String(20), primary_key=True),
    Column("n", Integer, nullable=False),
)


class SupportEvent(Base):
    """One entry on a request's timeline: a change of status, or a note."""

    __tablename__ = "support_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("support_request.id", ondelete="CASCADE"), index=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    from_status: Mapped[SupportStatus | None] = mapped_column(
        _enum(SupportStatus, "support_event_from_status")
    )
    to_status: Mapped[SupportStatus | None] = mapped_column(
        _enum(SupportStatus, "support_event_to_status")
    )
    note: Mapped[str | None] = mapped_column(Text)
    # A note the school may read; otherwise it is private to the council.
    shared_with_school: Mapped[bool] = mapped_column(default=True)
    # The request was given to ``assigned_to`` (to nobody, when that is None): an officer's
    # work, which the school does not see.
    assignment: Mapped[bool] = mapped_column(default=False, server_default=false())
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    request: Mapped[SupportRequest] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id], lazy="joined")


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Base):
    """An e-mail to send, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(
        _enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))


# --- services for schools -------------------------------------------------------------------


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
    if kind in _SPECIAL_MAINTAINED or "special" in kind.value.lower():
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
    kind: Mapped[ServiceKind] = mapped_column(_enum(ServiceKind, "service_kind"))
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
        _enum(OfferStatus, "offer_status"), default=OfferStatus.DRAFT
    )
    decision: Mapped[TradingDecision] = mapped_column(
        _enum(TradingDecision, "trading_decision"), default=TradingDecision.NEW
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
    basis: Mapped[PricingBasis] = mapped_column(_enum(PricingBasis, "pricing_basis"))
    audience: Mapped[Audience] = mapped_column(
        _enum(Audience, "price_audience"), default=Audience.ALL
    )
    amount_pence: Mapped[int] = mapped_column(default=0)
    per_pupil_pence: Mapped[int] = mapped_column(default=0)
    unit: Mapped[str | None] = mapped_column(String(20))
    minimum_pence: Mapped[int | None]
    rates: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    offer: Mapped[ServiceOffer] = relationship(back_populates="options")


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


# --- buy-back -------------------------------------------------------------------------------------


class Cohort(enum.StrEnum):
    """Which schools a buy-back window is for: councils often run academies separately."""

    MAINTAINED = "maintained"
    ACADEMIES = "academies"
    ALL = "all"

    @property
    def label(self) -> str:
        return {
            Cohort.MAINTAINED: "Maintained schools",
            Cohort.ACADEMIES: "Academies and free schools",
            Cohort.ALL: "All schools",
        }[self]

    def includes(self, school: School) -> bool:
        if self is Cohort.ALL:
            return True
        return school.is_academy == (self is Cohort.ACADEMIES)


class BuybackWindow(Base):
    """When schools may choose what to buy for a financial year."""

    __tablename__ = "buyback_window"
    __table_args__ = (CheckConstraint("closes_at > opens_at", name="closes_after_opening"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    cohort: Mapped[Cohort] = mapped_column(_enum(Cohort, "buyback_cohort"))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Days before the deadline that schools not yet submitted are reminded, like [14, 3];
    # None: the council's default (BUYBACK_REMINDER_DAYS).
    reminder_days: Mapped[list[int] | None] = mapped_column(JSON)

    @property
    def year_label(self) -> str:
        return financial_year_label(self.year)

    def state(self, now: datetime) -> str:
        """'upcoming', 'open' or 'closed', by the server's clock."""
        if now < self.opens_at:
            return "upcoming"
        return "open" if now < self.closes_at else "closed"


class ChoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class BuybackChoice(Base):
    """One school's choices in one window: a draft, then submitted (and resubmitted)."""

    __tablename__ = "buyback_choice"
    __table_args__ = (
        Index("uq_buyback_choice_school_window", "school_id", "window_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("buyback_window.id"), index=True)
    status: Mapped[ChoiceStatus] = mapped_column(
        _enum(ChoiceStatus, "choice_status"), default=ChoiceStatus.DRAFT
    )
    purchase_order: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)
    # Since when the saved choice differs from what was last submitted (None: it does not),
    # and when the people who submit were e-mailed that staff had changed it: once a run.
    unsent_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsent_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    school: Mapped[School] = relationship(lazy="joined")
    window: Mapped[BuybackWindow] = relationship(lazy="joined")
    updated_by: Mapped[User | None] = relationship(lazy="joined")
    lines: Mapped[list[BuybackLine]] = relationship(
        back_populates="choice", cascade="all, delete-orphan", lazy="selectin"
    )
    submissions: Mapped[list[BuybackSubmission]] = relationship(
        back_populates="choice", order_by="BuybackSubmission.number", cascade="all, delete-orphan"
    )

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class BuybackLine(Base):
    """A school's explicit answer for one traded service: buying (which option, how many)
    or not buying. Prices are frozen on it when the choice is submitted."""

    __tablename__ = "buyback_line"
    __table_args__ = (
        Index("uq_buyback_line_choice_service", "choice_id", "service_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    choice_id: Mapped[int] = mapped_column(ForeignKey("buyback_choice.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    buying: Mapped[bool | None]
    option_id: Mapped[int | None] = mapped_column(ForeignKey("price_option.id"))
    quantity: Mapped[int] = mapped_column(default=1)
    net_pence: Mapped[int | None]
    vat_pence: Mapped[int | None]
    # Who last changed the answer (buying, option or how many), and when: a save that leaves
    # it as it was does not count.
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    choice: Mapped[BuybackChoice] = relationship(back_populates="lines")
    # Loaded only when asked for: a choice page reads a hundred lines and needs only their ids.
    service: Mapped[Service] = relationship()
    option: Mapped[PriceOption | None] = relationship()


_WHOLE_CHOICE_PENCE = BigInteger().with_variant(Integer(), "sqlite")


class BuybackSubmission(Base):
    """Each submission of a choice, kept: what was bought, at what frozen price, by whom."""

    __tablename__ = "buyback_submission"
    __table_args__ = (
        Index("uq_buyback_submission_choice_number", "choice_id", "number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    choice_id: Mapped[int] = mapped_column(ForeignKey("buyback_choice.id", ondelete="CASCADE"))
    number: Mapped[int]
    # One per rendered choice page: a second press of submit finds this submission.
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    purchase_order: Mapped[str | None] = mapped_column(String(40))
    # [{service, option, quantity, net_pence, vat_pence}] as they stood when submitted.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The whole choice: each line is at most MAX_QUOTE_PENCE (£2m), and a dozen of those is
    # more than PostgreSQL's INTEGER holds (£21,474,836.47). SQLite's INTEGER is 64-bit.
    net_pence: Mapped[int] = mapped_column(_WHOLE_CHOICE_PENCE)
    vat_pence: Mapped[int] = mapped_column(_WHOLE_CHOICE_PENCE)

    choice: Mapped[BuybackChoice] = relationship(back_populates="submissions")
    submitted_by: Mapped[User] = relationship(lazy="joined")


class BuybackSubmissionAnswer(Base):
    """Each service's yes or no in a submission, and what it came to: its ``lines`` as rows.

    Written with the submission (below) and never changed, like it; the lines stay the record
    (options, quantities, VAT, the names as they were). These rows are for adding up: the
    buy-back analysis totals a window's latest submissions in the database, by index,
    rather than reading every line of every school into Python.
    """

    __tablename__ = "buyback_submission_answer"

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("buyback_submission.id", ondelete="CASCADE"), primary_key=True
    )
    # The service as the lines name it (no foreign key, as there: a record of what was said).
    service_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    buying: Mapped[bool]
    net_pence: Mapped[int]
    # The option and how many, as sent, with the option's name and unit as they were: a task
    # list compares the saved answers with these, and says what each changed one was, without
    # reading the lines (migration 0024).
    option_id: Mapped[int | None]
    option_name: Mapped[str | None] = mapped_column(String(120))
    unit: Mapped[str | None] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(default=1, server_default="1")


def submission_answers(submission_id: int, lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answer rows of a submission's frozen ``lines``: one per service answered yes or no
    (a line without an answer is none), the last line of a service standing."""
    answers: dict[int, dict[str, Any]] = {}
    for line in lines:
        buying = line.get("buying")
        if isinstance(buying, bool):
            service_id = int(line["service_id"])
            option_id = line.get("option_id")
            answers[service_id] = {
                "submission_id": submission_id,
                "service_id": service_id,
                "buying": buying,
                "net_pence": int(line.get("net_pence") or 0),
                "option_id": None if option_id is None else int(option_id),
                "option_name": line.get("option"),
                "unit": line.get("unit"),
                "quantity": int(line.get("quantity") or 1),
            }
    return list(answers.values())


@event.listens_for(BuybackSubmission, "after_insert")
def _write_answers(_mapper: Any, connection: Any, submission: BuybackSubmission) -> None:
    # Every submission the ORM writes gets its rows in the same transaction; bulk writers
    # (seed-scale) call submission_answers themselves.
    rows = submission_answers(submission.id, submission.lines or [])
    if rows:
        connection.execute(insert(BuybackSubmissionAnswer.__table__), rows)


class BuybackReminder(Base):
    """A reminder that went to someone at (or over) a school for a window, so many days
    before its deadline: each sent once, whatever runs it again."""

    __tablename__ = "buyback_reminder"
    __table_args__ = (
        Index(
            "uq_buyback_reminder_school_window_days",
            "school_id",
            "window_id",
            "days_before",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    window_id: Mapped[int] = mapped_column(ForeignKey("buyback_window.id"))
    days_before: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- accounts and the schools register ------------------------------------------------------


class TokenPurpose(enum.StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105  (a purpose, not a password)
    # Lets one more browser sign in while those the account does not know are locked out.
    SIGN_IN_UNLOCK = "sign_in_unlock"


class AccountToken(Base):
    """A single-use link sent by e-mail: to answer an invitation, reset a password, or sign in
    from a new browser while the account is under attack.

    Only a hash of the token is stored, so the table is no use to someone who reads it.
    """

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The account it is for: none for an invitation's link, which is for an address.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[TokenPurpose] = mapped_column(_enum(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The invitation this link answers. None for a reset, and for an invitation's link sent
    # before invitations waited for an answer: that one opens the account it was sent for.
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("membership_invitation.id", ondelete="CASCADE"), index=True
    )

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    invitation: Mapped[MembershipInvitation | None] = relationship(back_populates="tokens")


class SignInDevice(Base):
    """A browser the account knows (it holds the account's device cookie) that has got the
    password or a security code wrong: its own count of failures, apart from the account's
    count for every other browser, and until when it is known no longer.

    Made at such a browser's first failure, removed at its next complete sign-in. The
    cookie's nonce is kept only as a hash.
    """

    __tablename__ = "sign_in_device"
    __table_args__ = (UniqueConstraint("user_id", "device"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    device: Mapped[str] = mapped_column(String(64))
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ImportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"  # a dry run's report is ready to read
    APPLIED = "applied"
    FAILED = "failed"


class RegisterImport(Base):
    """An import of the DfE schools register (GIAS extract): dry run first, then applied."""

    __tablename__ = "register_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    filename: Mapped[str] = mapped_column(String(255))
    # Where the uploaded file is kept (under the instance folder) while it may be applied;
    # "" once it has been removed (applied, failed, superseded or tidied away).
    stored_path: Mapped[str] = mapped_column(String(500))
    dry_run: Mapped[bool] = mapped_column(default=True)
    status: Mapped[ImportStatus] = mapped_column(
        _enum(ImportStatus, "import_status"), default=ImportStatus.QUEUED
    )
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    # Additions, changes, closures, successors flagged for review, and rejected rows (why).
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User | None] = relationship()

    @property
    def keeps_file(self) -> bool:
        """Whether the uploaded file is still here, so that a dry run can be applied."""
        return bool(self.stored_path)


class BuybackWindowFigures(Base):
    """A closed window's figures, kept as they stood when it closed (portal.buyback.analysis).

    What the schools of a window answered is frozen on their submissions, but who the window's
    schools were, what each could buy and which services were offered is not: a school closed
    or converted by a later register import, a service's eligibility changed or an offer
    withdrawn would move a closed window's take-up, and with it the year-on-year comparison.
    So once the deadline has passed the counts are kept here, once, and read from here since.
    Costs of delivery are not kept: the council enters them after the deadline.
    """

    __tablename__ = "buyback_window_figures"

    window_id: Mapped[int] = mapped_column(
        ForeignKey("buyback_window.id", ondelete="CASCADE"), primary_key=True
    )
    # The deadline they were kept at: should it move later (the window extended), they no
    # longer stand, and are kept again when the window closes again.
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kept_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # {"returns": [[school id, state, submitted at, submissions]], "services": [[service id,
    # name, eligible, buying, not buying, net pence]], "by_phase" and "by_type": [[group,
    # service id, name, eligible, buying, not buying, net pence]]}: see the analysis module.
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
