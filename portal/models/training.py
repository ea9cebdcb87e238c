"""Training for school staff: courses, their sessions, bookings and what follows them
(attendance, an evaluation, a certificate), and supply cover paid to schools from a fund.

Money is whole pence. A booking's price is frozen when the place is booked (what the school
was told it would pay), and what it owes (``charge_pence``) changes only by the rules of
portal/training/charges.py: nothing for a place cancelled in time, the course's late
charge for one cancelled late or not attended.

Longer than most modules: training is one capability with two halves (places on courses,
and the supply-cover fund paid for them), whose tables refer to each other.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base, UTCDateTime
from portal.models.accounts import User
from portal.models.base import stored_enum
from portal.models.schools import Area, School
from portal.models.services import Service

# The largest price of a place, late charge, fund or claim the forms accept: £1,000,000.
MAX_TRAINING_PENCE = 100_000_000


class StaffLevel(enum.StrEnum):
    """Which level of staff a course is for."""

    ALL_STAFF = "all_staff"
    SUPPORT_STAFF = "support_staff"
    TEACHERS = "teachers"
    MIDDLE_LEADERS = "middle_leaders"
    SENIOR_LEADERS = "senior_leaders"
    DESIGNATED_LEADS = "designated_leads"
    GOVERNORS = "governors"

    @property
    def label(self) -> str:
        return STAFF_LEVEL_LABELS[self]


STAFF_LEVEL_LABELS = {
    StaffLevel.ALL_STAFF: "All staff",
    StaffLevel.SUPPORT_STAFF: "Teaching assistants and support staff",
    StaffLevel.TEACHERS: "Teachers",
    StaffLevel.MIDDLE_LEADERS: "Middle leaders",
    StaffLevel.SENIOR_LEADERS: "Senior leaders",
    StaffLevel.DESIGNATED_LEADS: "Designated leads (safeguarding, SENCO, mental health)",
    StaffLevel.GOVERNORS: "Governors",
}


class CourseStatus(enum.StrEnum):
    DRAFT = "draft"  # the coordinator's alone
    PUBLISHED = "published"  # schools find and book it
    WITHDRAWN = "withdrawn"  # no longer offered; its past sessions stay as they were

    @property
    def label(self) -> str:
        return {
            CourseStatus.DRAFT: "Draft",
            CourseStatus.PUBLISHED: "Published",
            CourseStatus.WITHDRAWN: "Withdrawn",
        }[self]


# The courses a supply-cover fund pays towards.
fund_course = Table(
    "supply_fund_course",
    Base.metadata,
    Column("fund_id", Integer, ForeignKey("supply_fund.id", ondelete="CASCADE"), primary_key=True),
    Column("course_id", Integer, ForeignKey("course.id"), primary_key=True, index=True),
)


class Course(Base):
    """A course the council offers school staff, run as one or more sessions."""

    __tablename__ = "course"
    __table_args__ = (
        CheckConstraint(
            f"price_pence BETWEEN 0 AND {MAX_TRAINING_PENCE}", name="course_price_in_range"
        ),
        CheckConstraint(
            "member_price_pence IS NULL OR (member_service_id IS NOT NULL"
            " AND member_price_pence BETWEEN 0 AND price_pence)",
            name="course_member_price_names_service",
        ),
        CheckConstraint(
            f"academy_price_pence IS NULL OR academy_price_pence BETWEEN 0"
            f" AND {MAX_TRAINING_PENCE}",
            name="course_academy_price_in_range",
        ),
        CheckConstraint(
            f"late_charge_pence IS NULL OR late_charge_pence BETWEEN 0 AND {MAX_TRAINING_PENCE}",
            name="course_late_charge_in_range",
        ),
        CheckConstraint("cancellation_days BETWEEN 0 AND 90", name="course_window_in_range"),
        CheckConstraint("duration_minutes BETWEEN 15 AND 7200", name="course_duration"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    # Who it is for, in the council's words ("New designated safeguarding leads"), and the
    # level of staff, which schools filter by.
    audience: Mapped[str] = mapped_column(String(300))
    staff_level: Mapped[StaffLevel] = mapped_column(stored_enum(StaffLevel, "staff_level"))
    # One outcome a line.
    learning_outcomes: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int] = mapped_column(Integer)
    # The price of a place for a maintained school; 0 is free.
    price_pence: Mapped[int] = mapped_column(Integer, default=0)
    # A lower price for schools that buy a named traded service this financial year.
    member_price_pence: Mapped[int | None] = mapped_column(Integer)
    member_service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    # An academy's price, when it differs from a maintained school's.
    academy_price_pence: Mapped[int | None] = mapped_column(Integer)
    # Cancelling fewer than this many days before a session costs the late charge, as does
    # not attending.
    cancellation_days: Mapped[int] = mapped_column(Integer, default=10)
    # The late charge; None means the price of the place (nothing, for a free course).
    late_charge_pence: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[CourseStatus] = mapped_column(
        stored_enum(CourseStatus, "course_status"), default=CourseStatus.DRAFT
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    member_service: Mapped[Service | None] = relationship()
    sessions: Mapped[list[CourseSession]] = relationship(
        back_populates="course", order_by="CourseSession.starts_at"
    )

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}

    @property
    def is_free(self) -> bool:
        return self.price_pence == 0 and not self.academy_price_pence

    @property
    def outcomes(self) -> list[str]:
        return [line.strip() for line in self.learning_outcomes.splitlines() if line.strip()]


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {SessionStatus.SCHEDULED: "Scheduled", SessionStatus.CANCELLED: "Cancelled"}[self]


class CourseSession(Base):
    """One run of a course: when, where (a venue or an online link), for which area, how
    many places, and who trains.

    ``places_taken`` counts the bookings that hold a place (awaiting approval, offered from
    the waiting list, confirmed). It is changed only by a conditional UPDATE in the statement
    that takes or frees a place (portal/training/places.py), so two people booking the last
    place at once cannot both get it, on SQLite or PostgreSQL.
    """

    __tablename__ = "course_session"
    __table_args__ = (
        CheckConstraint("capacity BETWEEN 1 AND 1000", name="session_capacity_in_range"),
        CheckConstraint(
            "places_taken >= 0 AND places_taken <= capacity", name="session_places_in_range"
        ),
        CheckConstraint("ends_at > starts_at", name="session_ends_after_it_starts"),
        CheckConstraint("venue IS NOT NULL OR online_link IS NOT NULL", name="session_has_a_place"),
        Index("ix_course_session_starts_at", "starts_at", "id"),
        Index("ix_course_session_course", "course_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    venue: Mapped[str | None] = mapped_column(String(300))
    online_link: Mapped[str | None] = mapped_column(String(500))
    # The area it is for; None: the whole council's.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)
    capacity: Mapped[int] = mapped_column(Integer)
    places_taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    trainer: Mapped[str] = mapped_column(String(200))
    status: Mapped[SessionStatus] = mapped_column(
        stored_enum(SessionStatus, "session_status"), default=SessionStatus.SCHEDULED
    )
    cancelled_reason: Mapped[str | None] = mapped_column(String(500))
    # Set when the register has been taken: attendance is then marked for every booking.
    register_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    course: Mapped[Course] = relationship(back_populates="sessions")
    area: Mapped[Area | None] = relationship()
    bookings: Mapped[list[Booking]] = relationship(back_populates="session")

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}

    @property
    def places_left(self) -> int:
        return self.capacity - self.places_taken


class BookingStatus(enum.StrEnum):
    """Where a booking stands. The first three hold a place (counted in places_taken)."""

    AWAITING_APPROVAL = "awaiting_approval"  # the school's approver has not answered yet
    OFFERED = "offered"  # a place freed up: theirs if they accept before offer_expires_at
    CONFIRMED = "confirmed"
    WAITING = "waiting"  # on the waiting list, in order of joined_list_at
    CANCELLED = "cancelled"
    REFUSED = "refused"  # the school's approver said no
    OFFER_LAPSED = "offer_lapsed"  # an offered place not taken in time
    SESSION_CANCELLED = "session_cancelled"  # the council cancelled the session

    @property
    def label(self) -> str:
        return BOOKING_STATUS_LABELS[self]

    @property
    def holds_place(self) -> bool:
        return self in PLACE_HOLDING


PLACE_HOLDING = frozenset(
    {BookingStatus.AWAITING_APPROVAL, BookingStatus.OFFERED, BookingStatus.CONFIRMED}
)
# A booking still in play: one person cannot be on a session twice while one of these.
LIVE_BOOKING = PLACE_HOLDING | {BookingStatus.WAITING}

# The same, as SQL: the condition of the index that keeps one live booking a person.
LIVE_BOOKING_SQL = "status IN ('awaiting_approval', 'offered', 'confirmed', 'waiting')"

BOOKING_STATUS_LABELS = {
    BookingStatus.AWAITING_APPROVAL: "Awaiting approval",
    BookingStatus.OFFERED: "Place offered",
    BookingStatus.CONFIRMED: "Booked",
    BookingStatus.WAITING: "On the waiting list",
    BookingStatus.CANCELLED: "Cancelled",
    BookingStatus.REFUSED: "Not approved",
    BookingStatus.OFFER_LAPSED: "Offer lapsed",
    BookingStatus.SESSION_CANCELLED: "Session cancelled",
}


class Attendance(enum.StrEnum):
    ATTENDED = "attended"
    ABSENT = "absent"  # did not attend: the late charge applies

    @property
    def label(self) -> str:
        return {Attendance.ATTENDED: "Attended", Attendance.ABSENT: "Did not attend"}[self]


class Booking(Base):
    """A place on a session for one person at one school (or a place on its waiting list).

    The attendee may have no account: a colleague is booked by name and e-mail address.
    """

    __tablename__ = "training_booking"
    __table_args__ = (
        CheckConstraint(
            f"price_pence BETWEEN 0 AND {MAX_TRAINING_PENCE}", name="booking_price_in_range"
        ),
        CheckConstraint(
            f"charge_pence BETWEEN 0 AND {MAX_TRAINING_PENCE}", name="booking_charge_in_range"
        ),
        # The waiting list, in the order people joined it.
        Index("ix_training_booking_session", "session_id", "status", "joined_list_at"),
        Index("ix_training_booking_school", "school_id", "created_at"),
        Index("ix_training_booking_offer_expiry", "status", "offer_expires_at"),
        Index("ix_training_booking_email", "attendee_email"),
        # One live booking a person a session, even when two forms for them are sent at once.
        Index(
            "uq_training_booking_live_attendee",
            "session_id",
            "attendee_email",
            unique=True,
            postgresql_where=text(LIVE_BOOKING_SQL),
            sqlite_where=text(LIVE_BOOKING_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("course_session.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    attendee_name: Mapped[str] = mapped_column(String(120))
    # In lower case.
    attendee_email: Mapped[str] = mapped_column(String(254))
    attendee_job_title: Mapped[str] = mapped_column(String(120), default="")
    # The attendee's own account, when they have one.
    attendee_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[BookingStatus] = mapped_column(stored_enum(BookingStatus, "booking_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the booking joined the waiting list (the list's order); None if it never did.
    joined_list_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why the approver said no, or why the booking was cancelled.
    reason: Mapped[str | None] = mapped_column(String(500))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The price of the place for this school when it was booked, and what the school owes:
    # the price while booked or attended, 0 for a place given up in time, the late charge
    # for one given up late or not attended.
    price_pence: Mapped[int] = mapped_column(Integer, default=0)
    charge_pence: Mapped[int] = mapped_column(Integer, default=0)
    attendance: Mapped[Attendance | None] = mapped_column(stored_enum(Attendance, "attendance"))
    # When the reminder before the session and the request for an evaluation were written to
    # the outbox: set in the same transaction, so "reminded" is never said of a reminder that
    # was not queued.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    evaluation_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The key of the form that made it: sending the booking form twice books one place.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    session: Mapped[CourseSession] = relationship(back_populates="bookings")
    school: Mapped[School] = relationship()
    attendee_user: Mapped[User | None] = relationship(foreign_keys=[attendee_user_id])
    booked_by: Mapped[User | None] = relationship(foreign_keys=[booked_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    evaluation: Mapped[Evaluation | None] = relationship(back_populates="booking")

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class Evaluation(Base):
    """An attendee's short evaluation of a session; the certificate follows it."""

    __tablename__ = "training_evaluation"
    __table_args__ = (
        CheckConstraint("overall BETWEEN 1 AND 5", name="evaluation_overall_in_range"),
        CheckConstraint("met_outcomes BETWEEN 1 AND 5", name="evaluation_outcomes_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("training_booking.id", ondelete="CASCADE"), unique=True
    )
    overall: Mapped[int] = mapped_column(Integer)
    met_outcomes: Mapped[int] = mapped_column(Integer)
    will_use: Mapped[str] = mapped_column(Text, default="")
    comments: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    booking: Mapped[Booking] = relationship(back_populates="evaluation")


class Approver(enum.StrEnum):
    """Who approves a school's training bookings, if anyone."""

    NOBODY = "nobody"
    HEAD_TEACHER = "head_teacher"
    TRAINING_LEAD = "training_lead"

    @property
    def label(self) -> str:
        return {
            Approver.NOBODY: "No approval needed",
            Approver.HEAD_TEACHER: "The head teacher approves each booking",
            Approver.TRAINING_LEAD: "A named training lead approves each booking",
        }[self]


class SchoolTrainingSettings(Base):
    """A school's choice of who approves its staff's bookings. No row: nobody does."""

    __tablename__ = "school_training_settings"
    __table_args__ = (
        CheckConstraint(
            "approver <> 'training_lead' OR training_lead_id IS NOT NULL",
            name="training_lead_named",
        ),
    )

    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True)
    approver: Mapped[Approver] = mapped_column(
        stored_enum(Approver, "approver"), default=Approver.NOBODY
    )
    # A member of the school's staff with an account.
    training_lead_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    school: Mapped[School] = relationship()
    training_lead: Mapped[User | None] = relationship()


# --- supply cover from a fund ---------------------------------------------------------------


class FundStatus(enum.StrEnum):
    DRAFT = "draft"  # the formula may change; schools see nothing
    ALLOCATED = "allocated"  # allocations confirmed: fixed, and schools claim against them
    CLOSED = "closed"  # no more claims

    @property
    def label(self) -> str:
        return {
            FundStatus.DRAFT: "Draft",
            FundStatus.ALLOCATED: "Open for claims",
            FundStatus.CLOSED: "Closed",
        }[self]


class FundEligibility(enum.StrEnum):
    ALL_SCHOOLS = "all_schools"
    MAINTAINED = "maintained"

    @property
    def label(self) -> str:
        return {
            FundEligibility.ALL_SCHOOLS: "Every open school and academy",
            FundEligibility.MAINTAINED: "Maintained schools only",
        }[self]


class SupplyFund(Base):
    """Money set aside to pay schools towards supply cover while their staff train.

    The allocation formula: each eligible school gets ``lump_sum_pence``, and what is left
    of the total is shared by pupils on roll. The shares are whole pence that add up to the
    total exactly; how each was rounded is kept on its allocation.
    """

    __tablename__ = "supply_fund"
    __table_args__ = (
        CheckConstraint(
            f"total_pence BETWEEN 1 AND {MAX_TRAINING_PENCE}", name="fund_total_in_range"
        ),
        CheckConstraint("lump_sum_pence >= 0", name="fund_lump_sum_not_negative"),
        CheckConstraint("covers_to >= covers_from", name="fund_dates_in_order"),
        CheckConstraint(
            "half_day_rate_pence > 0 AND daily_rate_pence >= half_day_rate_pence",
            name="fund_rates_in_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    total_pence: Mapped[int] = mapped_column(Integer)
    # Sessions held between these dates (London) may be claimed for, including those held
    # before the fund opened for claims.
    covers_from: Mapped[date]
    covers_to: Mapped[date]
    # The last day a claim may be made.
    claims_close_on: Mapped[date]
    # The most the fund pays for a day, and for a half-day, of supply cover.
    daily_rate_pence: Mapped[int] = mapped_column(Integer)
    half_day_rate_pence: Mapped[int] = mapped_column(Integer)
    eligibility: Mapped[FundEligibility] = mapped_column(
        stored_enum(FundEligibility, "fund_eligibility"), default=FundEligibility.ALL_SCHOOLS
    )
    lump_sum_pence: Mapped[int] = mapped_column(Integer, default=0)
    # The financial year whose pupils on roll the formula uses (its starting year).
    roll_year: Mapped[int] = mapped_column(Integer)
    status: Mapped[FundStatus] = mapped_column(
        stored_enum(FundStatus, "fund_status"), default=FundStatus.DRAFT
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    allocated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    courses: Mapped[list[Course]] = relationship(secondary=fund_course)
    allocations: Mapped[list[FundAllocation]] = relationship(back_populates="fund")

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class FundAllocation(Base):
    """One school's share of a fund, fixed when the fund's allocations are confirmed.

    ``approved_pence`` is the sum of the school's approved claims: raised only by a
    conditional UPDATE that keeps it at or below ``amount_pence`` (portal/training/
    claims.py), so no two approvals at once can pay a school more than its allocation.
    """

    __tablename__ = "supply_fund_allocation"
    __table_args__ = (
        UniqueConstraint("fund_id", "school_id"),
        CheckConstraint(
            "approved_pence >= 0 AND approved_pence <= amount_pence",
            name="allocation_never_overspent",
        ),
        CheckConstraint("paid_pence >= 0 AND paid_pence <= approved_pence", name="paid_le_app"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("supply_fund.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    pupils: Mapped[int] = mapped_column(Integer)
    lump_sum_pence: Mapped[int] = mapped_column(Integer)
    # The pupils' share before rounding, in millionths of a penny, and the whole pence given:
    # the difference is the rounding each school's row shows.
    exact_pupil_share_micropence: Mapped[int] = mapped_column(BigInteger)
    pupil_share_pence: Mapped[int] = mapped_column(Integer)
    amount_pence: Mapped[int] = mapped_column(Integer)
    approved_pence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paid_pence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    fund: Mapped[SupplyFund] = relationship(back_populates="allocations")
    school: Mapped[School] = relationship()

    @property
    def remaining_pence(self) -> int:
        return self.amount_pence - self.approved_pence


class ClaimStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PART_APPROVED = "part_approved"
    REFUSED = "refused"
    PAID = "paid"

    @property
    def label(self) -> str:
        return {
            ClaimStatus.SUBMITTED: "Waiting for a decision",
            ClaimStatus.APPROVED: "Approved",
            ClaimStatus.PART_APPROVED: "Part approved",
            ClaimStatus.REFUSED: "Refused",
            ClaimStatus.PAID: "Paid",
        }[self]


class SupplyClaim(Base):
    """A school's claim on its allocation for supply cover while someone attended a session.

    Its evidence (the agency's invoice) is a file kept under the instance folder, checked
    for its type and size when uploaded.
    """

    __tablename__ = "supply_claim"
    __table_args__ = (
        CheckConstraint("half_days BETWEEN 1 AND 20", name="claim_half_days_in_range"),
        CheckConstraint(
            f"cost_pence BETWEEN 1 AND {MAX_TRAINING_PENCE}", name="claim_cost_in_range"
        ),
        CheckConstraint(
            "approved_pence IS NULL OR approved_pence BETWEEN 0 AND cost_pence",
            name="claim_approved_in_range",
        ),
        # One claim for an attended place.
        UniqueConstraint("fund_id", "booking_id"),
        Index("ix_supply_claim_fund_status", "fund_id", "status", "created_at"),
        Index("ix_supply_claim_school", "school_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("supply_fund.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    # The attended place the cover was for.
    booking_id: Mapped[int] = mapped_column(ForeignKey("training_booking.id"), index=True)
    # Cover in half-days: 1 is a half-day, 2 a day.
    half_days: Mapped[int] = mapped_column(Integer)
    cost_pence: Mapped[int] = mapped_column(Integer)
    agency_reference: Mapped[str] = mapped_column(String(100))
    # The evidence: the name it was uploaded with, its checked type and size, and where it
    # is kept under the instance folder.
    evidence_filename: Mapped[str] = mapped_column(String(255))
    evidence_type: Mapped[str] = mapped_column(String(100))
    evidence_bytes: Mapped[int] = mapped_column(Integer)
    evidence_path: Mapped[str] = mapped_column(String(500))
    status: Mapped[ClaimStatus] = mapped_column(
        stored_enum(ClaimStatus, "claim_status"), default=ClaimStatus.SUBMITTED
    )
    approved_pence: Mapped[int | None] = mapped_column(Integer)
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payment_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("supply_payment_batch.id"), index=True
    )
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    fund: Mapped[SupplyFund] = relationship()
    school: Mapped[School] = relationship()
    booking: Mapped[Booking] = relationship()
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    payment_batch: Mapped[PaymentBatch | None] = relationship(back_populates="claims")

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class PaymentBatch(Base):
    """Approved claims exported together for the council's finance system, then paid.

    Its total and count are fixed when it is made: the figures finance was sent.
    """

    __tablename__ = "supply_payment_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("supply_fund.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    claim_count: Mapped[int] = mapped_column(Integer)
    total_pence: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    fund: Mapped[SupplyFund] = relationship()
    claims: Mapped[list[SupplyClaim]] = relationship(back_populates="payment_batch")
