"""Test data for the supply-cover fund's tests: courses, sessions, attended places, funds and
their allocations, written through the test's session. (Until tests/training/factories.py
holds the course, session and booking helpers for every part.)"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from itertools import count

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import (
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
    School,
    StaffLevel,
    SupplyClaim,
    SupplyFund,
    User,
)

_numbers = count(1)


def school(session: Session, urn: int) -> School:
    return session.scalars(select(School).where(School.urn == urn)).one()


def user(session: Session, email: str) -> User:
    return session.scalars(select(User).where(User.email == email)).one()


def make_course(session: Session, title: str = "Lead professional training") -> Course:
    course = Course(
        title=f"{title} {next(_numbers)}",
        description="What the course covers.",
        audience="Staff who lead on early help",
        staff_level=StaffLevel.ALL_STAFF,
        duration_minutes=360,
        price_pence=0,
        status=CourseStatus.PUBLISHED,
    )
    session.add(course)
    session.flush()
    return course


def make_session(session: Session, course: Course, on: date) -> CourseSession:
    starts = datetime(on.year, on.month, on.day, 9, 30, tzinfo=UTC)
    held = CourseSession(
        course_id=course.id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=6),
        venue="Shire Hall, Warwick",
        capacity=20,
        places_taken=1,
        trainer="A. Trainer",
    )
    session.add(held)
    session.flush()
    return held


def make_booking(
    session: Session,
    held: CourseSession,
    at: School,
    attended: bool = True,
    name: str = "Sam Teacher",
) -> Booking:
    booking = Booking(
        session_id=held.id,
        school_id=at.id,
        attendee_name=name,
        attendee_email=f"attendee{next(_numbers)}@school.example",
        status=BookingStatus.CONFIRMED,
        attendance=Attendance.ATTENDED if attended else Attendance.ABSENT,
    )
    session.add(booking)
    session.flush()
    return booking


def make_fund(
    session: Session,
    courses: list[Course],
    *,
    total_pence: int = 1_000_000,
    lump_sum_pence: int = 10_000,
    covers_from: date = date(2026, 9, 1),
    covers_to: date = date(2027, 3, 31),
    claims_close_on: date = date(2030, 4, 30),
    daily_rate_pence: int = 20_000,
    half_day_rate_pence: int = 11_000,
    eligibility: FundEligibility = FundEligibility.ALL_SCHOOLS,
    roll_year: int = 2026,
) -> SupplyFund:
    fund = SupplyFund(
        name=f"Supply cover fund {next(_numbers)}",
        total_pence=total_pence,
        covers_from=covers_from,
        covers_to=covers_to,
        claims_close_on=claims_close_on,
        daily_rate_pence=daily_rate_pence,
        half_day_rate_pence=half_day_rate_pence,
        eligibility=eligibility,
        lump_sum_pence=lump_sum_pence,
        roll_year=roll_year,
        status=FundStatus.DRAFT,
    )
    fund.courses = courses
    session.add(fund)
    session.flush()
    return fund


def allocate_to(
    session: Session, fund: SupplyFund, allocations: dict[School, int]
) -> dict[int, FundAllocation]:
    """Open ``fund`` for claims with the given amount to each school (by hand, not by the
    formula: the claims' tests choose the numbers)."""
    rows = {}
    for at, amount in allocations.items():
        row = FundAllocation(
            fund_id=fund.id,
            school_id=at.id,
            pupils=100,
            lump_sum_pence=0,
            exact_pupil_share_micropence=amount * 1_000_000,
            pupil_share_pence=amount,
            amount_pence=amount,
        )
        session.add(row)
        rows[at.id] = row
    fund.status = FundStatus.ALLOCATED
    fund.allocated_at = datetime.now(UTC)
    session.flush()
    return rows


def make_claim(
    session: Session,
    fund: SupplyFund,
    booking: Booking,
    *,
    cost_pence: int = 15_000,
    half_days: int = 2,
    claimed_by: User | None = None,
    status: ClaimStatus = ClaimStatus.SUBMITTED,
) -> SupplyClaim:
    claim = SupplyClaim(
        fund_id=fund.id,
        school_id=booking.school_id,
        booking_id=booking.id,
        half_days=half_days,
        cost_pence=cost_pence,
        agency_reference=f"INV-{next(_numbers)}",
        evidence_filename="invoice.pdf",
        evidence_type="application/pdf",
        evidence_bytes=100,
        evidence_path="0" * 32 + ".pdf",
        status=status,
        claimed_by_id=claimed_by.id if claimed_by else None,
    )
    session.add(claim)
    session.flush()
    return claim


# The smallest files that are what they say they are.
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
