"""Training test data: a course, a session of it, a booking on the session; areas and schools
of the tests' own; supply-cover funds, their allocations and claims, and the evidence files a
claim is made with; and a council's year of training in bulk for the reports.

Plain functions with sensible defaults for every column, so a test names only what it is
about. They write through ``portal.db.db.session`` (inside an app context) unless given
the test's own ``session`` (the ``session`` fixture), and flush, so the rows have ids.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from PIL import Image
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from portal.clock import financial_year, from_london, utcnow
from portal.db import db
from portal.models import Area, EstablishmentType, Phase, School, SchoolStatus, User
from portal.models.training import (
    PLACE_HOLDING,
    Attendance,
    Booking,
    BookingStatus,
    ClaimStatus,
    Course,
    CourseSession,
    CourseStatus,
    FundAllocation,
    FundEligibility,
    FundStatus,
    SessionStatus,
    StaffLevel,
    SupplyClaim,
    SupplyFund,
)
from portal.training import emails

# The demo schools the tests use most.
OAKFIELD = 125601  # maintained primary, North; head_teacher and school_staff
RIVERSIDE = 140201  # academy in the Meadow trust; academy_head and trust_lead

_numbers = itertools.count(1)


def _session(session: Session | None) -> Session:
    return session if session is not None else db.session


def school_by_urn(urn: int, *, session: Session | None = None) -> School:
    """A demo school by its URN."""
    return _session(session).scalars(select(School).where(School.urn == urn)).one()


def make_area(name: str, *, session: Session | None = None) -> Area:
    """An area of the tests' own (its code made unique)."""
    area = Area(name=name, code=f"test-{next(_numbers)}-{name.lower().replace(' ', '-')}")
    database = _session(session)
    database.add(area)
    database.flush()
    return area


def make_school(
    area: Area, name: str, *, open: bool = True, session: Session | None = None
) -> School:
    """A maintained primary school of 200 pupils in ``area``, open unless told otherwise."""
    school = School(
        urn=900000 + next(_numbers),
        name=name,
        establishment_type=EstablishmentType.COMMUNITY,
        phase=Phase.PRIMARY,
        pupils_on_roll=200,
        postcode="CV1 1AA",
        status=SchoolStatus.OPEN if open else SchoolStatus.CLOSED,
        area_id=area.id,
    )
    database = _session(session)
    database.add(school)
    database.flush()
    return school


def make_course(*, session: Session | None = None, **values: Any) -> Course:
    """A published course, free unless given a price; any column may be given."""
    number = next(_numbers)
    fields: dict[str, Any] = {
        "title": f"Test course {number}",
        "description": "What the course covers, for the tests.",
        "audience": "Anyone at a school",
        "staff_level": StaffLevel.ALL_STAFF,
        "learning_outcomes": "Know the first thing\nKnow the second thing",
        "duration_minutes": 180,
        "price_pence": 0,
        "cancellation_days": 10,
        "status": CourseStatus.PUBLISHED,
    }
    fields.update(values)
    course = Course(**fields)
    database = _session(session)
    database.add(course)
    database.flush()
    return course


def make_session(
    course: Course,
    *,
    starts_at: datetime | None = None,
    on: date | None = None,
    day: date | None = None,
    starts: str = "09:30",
    ends: str | None = None,
    session: Session | None = None,
    **values: Any,
) -> CourseSession:
    """A scheduled session of ``course``: in 30 days (a whole morning) unless given
    ``starts_at`` (or the day it is ``on``, at 9:30 UTC), or a London ``day`` and times
    (``starts``, and ``ends`` or as long as the course), 20 places, countywide (area None),
    at a venue."""
    if on is not None:
        starts_at = datetime(on.year, on.month, on.day, 9, 30, tzinfo=UTC)
    if day is not None:
        start = from_london(day, starts)
        end = from_london(day, ends) if ends else start + timedelta(minutes=course.duration_minutes)
    else:
        start = starts_at or (utcnow() + timedelta(days=30)).replace(microsecond=0)
        end = start + timedelta(minutes=course.duration_minutes)
    fields: dict[str, Any] = {
        "course": course,
        "starts_at": start,
        "ends_at": end,
        "venue": "Shire Hall, Warwick",
        "online_link": None,
        "area_id": None,
        "capacity": 20,
        "places_taken": 0,
        "trainer": "A. Trainer",
        "status": SessionStatus.SCHEDULED,
    }
    fields.update(values)
    course_session = CourseSession(**fields)
    database = _session(session)
    database.add(course_session)
    database.flush()
    return course_session


def make_booking(
    course_session: CourseSession,
    school: School,
    *,
    status: BookingStatus = BookingStatus.CONFIRMED,
    attendee_name: str | None = None,
    attendee_email: str | None = None,
    attendee: User | None = None,
    booked_by: User | None = None,
    take_place: bool = True,
    session: Session | None = None,
    **values: Any,
) -> Booking:
    """A booking for one person at ``school``, confirmed unless told otherwise: for the
    ``attendee`` with an account (their name, address and account), or someone named, or
    else an invented person; made by ``booked_by`` if given.

    A status that holds a place adds one to the session's ``places_taken`` (as booking
    does), unless ``take_place=False``; a waiting booking gets ``joined_list_at`` now.
    """
    number = next(_numbers)
    if attendee is not None:
        attendee_name = attendee_name or attendee.display_name
        attendee_email = attendee_email or attendee.email
    fields: dict[str, Any] = {
        "session": course_session,
        "school": school,
        "attendee_name": attendee_name or f"Attendee {number}",
        "attendee_email": (attendee_email or f"attendee{number}@school.example").lower(),
        "attendee_user_id": attendee.id if attendee is not None else None,
        "booked_by_id": booked_by.id if booked_by is not None else None,
        "attendee_job_title": "Teacher",
        "status": status,
        "price_pence": course_session.course.price_pence,
        "charge_pence": (
            course_session.course.price_pence if status == BookingStatus.CONFIRMED else 0
        ),
        "joined_list_at": utcnow() if status == BookingStatus.WAITING else None,
    }
    fields.update(values)
    booking = Booking(**fields)
    database = _session(session)
    database.add(booking)
    if take_place and status in PLACE_HOLDING:
        course_session.places_taken += 1
    database.flush()
    return booking


def attended(booking: Booking, *, session: Session | None = None) -> Booking:
    """``booking`` marked attended on the register."""
    booking.attendance = Attendance.ATTENDED
    _session(session).flush()
    return booking


def user_by_email(email: str, *, session: Session | None = None) -> User:
    """A demo account by its e-mail address."""
    return _session(session).scalars(select(User).where(User.email == email)).one()


# The booking e-mails (portal/training/emails.py), each recorded as (name, booking id).
BOOKING_EMAILS = (
    "booking_confirmed",
    "approval_needed",
    "place_offered",
    "offer_lapsed",
    "booking_cancelled",
    "attendee_swapped",
)


def record_emails(monkeypatch: Any) -> list[tuple[str, int]]:
    """Stand in for the booking e-mails: what was sent, as (function, booking id), in order."""
    sent: list[tuple[str, int]] = []
    for name in BOOKING_EMAILS:

        def record(booking: Booking, *_: Any, _name: str = name) -> None:
            sent.append((_name, booking.id))

        monkeypatch.setattr(emails, name, record)
    return sent


# --- supply-cover funds ----------------------------------------------------------------------


def make_fund(
    *, courses: Iterable[Course] = (), session: Session | None = None, **values: Any
) -> SupplyFund:
    """A supply-cover fund for ``courses``, not yet allocated unless given a ``status``:
    £10,000 with a £100 lump sum per school, covering from 1 September 2026 (or
    ``covers_from``) to the end of that financial year, claims open until 2030."""
    covers_from = values.pop("covers_from", date(2026, 9, 1))
    year = financial_year(covers_from)
    fields: dict[str, Any] = {
        "name": f"Supply cover fund {next(_numbers)}",
        "total_pence": 1_000_000,
        "lump_sum_pence": 10_000,
        "covers_from": covers_from,
        "covers_to": date(year + 1, 3, 31),
        "claims_close_on": date(2030, 4, 30),
        "daily_rate_pence": 20_000,
        "half_day_rate_pence": 11_000,
        "eligibility": FundEligibility.ALL_SCHOOLS,
        "roll_year": year,
        "status": FundStatus.DRAFT,
    }
    fields.update(values)
    fund = SupplyFund(**fields)
    fund.courses = list(courses)
    database = _session(session)
    database.add(fund)
    database.flush()
    return fund


def make_allocation(
    fund: SupplyFund,
    school: School,
    amount_pence: int,
    *,
    approved: int = 0,
    paid: int = 0,
    session: Session | None = None,
) -> FundAllocation:
    """``school``'s allocation of ``fund``: ``amount_pence``, all of it the pupils' share,
    of which ``approved`` is approved and ``paid`` paid."""
    allocation = FundAllocation(
        fund_id=fund.id,
        school_id=school.id,
        pupils=school.pupils_on_roll,
        lump_sum_pence=0,
        exact_pupil_share_micropence=amount_pence * 1_000_000,
        pupil_share_pence=amount_pence,
        amount_pence=amount_pence,
        approved_pence=approved,
        paid_pence=paid,
    )
    database = _session(session)
    database.add(allocation)
    database.flush()
    return allocation


def allocate_to(
    fund: SupplyFund, allocations: dict[School, int], *, session: Session | None = None
) -> dict[int, FundAllocation]:
    """Open ``fund`` for claims with the given amount to each school (by hand, not by the
    formula: the claims' tests choose the numbers); the rows by school id."""
    rows = {
        school.id: make_allocation(fund, school, amount, session=session)
        for school, amount in allocations.items()
    }
    fund.status = FundStatus.ALLOCATED
    fund.allocated_at = datetime.now(UTC)
    _session(session).flush()
    return rows


def make_claim(
    fund: SupplyFund, booking: Booking, *, session: Session | None = None, **values: Any
) -> SupplyClaim:
    """A claim on ``fund`` for the cover of ``booking``'s attendee: submitted, two half days,
    £150, with a PDF invoice named but not kept, unless given other values."""
    fields: dict[str, Any] = {
        "fund_id": fund.id,
        "school_id": booking.school_id,
        "booking_id": booking.id,
        "half_days": 2,
        "cost_pence": 15_000,
        "agency_reference": f"INV-{next(_numbers)}",
        "evidence_filename": "invoice.pdf",
        "evidence_type": "application/pdf",
        "evidence_bytes": 100,
        "evidence_path": "0" * 32 + ".pdf",
        "status": ClaimStatus.SUBMITTED,
    }
    fields.update(values)
    claim = SupplyClaim(**fields)
    database = _session(session)
    database.add(claim)
    database.flush()
    return claim


# The smallest files that are what they say they are, for a claim's evidence.
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def png_bytes(width: int = 4, height: int = 4) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, "PNG")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, "JPEG")
    return out.getvalue()


# --- a year of training in bulk, for the reports -------------------------------------------

# A moment in the financial year 2026-27, the year add_year_of_training fills.
BULK_YEAR_NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
_ATTENDANCE = [Attendance.ATTENDED, Attendance.ATTENDED, Attendance.ABSENT, None]


def add_year_of_training(
    *, sessions: int, bookings_each: int, session: Session | None = None
) -> dict[str, int]:
    """A year of training across the demo's areas and schools, in bulk: ``sessions``
    sessions of a new course (every fifth for every area), ``bookings_each`` bookings on
    each (attended, absent, booked, cancelled, waiting), and a fund allocated to every school
    with a claim for some of those who attended. The ids the reports' addresses need."""
    database = _session(session)
    areas = database.scalars(select(Area.id).order_by(Area.id)).all()
    schools = database.scalars(select(School.id).order_by(School.id)).all()
    course = make_course(title=f"Bulk course {next(_numbers)}", session=session)
    start = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
    session_rows = [
        {
            "course_id": course.id,
            "starts_at": start + timedelta(hours=23 * index),
            "ends_at": start + timedelta(hours=23 * index + 3),
            "venue": "Council House",
            "area_id": None if index % 5 == 0 else areas[index % len(areas)],
            "capacity": max(bookings_each, 1),
            "trainer": "A. Trainer",
            "status": SessionStatus.SCHEDULED,
        }
        for index in range(sessions)
    ]
    session_ids = database.scalars(
        insert(CourseSession).returning(CourseSession.id), session_rows
    ).all()
    number = next(_numbers)
    booking_rows = []
    for index, session_id in enumerate(session_ids):
        for place in range(bookings_each):
            kind = (index + place) % 6
            booking_rows.append(
                {
                    "session_id": session_id,
                    "school_id": schools[(index * bookings_each + place) % len(schools)],
                    "attendee_name": f"Person {place}",
                    "attendee_email": f"p{number}.{index}.{place}@report-tests.example",
                    "status": (
                        BookingStatus.CANCELLED
                        if kind == 4
                        else BookingStatus.WAITING
                        if kind == 5
                        else BookingStatus.CONFIRMED
                    ),
                    "attendance": _ATTENDANCE[kind] if kind < 4 else None,
                    "cancelled_at": start if kind == 4 else None,
                }
            )
    database.execute(insert(Booking), booking_rows)
    fund = make_fund(
        name=f"Bulk fund {number}",
        covers_from=date(2026, 4, 1),
        status=FundStatus.ALLOCATED,
        session=session,
    )
    database.execute(
        insert(FundAllocation),
        [
            {
                "fund_id": fund.id,
                "school_id": school_id,
                "pupils": 100,
                "lump_sum_pence": 0,
                "exact_pupil_share_micropence": 0,
                "pupil_share_pence": 10_000,
                "amount_pence": 10_000,
            }
            for school_id in schools
        ],
    )
    attended = database.execute(
        select(Booking.id, Booking.school_id)
        .join(CourseSession, CourseSession.id == Booking.session_id)
        .where(CourseSession.course_id == course.id, Booking.attendance == Attendance.ATTENDED)
        .limit(sessions)
    ).all()
    if attended:
        database.execute(
            insert(SupplyClaim),
            [
                {
                    "fund_id": fund.id,
                    "school_id": school_id,
                    "booking_id": booking_id,
                    "half_days": 1,
                    "cost_pence": 5_000,
                    "agency_reference": f"INV-{booking_id}",
                    "evidence_filename": "invoice.pdf",
                    "evidence_type": "application/pdf",
                    "evidence_bytes": 1000,
                    "evidence_path": f"evidence/{booking_id}.pdf",
                    "status": ClaimStatus.SUBMITTED,
                }
                for booking_id, school_id in attended
            ],
        )
    database.flush()
    return {"course": course.id, "area": areas[1 % len(areas)], "fund": fund.id}
