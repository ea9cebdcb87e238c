"""seed-scale's training: as many courses, sessions and bookings as the plan says, and data the
portal's own rules could have made (places never over-taken, charges by the course's rules,
a fund allocated to the penny and never overspent).

Each test generates at the smallest factor inside its rolled-back transaction, as
test_scale.py's do.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.clock import LONDON, utcnow
from portal.models import (
    PLACE_HOLDING,
    Attendance,
    Booking,
    BookingStatus,
    ClaimStatus,
    Course,
    CourseSession,
    FundAllocation,
    PaymentBatch,
    School,
    SchoolStatus,
    SessionStatus,
    SupplyClaim,
    SupplyFund,
)
from portal_seed.scale import FIRST_URN, generate, plan_for
from portal_seed.services import LAST_YEAR, NEXT_YEAR

pytestmark = pytest.mark.slow

FACTOR = 0.1
PLAN = plan_for(FACTOR)


@pytest.fixture
def before(session: Session) -> dict[type, int]:
    return {
        model: session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Course, CourseSession)
    }


@pytest.fixture
def scaled(app: Flask, before: dict[type, int]) -> dict[str, int]:
    with app.app_context():
        return generate(FACTOR)


def generated_bookings(session: Session) -> list[Booking]:
    return list(
        session.scalars(select(Booking).join(Booking.school).where(School.urn >= FIRST_URN))
    )


def test_as_much_training_as_the_plan_says_with_every_place_counted(
    before: dict[type, int], scaled: dict[str, int], session: Session
) -> None:
    assert session.scalar(select(func.count(Course.id))) - before[Course] == PLAN.courses
    sessions = session.scalars(select(CourseSession).order_by(CourseSession.id)).all()
    assert len(sessions) - before[CourseSession] == PLAN.course_sessions
    bookings = generated_bookings(session)
    assert 0.9 * PLAN.bookings <= len(bookings) <= 1.1 * PLAN.bookings
    assert scaled["bookings"] == len(bookings)
    holding = Counter(
        session.scalars(select(Booking.session_id).where(Booking.status.in_(PLACE_HOLDING)))
    )
    for s in sessions:
        assert s.places_taken == holding[s.id] <= s.capacity, s.id
        if s.status is SessionStatus.CANCELLED:
            assert s.places_taken == 0
    # On school days in London's working hours, over the demo's two financial years.
    generated = sessions[-PLAN.course_sessions :]
    for s in generated:
        local = s.starts_at.astimezone(LONDON)
        assert local.weekday() < 5 and local.month != 8
        assert 9 <= local.hour <= 18
        assert s.ends_at - s.starts_at == timedelta(minutes=s.course.duration_minutes)
        assert f"{LAST_YEAR}-04-01" <= local.date().isoformat() <= f"{NEXT_YEAR + 1}-03-31"
    now = utcnow()
    assert any(s.starts_at < now for s in generated) and any(s.starts_at > now for s in generated)


def test_bookings_have_realistic_states_and_charges_by_the_courses_rules(
    scaled: dict[str, int], session: Session
) -> None:
    now = utcnow()
    bookings = generated_bookings(session)
    statuses = Counter(b.status for b in bookings)
    assert statuses[BookingStatus.CONFIRMED] > 0.7 * len(bookings)
    assert statuses[BookingStatus.CANCELLED] > 0
    attendance = Counter(b.attendance for b in bookings)
    assert attendance[Attendance.ATTENDED] > 5 * attendance[Attendance.ABSENT] > 0
    for b in bookings:
        s, course = b.session, b.session.course
        late = course.late_charge_pence if course.late_charge_pence is not None else b.price_pence
        assert b.attendee_email.endswith(".schools.example")
        assert b.created_at <= now
        if b.school.is_academy and course.academy_price_pence is not None:
            assert b.price_pence == course.academy_price_pence
        else:
            assert b.price_pence in (course.price_pence, course.member_price_pence)
        if b.attendance is not None:
            assert s.register_taken_at is not None and s.ends_at < now
            assert b.status is BookingStatus.CONFIRMED
        if b.attendance is Attendance.ABSENT:
            assert b.charge_pence == late
        elif b.status is BookingStatus.CANCELLED:
            assert b.cancelled_at <= now
            in_time = b.cancelled_at <= s.starts_at - timedelta(days=course.cancellation_days)
            assert b.charge_pence == (0 if in_time else late)
        elif b.status in PLACE_HOLDING:
            assert b.charge_pence == b.price_pence
        else:
            assert b.charge_pence == 0
        if b.status is BookingStatus.OFFERED:
            assert b.offer_expires_at > now
        if b.status in (BookingStatus.WAITING, BookingStatus.OFFERED):
            assert s.places_taken == s.capacity and b.joined_list_at is not None
            assert s.starts_at > now
    # The waiting list is in order: an offer went to the first on it.
    for b in bookings:
        if b.status is BookingStatus.OFFERED:
            waiting = [w for w in b.session.bookings if w.status is BookingStatus.WAITING]
            assert all(b.joined_list_at <= w.joined_list_at for w in waiting)


def test_the_fund_is_allocated_to_every_school_to_the_penny_and_never_overspent(
    scaled: dict[str, int], session: Session
) -> None:
    fund = session.scalars(select(SupplyFund).order_by(SupplyFund.id.desc())).first()
    assert fund is not None and fund.courses
    allocations = session.scalars(
        select(FundAllocation).where(FundAllocation.fund_id == fund.id)
    ).all()
    assert sum(a.amount_pence for a in allocations) == fund.total_pence
    open_schools = session.scalar(
        select(func.count(School.id)).where(School.status == SchoolStatus.OPEN)
    )
    assert len(allocations) == open_schools
    claims = session.scalars(select(SupplyClaim).where(SupplyClaim.fund_id == fund.id)).all()
    assert len(claims) == scaled["supply_claims"] and 0 < len(claims) <= PLAN.supply_claims
    assert {ClaimStatus.SUBMITTED, ClaimStatus.PAID} <= {c.status for c in claims}
    covered = {c.id for c in fund.courses}
    by_school = {a.school_id: a for a in allocations}
    approved: Counter[int] = Counter()
    paid: Counter[int] = Counter()
    for c in claims:
        assert c.booking.attendance is Attendance.ATTENDED
        assert c.booking.session.course_id in covered
        assert c.booking.school_id == c.school_id
        held = c.booking.session.starts_at.astimezone(LONDON).date()
        assert fund.covers_from <= held <= fund.covers_to
        if c.status in (ClaimStatus.APPROVED, ClaimStatus.PART_APPROVED, ClaimStatus.PAID):
            most = fund.daily_rate_pence * (c.half_days // 2)
            most += fund.half_day_rate_pence * (c.half_days % 2)
            assert 0 < c.approved_pence <= min(c.cost_pence, most)
            approved[c.school_id] += c.approved_pence
        if c.status is ClaimStatus.PAID:
            assert c.payment_batch is not None and c.payment_batch.paid_at < utcnow()
            paid[c.school_id] += c.approved_pence
    for school_id, allocation in by_school.items():
        assert allocation.approved_pence == approved[school_id] <= allocation.amount_pence
        assert allocation.paid_pence == paid[school_id]
    for batch in session.scalars(select(PaymentBatch).where(PaymentBatch.fund_id == fund.id)):
        assert batch.claim_count == len(batch.claims)
        assert batch.total_pence == sum(c.approved_pence for c in batch.claims)
