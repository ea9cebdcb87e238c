"""Training at scale: courses, their sessions over two financial years (the demo's), and
schools' approval settings; the bookings are ``training_bookings``' and the supply-cover fund
and its claims ``training_fund``'s."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal import clock
from portal.models import (
    Approver,
    Attendance,
    BuybackChoice,
    BuybackLine,
    BuybackWindow,
    ChoiceStatus,
    Course,
    CourseSession,
    CourseStatus,
    SchoolTrainingSettings,
    Service,
    ServiceKind,
    SessionStatus,
    StaffLevel,
)
from portal_seed.data_files import read_json
from portal_seed.demo.training import weekday
from portal_seed.scale.bulk import Run
from portal_seed.scale.training_bookings import NewCourse, NewSession, add_bookings
from portal_seed.scale.training_fund import Attended, add_fund
from portal_seed.services import LAST_YEAR, NEXT_YEAR

TRAINING = read_json("scale_training.json")
FIRST_DAY, LAST_DAY = date(LAST_YEAR, 4, 1), date(NEXT_YEAR + 1, 3, 31)


def add_training(run: Run) -> None:
    courses = _courses(run)
    sessions = _sessions(run, courses)
    approvers = _settings(run)
    bought = _bought(run, courses)
    counts = add_bookings(run, sessions, approvers, bought)
    run.done("training", courses=len(courses), course_sessions=len(sessions), **counts)
    covered = [c.row for c in courses if c.integrated_working]
    attended = [
        Attended(booking, s.row, s.course.row)
        for s in sessions
        if s.course.integrated_working
        for booking in s.bookings
        if booking["attendance"] is Attendance.ATTENDED
    ]
    add_fund(run, covered, attended)


def _courses(run: Run) -> list[NewCourse]:
    rng = run.rng
    topics, variants = TRAINING["topics"], TRAINING["variants"]
    traded = list(run.session.scalars(select(Service.id).where(Service.kind == ServiceKind.TRADED)))
    first_id = run.next_id(Course)
    created = run.today - timedelta(days=500)
    courses = []
    for number in range(run.plan.courses):
        topic = topics[number % len(topics)]
        round_, variant = divmod(number // len(topics), len(variants))
        title = topic["title"] + variants[variant] + (f" {round_ + 1}" if round_ else "")
        free = rng.random() < 0.35
        price = 0 if free else rng.choice([3500, 4500, 6000, 7500, 9500, 12000, 14000, 16500])
        member = not free and traded and rng.random() < 0.15
        level = StaffLevel(topic["staff_level"])
        status = rng.choices(
            [CourseStatus.PUBLISHED, CourseStatus.WITHDRAWN, CourseStatus.DRAFT], [92, 5, 3]
        )[0]
        if number == 0:
            status = CourseStatus.PUBLISHED  # some course has sessions, at any factor
        courses.append(
            NewCourse(
                {
                    "id": first_id + number,
                    "title": title,
                    "description": f"{topic['title']}: the council's course for "
                    f"{TRAINING['audiences'][level.value].lower()}.",
                    "audience": TRAINING["audiences"][level.value],
                    "staff_level": level,
                    "learning_outcomes": "\n".join(rng.sample(TRAINING["outcomes"], 3)),
                    "duration_minutes": topic["duration_minutes"],
                    "price_pence": price,
                    "member_price_pence": price // 2 if member else None,
                    "member_service_id": rng.choice(traded) if member else None,
                    "academy_price_pence": price + rng.choice([1000, 2000])
                    if not free and rng.random() < 0.2
                    else None,
                    "cancellation_days": rng.choice([3, 5, 7, 10, 14]),
                    "late_charge_pence": rng.choice([None, None, 2500, 5000])
                    if free or rng.random() < 0.3
                    else None,
                    "status": status,
                    "created_at": created,
                    "updated_at": created,
                    "version": 1,
                },
                topic["integrated_working"],
                0.0 if status is CourseStatus.DRAFT else rng.uniform(0.5, 2.0),
            )
        )
    run.insert(Course, (c.row for c in courses))
    return courses


def _school_days() -> list[date]:
    """Every day of the two years that training might be held: school days, not August."""
    days, day = [], FIRST_DAY
    while day <= LAST_DAY:
        if day.month != 8 and weekday(day, True) == day:
            days.append(day)
        day += timedelta(days=1)
    return days


def _sessions(run: Run, courses: list[NewCourse]) -> list[NewSession]:
    rng = run.rng
    days = _school_days()
    today = run.today.date()
    areas = list(run.areas.values())
    first_id = run.next_id(CourseSession)
    past_days = sum(day < today for day in days) or 1
    trainers = [
        f"{first} {last}"
        for first in TRAINING["trainer_first_names"]
        for last in TRAINING["trainer_surnames"]
    ]
    chosen = rng.choices(courses, [c.weight for c in courses], k=run.plan.course_sessions)
    sessions = []
    for number, course in enumerate(chosen):
        session_id = first_id + number
        day = rng.choice(days)
        if course.row["status"] is CourseStatus.WITHDRAWN and day >= today:
            day = days[rng.randrange(past_days)]
        minutes = course.row["duration_minutes"]
        if course.row["staff_level"] is StaffLevel.GOVERNORS:
            start = "18:30"
        else:
            start = "09:30" if minutes > 200 else rng.choice(["09:30", "13:30", "15:45"])
        starts = clock.from_london(day, start)
        online = rng.random() < 0.25
        area = None if online else rng.choice(areas)
        cancelled = rng.random() < 0.02
        ended = starts + timedelta(minutes=minutes)
        register = ended < run.today - timedelta(days=3) or (
            ended < run.today and rng.random() < 0.5
        )
        row = {
            "id": session_id,
            "course_id": course.row["id"],
            "starts_at": starts,
            "ends_at": ended,
            "venue": None if area is None else f"{area.name} {rng.choice(TRAINING['venues'])}",
            "online_link": f"https://meet.council.example/training/{session_id}"
            if online
            else None,
            "area_id": None if area is None else area.id,
            "capacity": rng.choice([40, 60, 80, 100] if online else [12, 16, 20, 24, 30]),
            "places_taken": 0,
            "trainer": rng.choice(trainers),
            "status": SessionStatus.CANCELLED if cancelled else SessionStatus.SCHEDULED,
            "cancelled_reason": "The trainer is unavailable: a new date will follow."
            if cancelled
            else None,
            "register_taken_at": ended + timedelta(hours=1) if register and not cancelled else None,
            # Published some months ahead; those far ahead, some time before today.
            "created_at": min(
                starts - timedelta(days=100), run.today - timedelta(days=rng.uniform(1, 200))
            ),
            "version": 1,
        }
        sessions.append(NewSession(row, course))
    return sessions


def _settings(run: Run) -> dict[int, int]:
    """Who approves bookings at the schools that ask for it: school id to the approver."""
    rows, approvers = [], {}
    for school in run.schools:
        people = run.school_people[school.id]
        fate = run.rng.random()
        if fate < 0.25:
            approver, lead = Approver.HEAD_TEACHER, None
        elif fate < 0.3 and len(people) > 1:
            approver, lead = Approver.TRAINING_LEAD, people[1]
        else:
            continue
        approvers[school.id] = lead or people[0]
        rows.append(
            {
                "school_id": school.id,
                "approver": approver,
                "training_lead_id": lead,
                "updated_at": run.today - timedelta(days=200),
            }
        )
    run.insert(SchoolTrainingSettings, rows)
    return approvers


def _bought(run: Run, courses: list[NewCourse]) -> set[tuple[int, int, int]]:
    """(school, service, year) for the services with a member price, where bought."""
    services = {c.row["member_service_id"] for c in courses} - {None}
    if not services:
        return set()
    return {
        (school_id, service_id, year)
        for school_id, service_id, year in run.session.execute(
            select(BuybackChoice.school_id, BuybackLine.service_id, BuybackWindow.year)
            .join(BuybackLine.choice)
            .join(BuybackChoice.window)
            .where(
                BuybackLine.service_id.in_(services),
                BuybackLine.buying.is_(True),
                BuybackChoice.status == ChoiceStatus.SUBMITTED,
            )
        )
    }
