"""Bookings at scale, session by session in the order people booked, as the portal's
workflow takes places: a booking holds a place while one is left and waits on the list after
that, so each session's ``places_taken`` is the count of its bookings holding a place, never
more than its capacity. Past sessions have their registers taken; sessions soon to come are
fuller than those months ahead, and the fullest have waiting lists and offers open.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from portal import clock
from portal.models import (
    Attendance,
    Booking,
    BookingStatus,
    CourseSession,
    Evaluation,
    SessionStatus,
)
from portal.training import charges
from portal_seed.data_files import read_json
from portal_seed.scale.bulk import Run
from portal_seed.scale.people import invented_name, local_part
from portal_seed.scale.plan import NewSchool

JOBS: list[str] = read_json("scale_training.json")["jobs"]


@dataclass
class NewCourse:
    """A course to be generated: its row, and how often it runs."""

    row: dict[str, Any]
    integrated_working: bool
    weight: float


@dataclass
class NewSession:
    """A session to be generated, with its bookings as they are made."""

    row: dict[str, Any]
    course: NewCourse
    bookings: list[dict[str, Any]] = field(default_factory=list)


def _demand(run: Run, sessions: list[NewSession]) -> list[int]:
    """How many bookings each session gets: fuller when soon or past, about the plan's total,
    up to its capacity (and a waiting list for sessions soon to come)."""
    rng = run.rng
    wanted, limits = [], []
    for s in sessions:
        capacity = s.row["capacity"]
        ahead = (s.row["starts_at"] - run.today).days
        low, high = (
            (0.45, 1.0)
            if ahead < 0
            else (0.6, 1.3)
            if ahead < 30
            else (0.2, 0.9)
            if ahead < 120
            else (0.0, 0.35)
        )
        wanted.append(capacity * rng.uniform(low, high))
        limits.append(capacity + (8 if 0 <= ahead < 120 else 0))
    scale = 1.0
    for _ in range(4):  # capping loses some: scale up again towards the plan's total
        counts = [min(limit, round(w * scale)) for w, limit in zip(wanted, limits, strict=True)]
        scale *= run.plan.bookings / max(1, sum(counts))
    return [min(limit, round(w * scale)) for w, limit in zip(wanted, limits, strict=True)]


class _Picker:
    """Schools to book from: a session's own area's mostly, bigger schools more often."""

    def __init__(self, rng: random.Random, schools: list[NewSchool]) -> None:
        self.rng = rng
        self.all = self._weighted(schools)
        by_area: dict[str, list[NewSchool]] = defaultdict(list)
        for school in schools:
            by_area[school.area_code].append(school)
        self.areas = {code: self._weighted(found) for code, found in by_area.items()}

    @staticmethod
    def _weighted(schools: list[NewSchool]) -> tuple[list[NewSchool], list[float]]:
        return schools, list(accumulate(school.pupils**0.5 for school in schools))

    def pick(self, area_code: str | None, k: int) -> list[NewSchool]:
        local = self.areas.get(area_code or "")
        picked = []
        for _ in range(k):
            schools, weights = local if local and self.rng.random() < 0.8 else self.all
            picked.append(self.rng.choices(schools, cum_weights=weights)[0])
        return picked


def add_bookings(
    run: Run,
    sessions: list[NewSession],
    approvers: dict[int, int],
    bought: set[tuple[int, int, int]],
) -> dict[str, int]:
    rng = run.rng
    picker = _Picker(rng, run.schools)
    area_codes = {area.id: code for code, area in run.areas.items()}
    jobs = JOBS
    next_id = run.next_id(Booking)
    made_count = 0
    evaluations: list[dict[str, Any]] = []
    for s, wanted in zip(sessions, _demand(run, sessions), strict=True):
        row, course = s.row, s.course.row
        starts, capacity = row["starts_at"], row["capacity"]
        year = clock.financial_year(clock.today_in_london(starts))
        past = starts < run.today
        opened = row["created_at"]
        latest = min(starts - timedelta(days=1), run.today - timedelta(hours=2))
        span = max((latest - opened).total_seconds(), 3600.0)
        moments = sorted(opened + timedelta(seconds=rng.uniform(0, span)) for _ in range(wanted))
        held = 0
        for school, made in zip(
            picker.pick(area_codes.get(row["area_id"]), wanted), moments, strict=True
        ):
            if past and held >= capacity:
                break
            first, last = invented_name(rng)
            people = run.school_people[school.id]
            price = course["price_pence"]
            if school.is_academy and course["academy_price_pence"] is not None:
                price = course["academy_price_pence"]
            elif (school.id, course["member_service_id"], year) in bought:
                price = course["member_price_pence"]
            booking = _booking_row(next_id + made_count, row, school.id, made)
            made_count += 1
            booking |= {
                "attendee_name": f"{first} {last}",
                "attendee_email": f"{local_part(first, last)}@{school.urn}.schools.example",
                "attendee_job_title": rng.choice(jobs),
                "booked_by_id": rng.choice(people),
                "price_pence": price,
            }
            held += _decide(run, booking, course, row, held, approvers.get(school.id))
            if booking["attendance"] is Attendance.ATTENDED and rng.random() < 0.45:
                evaluations.append(_evaluation(rng, booking["id"], row["ends_at"], run.today))
            s.bookings.append(booking)
        _offer_a_place(run, s)
        row["places_taken"] = sum(b["status"].holds_place for b in s.bookings)
    run.insert(CourseSession, (s.row for s in sessions))
    return {
        "bookings": run.insert(Booking, (b for s in sessions for b in s.bookings)),
        "evaluations": run.insert(Evaluation, evaluations),
    }


def _booking_row(
    booking_id: int, session: dict[str, Any], school_id: int, made: datetime
) -> dict[str, Any]:
    return {
        "id": booking_id,
        "session_id": session["id"],
        "school_id": school_id,
        "attendee_user_id": None,
        "status": BookingStatus.CONFIRMED,
        "created_at": made,
        "joined_list_at": None,
        "offer_expires_at": None,
        "decided_by_id": None,
        "decided_at": None,
        "reason": None,
        "cancelled_at": None,
        "charge_pence": 0,
        "attendance": None,
        "reminded_at": None,
        "evaluation_requested_at": None,
        "submission_key": None,
        "version": 1,
    }


def _decide(
    run: Run,
    booking: dict[str, Any],
    course: dict[str, Any],
    session: dict[str, Any],
    held: int,
    approver: int | None,
) -> int:
    """What became of one booking; 1 if it holds a place."""
    rng = run.rng
    made, starts, price = booking["created_at"], session["starts_at"], booking["price_pence"]
    if session["status"] is SessionStatus.CANCELLED:
        booking["status"] = BookingStatus.SESSION_CANCELLED
        return 0
    if held >= session["capacity"]:
        booking |= {"status": BookingStatus.WAITING, "joined_list_at": made}
        return 0
    fate = rng.random()
    asked = approver is not None and booking["booked_by_id"] != approver
    if asked and fate < 0.02:
        booking |= {
            "status": BookingStatus.REFUSED,
            "decided_by_id": approver,
            "decided_at": min(made + timedelta(days=1), run.today),
            "reason": "Not this term: we cannot release staff.",
        }
        return 0
    if fate < 0.09:
        cancelled = made + (min(starts, run.today) - made) * rng.random()
        late = cancelled > starts - timedelta(days=course["cancellation_days"])
        booking |= {
            "status": BookingStatus.CANCELLED,
            "cancelled_at": cancelled,
            "charge_pence": late_charge_of(course, price) if late else 0,
        }
        return 0
    booking["charge_pence"] = price
    if asked and starts > run.today and made > run.today - timedelta(days=5):
        booking["status"] = BookingStatus.AWAITING_APPROVAL
        return 1
    if asked:
        booking |= {
            "decided_by_id": approver,
            "decided_at": min(made + timedelta(days=1), run.today),
        }
    if starts - timedelta(days=2) < run.today:
        booking["reminded_at"] = starts - timedelta(days=2)
    if session["register_taken_at"] is not None:
        if rng.random() < 0.09:
            booking |= {
                "attendance": Attendance.ABSENT,
                "charge_pence": late_charge_of(course, price),
            }
        else:
            booking |= {
                "attendance": Attendance.ATTENDED,
                "evaluation_requested_at": session["ends_at"] + timedelta(hours=2),
            }
    return 1


def late_charge_of(course: dict[str, Any], price: int) -> int:
    """The late charge of a course row (see ``portal_seed.demo.training.late_charge``)."""
    return charges.late_charge(course["late_charge_pence"], price)


def _offer_a_place(run: Run, session: NewSession) -> None:
    """At some full sessions soon to come, a place was given up a day ago and offered to the
    first on the waiting list, who has two days to accept."""
    waiting = [b for b in session.bookings if b["status"] is BookingStatus.WAITING]
    confirmed = [b for b in session.bookings if b["status"] is BookingStatus.CONFIRMED]
    if not waiting or not confirmed or run.rng.random() < 0.6:
        return
    given_up = confirmed[-1]
    given_up |= {
        "status": BookingStatus.CANCELLED,
        "cancelled_at": run.today - timedelta(days=1),
        "charge_pence": 0,
        "reminded_at": None,
    }
    starts = session.row["starts_at"]
    if given_up["cancelled_at"] > starts - timedelta(days=session.course.row["cancellation_days"]):
        given_up["charge_pence"] = late_charge_of(session.course.row, given_up["price_pence"])
    waiting[0] |= {
        "status": BookingStatus.OFFERED,
        "offer_expires_at": run.today + timedelta(days=2),
        "charge_pence": waiting[0]["price_pence"],
    }


def _evaluation(
    rng: random.Random, booking_id: int, ended: datetime, today: datetime
) -> dict[str, Any]:
    return {
        "booking_id": booking_id,
        "overall": rng.choices([5, 4, 3, 2, 1], [45, 35, 12, 5, 3])[0],
        "met_outcomes": rng.choices([5, 4, 3, 2, 1], [40, 38, 14, 5, 3])[0],
        "will_use": "",
        "comments": "",
        "submitted_at": min(ended + timedelta(days=rng.randint(1, 10)), today),
    }
