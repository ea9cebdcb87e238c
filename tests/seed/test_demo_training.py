"""The demo's training: what the training pages need to show something of each kind."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.clock import LONDON, utcnow
from portal.models import (
    PLACE_HOLDING,
    Approver,
    Attendance,
    Booking,
    BookingStatus,
    ClaimStatus,
    Course,
    CourseSession,
    CourseStatus,
    FundAllocation,
    School,
    SchoolTrainingSettings,
    SessionStatus,
    SupplyClaim,
    SupplyFund,
)
from portal.training.allocation import MICRO as MICROPENCE
from portal_seed.allocation import fund_shares
from portal_seed.demo.training import weekday


def oakfield_bookings(session: Session) -> list[Booking]:
    return list(session.scalars(select(Booking).join(Booking.school).where(School.urn == 125601)))


def test_the_council_offers_courses_of_every_kind_of_price(session: Session) -> None:
    courses = session.scalars(select(Course)).all()
    published = [c for c in courses if c.status is CourseStatus.PUBLISHED]
    assert 8 <= len(published) <= 10
    assert CourseStatus.DRAFT in {c.status for c in courses}
    assert any(c.is_free for c in published)
    assert any(c.is_free and c.late_charge_pence for c in published)
    assert any(c.price_pence and c.academy_price_pence for c in published)
    member = [c for c in published if c.member_price_pence is not None]
    assert member and all(
        c.member_service is not None and c.member_price_pence < c.price_pence for c in member
    )
    assert all(c.outcomes and c.audience for c in published)
    assert len({c.staff_level for c in published}) >= 5


def test_sessions_past_and_future_on_school_days_in_london_hours(session: Session) -> None:
    sessions = session.scalars(select(CourseSession)).all()
    now = utcnow()
    assert sum(s.starts_at < now for s in sessions) >= 5
    assert sum(s.starts_at > now for s in sessions) >= 8
    assert any(s.online_link for s in sessions) and any(s.venue for s in sessions)
    assert any(s.status is SessionStatus.CANCELLED and s.cancelled_reason for s in sessions)
    for s in sessions:
        local = s.starts_at.astimezone(LONDON)
        assert local.weekday() < 5, local
        assert 9 <= local.hour <= 18, local
        assert s.ends_at.astimezone(LONDON).date() == local.date()
        assert s.trainer and "Demo" in s.trainer
    # A register taken for most past sessions, and one still to take.
    past = [s for s in sessions if s.ends_at < now and s.status is SessionStatus.SCHEDULED]
    assert any(s.register_taken_at is None for s in past)
    assert sum(s.register_taken_at is not None for s in past) >= 4


def test_places_taken_count_the_bookings_that_hold_a_place(session: Session) -> None:
    holding = Counter(
        session.scalars(select(Booking.session_id).where(Booking.status.in_(PLACE_HOLDING)))
    )
    for s in session.scalars(select(CourseSession)):
        assert s.places_taken == holding[s.id] <= s.capacity, s.id
        if s.status is SessionStatus.CANCELLED:
            assert s.places_taken == 0
            assert {b.status for b in s.bookings} == {BookingStatus.SESSION_CANCELLED}


def test_oakfield_has_a_booking_of_each_kind(session: Session) -> None:
    now = utcnow()
    bookings = oakfield_bookings(session)
    by_status = Counter(b.status for b in bookings)
    assert by_status[BookingStatus.AWAITING_APPROVAL] == 1
    upcoming = [
        b for b in bookings if b.status is BookingStatus.CONFIRMED and b.session.starts_at > now
    ]
    assert upcoming
    attended = [b for b in bookings if b.attendance is Attendance.ATTENDED]
    assert len(attended) >= 2 and all(b.evaluation is not None for b in attended)
    assert all(1 <= b.evaluation.overall <= 5 for b in attended)
    (no_show,) = [b for b in bookings if b.attendance is Attendance.ABSENT]
    assert no_show.charge_pence == no_show.session.course.late_charge_pence > 0
    late = [
        b
        for b in bookings
        if b.status is BookingStatus.CANCELLED
        and b.cancelled_at
        > b.session.starts_at - timedelta(days=b.session.course.cancellation_days)
    ]
    assert late and all(b.charge_pence > 0 for b in late)
    assert any(b.session.course.is_free for b in late)
    in_time = [b for b in bookings if b.status is BookingStatus.CANCELLED and b not in late]
    assert in_time and all(b.charge_pence == 0 for b in in_time)
    settings = session.get(SchoolTrainingSettings, bookings[0].school_id)
    assert settings is not None and settings.approver is Approver.HEAD_TEACHER
    # Every attendee is invented, at a .example address.
    everyone = session.scalars(select(Booking)).all()
    assert all(b.attendee_email.endswith(".example") for b in everyone)
    assert all("Demo" in b.attendee_name for b in everyone)


def test_a_full_session_has_a_waiting_list_and_an_open_offer(session: Session) -> None:
    now = utcnow()
    full = [
        s
        for s in session.scalars(select(CourseSession))
        if s.places_taken == s.capacity and s.starts_at > now
    ]
    assert full
    (s,) = full
    waiting = sorted(
        (b for b in s.bookings if b.status is BookingStatus.WAITING),
        key=lambda b: b.joined_list_at,
    )
    assert len(waiting) >= 2
    (offer,) = [b for b in s.bookings if b.status is BookingStatus.OFFERED]
    assert offer.offer_expires_at > now
    # The offer went to the first on the list.
    assert offer.joined_list_at < waiting[0].joined_list_at
    assert 125601 in {b.school.urn for b in waiting}


def test_prices_are_frozen_by_the_courses_rules(session: Session) -> None:
    bookings = session.scalars(select(Booking)).all()
    for b in bookings:
        course = b.session.course
        allowed = {course.price_pence, course.member_price_pence}
        if b.school.is_academy and course.academy_price_pence is not None:
            allowed = {course.academy_price_pence}
        assert b.price_pence in allowed, (course.title, b.school.name)
    academies = [
        b for b in bookings if b.school.is_academy and b.session.course.academy_price_pence
    ]
    assert academies


def test_the_fund_is_allocated_to_the_penny_with_claims_in_each_state(session: Session) -> None:
    (fund,) = session.scalars(select(SupplyFund)).all()
    assert "supply cover" in fund.name
    allocations = session.scalars(
        select(FundAllocation).where(FundAllocation.fund_id == fund.id)
    ).all()
    assert sum(a.amount_pence for a in allocations) == fund.total_pence
    assert len(allocations) == session.scalar(select(func.count(School.id)))
    for a in allocations:
        assert a.amount_pence == a.lump_sum_pence + a.pupil_share_pence
        assert abs(a.pupil_share_pence * MICROPENCE - a.exact_pupil_share_micropence) <= MICROPENCE
    claims = session.scalars(select(SupplyClaim)).all()
    assert {ClaimStatus.SUBMITTED, ClaimStatus.APPROVED, ClaimStatus.PAID} <= {
        c.status for c in claims
    }
    covered = {c.id for c in fund.courses}
    for c in claims:
        assert c.booking.attendance is Attendance.ATTENDED
        assert c.booking.session.course_id in covered
        held = c.booking.session.starts_at.astimezone(LONDON).date()
        assert fund.covers_from <= held <= fund.covers_to
    # Some claimed for sessions held before the fund opened.
    assert any(c.booking.session.starts_at < fund.created_at for c in claims)
    by_school = {a.school_id: a for a in allocations}
    for school_id in {c.school_id for c in claims}:
        mine = [c for c in claims if c.school_id == school_id]
        decided = [c for c in mine if c.status is not ClaimStatus.SUBMITTED]
        paid = [c for c in mine if c.status is ClaimStatus.PAID]
        allocation = by_school[school_id]
        assert allocation.approved_pence == sum(c.approved_pence for c in decided)
        assert allocation.paid_pence == sum(c.approved_pence for c in paid)
        assert allocation.approved_pence <= allocation.amount_pence
    (batch,) = {c.payment_batch for c in claims if c.payment_batch is not None}
    assert batch.paid_at is not None
    assert batch.total_pence == sum(c.approved_pence for c in batch.claims)


@given(
    total=st.integers(1, 100_000_000),
    lump=st.integers(0, 100_000),
    pupils=st.lists(st.integers(0, 3_000), min_size=1, max_size=60),
)
def test_fund_shares_add_up_to_the_total_exactly(total: int, lump: int, pupils: list[int]) -> None:
    by_school = dict(enumerate(pupils, start=1))
    if lump * len(pupils) > total or (sum(pupils) == 0 and lump * len(pupils) != total):
        return
    shares = fund_shares(total, lump, by_school)
    assert sum(s.amount_pence for s in shares.values()) == total
    for share in shares.values():
        assert share.lump_sum_pence == lump
        # Rounded down or up, never by a penny or more from the exact share.
        exact = share.exact_pupil_share_micropence
        assert abs(share.pupil_share_pence * MICROPENCE - exact) <= MICROPENCE
        assert share.pupil_share_pence in (exact // MICROPENCE, exact // MICROPENCE + 1)


@given(day=st.dates(date(2025, 1, 1), date(2030, 12, 31)), forward=st.booleans())
def test_training_falls_on_a_school_day(day: date, forward: bool) -> None:
    moved = weekday(day, forward)
    assert moved.weekday() < 5
    assert not (moved.month == 12 and moved.day >= 20) and not (moved.month == 1 and moved.day <= 3)
    assert (moved >= day) if forward else (moved <= day)
    assert abs((moved - day).days) <= 17
