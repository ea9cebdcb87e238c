"""The cancellation window and the late charge (portal/training/charges.py): pure rules,
checked at their boundaries in London time, across the clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.clock import LONDON
from portal.models import Booking, BookingStatus, Course, CourseSession
from portal.training.charges import (
    cancellation_cost,
    is_late,
    last_free_day,
    late_charge,
    late_charge_for,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def london_midnight(day: date) -> datetime:
    """The moment a London date begins, in UTC (British clocks change at 01:00 UTC, so
    midnight always exists and is never doubled)."""
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


# A session at 09:00 BST on Friday 20 June 2031 (08:00 UTC), ten days' window: free until
# the end of Tuesday 10 June, London time.
SUMMER_SESSION = utc("2031-06-20T08:00")


@pytest.mark.parametrize(
    ("at", "late"),
    [
        ("2031-06-09T23:30", False),  # 00:30 BST on the 10th: the last free day
        ("2031-06-10T22:59", False),  # 23:59 BST on the 10th
        ("2031-06-10T23:00", True),  # midnight BST: the 11th, inside the window
        ("2031-06-10T23:30", True),  # 00:30 BST on the 11th
        ("2031-06-20T07:59", True),  # a minute before it starts
    ],
)
def test_a_summer_session_in_british_summer_time(at: str, late: bool) -> None:
    assert last_free_day(SUMMER_SESSION, 10) == date(2031, 6, 10)
    assert is_late(SUMMER_SESSION, 10, utc(at)) is late


@pytest.mark.parametrize(
    ("at", "late"),
    [("2031-01-10T23:59", False), ("2031-01-11T00:00", True)],
)
def test_a_winter_session_in_greenwich_mean_time(at: str, late: bool) -> None:
    # 09:00 GMT on Monday 20 January 2031: London is UTC, so the day ends at 00:00 UTC.
    assert is_late(utc("2031-01-20T09:00"), 10, utc(at)) is late


@pytest.mark.parametrize(
    ("at", "late"),
    [
        ("2031-03-29T23:30", False),  # GMT still: 23:30 on Saturday 29 March, the last free day
        ("2031-03-30T22:59", True),  # BST since 01:00 UTC: 23:59 on Sunday 30 March
    ],
)
def test_across_the_spring_clock_change(at: str, late: bool) -> None:
    # 09:00 BST on Tuesday 1 April 2031, three days' window: free until the end of 29 March.
    session_start = utc("2031-04-01T08:00")
    assert last_free_day(session_start, 3) == date(2031, 3, 29)
    assert is_late(session_start, 3, utc(at)) is late


def test_a_window_of_no_days_is_free_until_the_session_starts() -> None:
    start = utc("2031-06-20T08:00")
    assert not is_late(start, 0, utc("2031-06-20T07:59"))
    assert is_late(start, 0, utc("2031-06-20T23:00"))  # the 21st in London


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
)


@given(start=moments, days=st.integers(min_value=0, max_value=90))
def test_the_window_closes_at_london_midnight_ending_the_last_free_day(
    start: datetime, days: int
) -> None:
    closes = london_midnight(last_free_day(start, days) + timedelta(days=1))
    assert not is_late(start, days, closes - timedelta(microseconds=1))
    assert is_late(start, days, closes)


@given(start=moments, days=st.integers(min_value=0, max_value=90), at=moments, later=moments)
def test_once_late_always_late(start: datetime, days: int, at: datetime, later: datetime) -> None:
    first, second = sorted([at, later])
    if is_late(start, days, first):
        assert is_late(start, days, second)


@given(start=moments, days=st.integers(min_value=0, max_value=90))
def test_the_last_free_day_is_whole_london_days_before_the_sessions_day(
    start: datetime, days: int
) -> None:
    session_day = start.astimezone(LONDON).date()
    assert (session_day - last_free_day(start, days)).days == days


@given(
    price=st.integers(min_value=0, max_value=100_000_000),
    charge=st.none() | st.integers(min_value=0, max_value=100_000_000),
)
def test_the_late_charge_is_the_courses_else_the_price(price: int, charge: int | None) -> None:
    assert late_charge(charge, price) == (price if charge is None else charge)


def booking(
    status: BookingStatus,
    *,
    price: int = 12_000,
    late_charge_pence: int | None = None,
    days: int = 10,
    start: datetime = SUMMER_SESSION,
) -> Booking:
    """A booking in memory (no database): the rules read only these."""
    course = Course(price_pence=price, late_charge_pence=late_charge_pence, cancellation_days=days)
    course_session = CourseSession(course=course, starts_at=start)
    return Booking(session=course_session, status=status, price_pence=price)


IN_TIME = utc("2031-06-09T23:30")
LATE = utc("2031-06-10T23:30")


def test_a_confirmed_place_cancelled_in_time_costs_nothing() -> None:
    cost = cancellation_cost(booking(BookingStatus.CONFIRMED), IN_TIME)
    assert (cost.charge_pence, cost.late, cost.free_until) == (0, False, date(2031, 6, 10))
    assert cost.late_charge_pence == 12_000
    assert cost.late_from == date(2031, 6, 11)


def test_a_confirmed_place_cancelled_late_costs_its_price() -> None:
    cost = cancellation_cost(booking(BookingStatus.CONFIRMED), LATE)
    assert (cost.charge_pence, cost.late) == (12_000, True)


def test_the_courses_late_charge_applies_even_to_a_free_course() -> None:
    free = booking(BookingStatus.CONFIRMED, price=0, late_charge_pence=5_000)
    assert cancellation_cost(free, LATE).charge_pence == 5_000
    assert cancellation_cost(free, IN_TIME).charge_pence == 0
    assert late_charge_for(free) == 5_000


def test_a_free_course_without_a_late_charge_costs_nothing_late() -> None:
    assert cancellation_cost(booking(BookingStatus.CONFIRMED, price=0), LATE).charge_pence == 0


def test_the_late_charge_replaces_the_price_when_lower() -> None:
    assert late_charge_for(booking(BookingStatus.CONFIRMED, late_charge_pence=2_500)) == 2_500


@pytest.mark.parametrize(
    "status",
    [BookingStatus.WAITING, BookingStatus.OFFERED, BookingStatus.AWAITING_APPROVAL],
)
def test_what_the_school_has_not_committed_to_costs_nothing_to_give_up(
    status: BookingStatus,
) -> None:
    cost = cancellation_cost(booking(status, late_charge_pence=5_000), LATE)
    assert (cost.charge_pence, cost.free_until) == (0, None)
