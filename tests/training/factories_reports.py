"""Courses, sessions, bookings and funds for the report tests, added to the test's session.

The reports' own (until tests/training/factories.py is merged, which the lead folds these
into): plain functions, every value a test does not care about given a default.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from portal.models import (
    Area,
    Attendance,
    Booking,
    BookingStatus,
    ClaimStatus,
    Course,
    CourseSession,
    CourseStatus,
    EstablishmentType,
    FundAllocation,
    FundStatus,
    Membership,
    Phase,
    Role,
    School,
    SchoolStatus,
    SessionStatus,
    StaffLevel,
    SupplyClaim,
    SupplyFund,
    User,
)

_numbers = itertools.count(1)


def make_area(session: Session, name: str) -> Area:
    area = Area(name=name, code=f"test-{next(_numbers)}-{name.lower().replace(' ', '-')}")
    session.add(area)
    session.flush()
    return area


def make_school(session: Session, area: Area, name: str, *, open: bool = True) -> School:
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
    session.add(school)
    session.flush()
    return school


def make_course(
    session: Session, title: str, *, cancellation_days: int = 10, price_pence: int = 0
) -> Course:
    course = Course(
        title=title,
        description="A course for the report tests.",
        audience="Everyone",
        staff_level=StaffLevel.ALL_STAFF,
        duration_minutes=180,
        price_pence=price_pence,
        cancellation_days=cancellation_days,
        status=CourseStatus.PUBLISHED,
    )
    session.add(course)
    session.flush()
    return course


def make_session(
    session: Session,
    course: Course,
    starts_at: datetime,
    *,
    area: Area | None = None,
    capacity: int = 20,
    cancelled: bool = False,
) -> CourseSession:
    course_session = CourseSession(
        course_id=course.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
        venue="Council House",
        area_id=area.id if area else None,
        capacity=capacity,
        trainer="A. Trainer",
        status=SessionStatus.CANCELLED if cancelled else SessionStatus.SCHEDULED,
    )
    session.add(course_session)
    session.flush()
    return course_session


def make_booking(
    session: Session,
    course_session: CourseSession,
    school: School,
    *,
    status: BookingStatus = BookingStatus.CONFIRMED,
    attendance: Attendance | None = None,
    cancelled_at: datetime | None = None,
) -> Booking:
    number = next(_numbers)
    booking = Booking(
        session_id=course_session.id,
        school_id=school.id,
        attendee_name=f"Person {number}",
        attendee_email=f"person{number}@report-tests.example",
        status=status,
        attendance=attendance,
        cancelled_at=cancelled_at,
    )
    session.add(booking)
    session.flush()
    return booking


def make_fund(
    session: Session,
    name: str,
    *,
    total_pence: int = 1_000_000,
    status: FundStatus = FundStatus.ALLOCATED,
    covers_from: date = date(2026, 4, 1),
) -> SupplyFund:
    fund = SupplyFund(
        name=name,
        total_pence=total_pence,
        covers_from=covers_from,
        covers_to=covers_from + timedelta(days=364),
        claims_close_on=covers_from + timedelta(days=395),
        daily_rate_pence=20_000,
        half_day_rate_pence=10_000,
        roll_year=covers_from.year,
        status=status,
    )
    session.add(fund)
    session.flush()
    return fund


def make_allocation(
    session: Session,
    fund: SupplyFund,
    school: School,
    amount_pence: int,
    *,
    approved: int = 0,
    paid: int = 0,
) -> FundAllocation:
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
    session.add(allocation)
    session.flush()
    return allocation


def make_claim(
    session: Session,
    fund: SupplyFund,
    booking: Booking,
    cost_pence: int,
    *,
    status: ClaimStatus = ClaimStatus.SUBMITTED,
    approved_pence: int | None = None,
) -> SupplyClaim:
    number = next(_numbers)
    claim = SupplyClaim(
        fund_id=fund.id,
        school_id=booking.school_id,
        booking_id=booking.id,
        half_days=2,
        cost_pence=cost_pence,
        agency_reference=f"INV-{number}",
        evidence_filename="invoice.pdf",
        evidence_type="application/pdf",
        evidence_bytes=1000,
        evidence_path=f"evidence/{number}.pdf",
        status=status,
        approved_pence=approved_pence,
    )
    session.add(claim)
    session.flush()
    return claim


def make_coordinator(session: Session) -> str:
    """A training coordinator who signs in as the demo council accounts do (their password
    and authenticator): the demo has none until the coordinator's account is merged. Its
    e-mail address, for ``client_for``."""
    admin = session.scalars(select(User).where(User.email == "admin@council.example")).one()
    coordinator = User(
        email="reports.coordinator@council.example",
        display_name="Report Coordinator",
        password_hash=admin.password_hash,
        totp_secret=admin.totp_secret,
        totp_enabled_at=admin.totp_enabled_at,
    )
    session.add(coordinator)
    session.flush()
    session.add(Membership(user_id=coordinator.id, role=Role.TRAINING_COORDINATOR))
    session.flush()
    return coordinator.email


# A moment in the financial year 2026-27, the year add_training fills.
NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
_ATTENDANCE = [Attendance.ATTENDED, Attendance.ATTENDED, Attendance.ABSENT, None]


def add_training(session: Session, *, sessions: int, bookings_each: int) -> dict[str, int]:
    """A year of training across the demo's areas and schools, in bulk: ``sessions``
    sessions of a new course (every fifth for every area), ``bookings_each`` bookings on
    each (attended, absent, booked, cancelled, waiting), and a fund allocated to every school
    with a claim for some of those who attended. The ids the reports' addresses need."""
    areas = session.scalars(select(Area.id).order_by(Area.id)).all()
    schools = session.scalars(select(School.id).order_by(School.id)).all()
    course = make_course(session, f"Bulk course {next(_numbers)}")
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
    session_ids = session.scalars(
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
    session.execute(insert(Booking), booking_rows)
    fund = make_fund(session, f"Bulk fund {number}")
    session.execute(
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
    attended = session.execute(
        select(Booking.id, Booking.school_id)
        .join(CourseSession, CourseSession.id == Booking.session_id)
        .where(CourseSession.course_id == course.id, Booking.attendance == Attendance.ATTENDED)
        .limit(sessions)
    ).all()
    if attended:
        session.execute(
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
    session.flush()
    return {"course": course.id, "area": areas[1 % len(areas)], "fund": fund.id}
