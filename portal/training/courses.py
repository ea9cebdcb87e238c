"""The training coordinator's courses: the list of every course with its upcoming sessions'
places, creating and changing a course (checked against the version the coordinator saw),
publishing it to schools and withdrawing it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm.exc import StaleDataError

from portal import audit, clock
from portal.db import db
from portal.models import (
    Course,
    CourseSession,
    CourseStatus,
    Service,
    ServiceKind,
    SessionStatus,
    StaffLevel,
    User,
)
from portal.pagination import Page, paginate_rows

COURSES_PER_PAGE = 25


@dataclass(frozen=True)
class CourseDetails:
    """What the coordinator types for a course; amounts in pence."""

    title: str
    description: str
    audience: str
    staff_level: StaffLevel
    learning_outcomes: str
    duration_minutes: int
    price_pence: int
    member_price_pence: int | None
    member_service_id: int | None
    academy_price_pence: int | None
    cancellation_days: int
    late_charge_pence: int | None


@dataclass(frozen=True)
class CourseSaved:
    course: Course


@dataclass(frozen=True)
class CourseConflict:
    """Someone else changed the course since the coordinator read it: nothing was saved, and
    the course is read again, as it is now."""

    course: Course


def course_list(status: CourseStatus | None, page: int) -> Page[Row[Any]]:
    """Every course (of ``status``, if given), by title, each with its upcoming scheduled
    sessions: how many, places booked and places in all."""
    upcoming = (
        select(
            CourseSession.course_id.label("course_id"),
            func.count().label("sessions"),
            func.sum(CourseSession.places_taken).label("booked"),
            func.sum(CourseSession.capacity).label("capacity"),
        )
        .where(
            CourseSession.status == SessionStatus.SCHEDULED,
            # Still to come by the clock that decides (tests move it).
            CourseSession.starts_at > clock.now(),
        )
        .group_by(CourseSession.course_id)
        .subquery()
    )
    query = (
        select(
            Course.id,
            Course.title,
            Course.status,
            Course.price_pence,
            Course.academy_price_pence,
            func.coalesce(upcoming.c.sessions, 0).label("sessions"),
            func.coalesce(upcoming.c.booked, 0).label("booked"),
            func.coalesce(upcoming.c.capacity, 0).label("capacity"),
        )
        .outerjoin(upcoming, upcoming.c.course_id == Course.id)
        .order_by(Course.title, Course.id)
    )
    if status is not None:
        query = query.where(Course.status == status)
    return paginate_rows(query, page, COURSES_PER_PAGE)


def traded_services() -> list[Service]:
    """The traded services a course's lower price can name, by name."""
    return list(
        db.session.scalars(
            select(Service).where(Service.kind == ServiceKind.TRADED).order_by(Service.name)
        )
    )


def member_service_is_traded(service_id: int) -> bool:
    return (
        db.session.scalar(
            select(Service.id).where(Service.id == service_id, Service.kind == ServiceKind.TRADED)
        )
        is not None
    )


def _values(course: Course) -> dict[str, Any]:
    values = {f.name: getattr(course, f.name) for f in fields(CourseDetails)}
    values["staff_level"] = course.staff_level.value if course.staff_level else None
    return values


def _apply(course: Course, details: CourseDetails) -> None:
    for f in fields(CourseDetails):
        setattr(course, f.name, getattr(details, f.name))


def create_course(details: CourseDetails, actor: User) -> Course:
    """A new draft course, for the coordinator to add sessions to and then publish."""
    course = Course(status=CourseStatus.DRAFT)
    _apply(course, details)
    db.session.add(course)
    db.session.flush()
    audit.record("training.course_created", actor=actor, subject=course, values=_values(course))
    db.session.commit()
    return course


def update_course(
    course: Course, details: CourseDetails, actor: User, seen_version: int
) -> CourseSaved | CourseConflict:
    """Change ``course`` as the coordinator saw it at ``seen_version``; a change made by
    someone else since is never overwritten."""
    if course.version != seen_version:
        return CourseConflict(course)
    before = _values(course)
    _apply(course, details)
    after = _values(course)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        course.updated_at = clock.utcnow()
        audit.record("training.course_updated", actor=actor, subject=course, changes=changes)
    try:
        db.session.commit()
    except StaleDataError:
        # Another change landed between reading the course and this commit.
        db.session.rollback()
        db.session.refresh(course)
        return CourseConflict(course)
    return CourseSaved(course)


@dataclass(frozen=True)
class StatusChanged:
    course: Course
    changed: bool  # False: it already had that status


def _set_status(course: Course, status: CourseStatus, action: str, actor: User) -> StatusChanged:
    if course.status is status:
        return StatusChanged(course, changed=False)
    before = course.status
    course.status = status
    course.updated_at = clock.utcnow()
    audit.record(action, actor=actor, subject=course, from_status=before.value, title=course.title)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        db.session.refresh(course)
        return StatusChanged(course, changed=course.status is status)
    return StatusChanged(course, changed=True)


def publish(course: Course, actor: User) -> StatusChanged:
    """Schools can find and book the course's sessions from now on."""
    return _set_status(course, CourseStatus.PUBLISHED, "training.course_published", actor)


def withdraw(course: Course, actor: User) -> StatusChanged:
    """Schools no longer find the course; its bookings stand (a session is cancelled on its
    own, telling everyone booked)."""
    return _set_status(course, CourseStatus.WITHDRAWN, "training.course_withdrawn", actor)


def course_sessions(course: Course) -> list[CourseSession]:
    """A course's sessions for its coordinator's page, the latest first."""
    return list(
        db.session.scalars(
            select(CourseSession)
            .where(CourseSession.course_id == course.id)
            .order_by(CourseSession.starts_at.desc(), CourseSession.id)
        )
    )
