"""Buy-back windows as the council runs them: setting one up, changing it before it opens,
extending its deadline (everyone not yet submitted is told) or closing it early, and the
reminders to schools that have not submitted.

Everyone told or reminded about a school is one of the people who submit its choice
(:func:`portal.buyback.standing.submitters_of`): its head teachers, and the trust's leads for
an academy in a trust. A school with none of them cannot be reached by e-mail: it is never
marked reminded, and is listed for the council to telephone.

Longer than most modules: a window's life (set up, changed, extended, closed early, its
reminders and the council's page of it) in one place, each step checking the others' rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, delete, func, or_, select

from portal import audit, clock
from portal.buyback.standing import submitters_of
from portal.clock import financial_year_label, london_time
from portal.db import db
from portal.models import (
    BuybackChoice,
    BuybackReminder,
    BuybackWindow,
    ChoiceStatus,
    Cohort,
    EstablishmentType,
    School,
    SchoolStatus,
    User,
)
from portal.outbox import email_body, queue_email

MOST_REMINDERS = 6
LONGEST_NOTICE_DAYS = 365


def all_windows() -> list[BuybackWindow]:
    """Every window, the newest year first."""
    return list(
        db.session.scalars(
            select(BuybackWindow).order_by(BuybackWindow.year.desc(), BuybackWindow.opens_at)
        )
    )


def get_window(window_id: int) -> BuybackWindow | None:
    return db.session.get(BuybackWindow, window_id)


# --- reminder days -------------------------------------------------------------------------------


def parse_days(text: Any) -> tuple[int, ...]:
    """Days before a deadline, as a council writes them ("14, 3"): each a whole number from 1
    to 365, the furthest first. ValueError with the message for the person, if not."""
    if isinstance(text, int):
        text = str(text)
    elif isinstance(text, list | tuple):
        text = ",".join(str(item) for item in text)
    parts = [part.strip() for part in str(text).split(",") if part.strip()]
    if not all(part.isascii() and part.isdigit() for part in parts):
        raise ValueError("Enter days as whole numbers separated by commas, like 14, 3")
    days = sorted({int(part) for part in parts}, reverse=True)
    if not all(1 <= day <= LONGEST_NOTICE_DAYS for day in days):
        raise ValueError(f"Each reminder must be from 1 to {LONGEST_NOTICE_DAYS} days before")
    if len(days) > MOST_REMINDERS:
        raise ValueError(f"Enter at most {MOST_REMINDERS} reminders")
    return tuple(days)


def default_reminder_days() -> tuple[int, ...]:
    """The council's reminders for a window that names none of its own (BUYBACK_REMINDER_DAYS)."""
    return parse_days(current_app.config["BUYBACK_REMINDER_DAYS"])


def reminder_days_of(window: BuybackWindow) -> tuple[int, ...]:
    return tuple(window.reminder_days) if window.reminder_days else default_reminder_days()


def days_text(days: Sequence[int]) -> str:
    """(14, 3) -> "14 and 3 days"."""
    if not days:
        return "none"
    numbers = [str(day) for day in days]
    joined = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + numbers[-1]
    return f"{joined} day{'s' if numbers != ['1'] else ''}"


# --- the schools a window waits for --------------------------------------------------------------


def in_cohort(cohort: Any) -> ColumnElement[bool]:
    """:meth:`Cohort.includes` in SQL: a condition on :class:`School` that holds for the
    schools of ``cohort`` (a Cohort, or a column holding one, such as a window's)."""
    academy = School.establishment_type.in_([kind for kind in EstablishmentType if kind.is_academy])
    return or_(
        cohort == Cohort.ALL,
        and_(cohort == Cohort.ACADEMIES, academy),
        and_(cohort == Cohort.MAINTAINED, ~academy),
    )


@dataclass(frozen=True)
class Returns:
    """An open window, and how many of its schools have submitted so far."""

    window: BuybackWindow
    schools: int  # open schools the window is for
    submitted: int


def open_returns() -> list[Returns]:
    """Each window open now, soonest deadline first, with its returns so far: the same
    counts as :func:`overview`, for every open window in one query."""
    moment = clock.now()
    submitted = and_(
        BuybackChoice.window_id == BuybackWindow.id,
        BuybackChoice.school_id == School.id,
        BuybackChoice.status == ChoiceStatus.SUBMITTED,
    )
    rows = db.session.execute(
        select(BuybackWindow, func.count(School.id), func.count(BuybackChoice.id))
        .select_from(BuybackWindow)
        .outerjoin(
            School, and_(School.status == SchoolStatus.OPEN, in_cohort(BuybackWindow.cohort))
        )
        .outerjoin(BuybackChoice, submitted)
        .where(BuybackWindow.opens_at <= moment, BuybackWindow.closes_at > moment)
        .group_by(BuybackWindow.id)
        .order_by(BuybackWindow.closes_at, BuybackWindow.id)
    ).all()
    return [Returns(window, schools, done) for window, schools, done in rows]


def _schools_in(window: BuybackWindow) -> list[School]:
    """The open schools the window is for, by name."""
    schools = db.session.scalars(
        select(School).where(School.status == SchoolStatus.OPEN).order_by(School.name, School.id)
    ).all()
    return [school for school in schools if window.cohort.includes(school)]


def _submitted_ids(window: BuybackWindow) -> set[int]:
    return set(
        db.session.scalars(
            select(BuybackChoice.school_id).where(
                BuybackChoice.window_id == window.id,
                BuybackChoice.status == ChoiceStatus.SUBMITTED,
            )
        )
    )


def waiting_schools(window: BuybackWindow) -> list[School]:
    """The window's schools that have not submitted, by name."""
    submitted = _submitted_ids(window)
    return [school for school in _schools_in(window) if school.id not in submitted]


@dataclass
class Told:
    """Who was written to about some schools, and the schools with nobody to write to."""

    reached: list[School] = field(default_factory=list)
    unreachable: list[School] = field(default_factory=list)


def tell(schools: Sequence[School], write: Callable[[User, list[School]], tuple[str, str]]) -> Told:
    """E-mail the people who submit each school's choice: one message a person, about all
    of their schools among ``schools`` (``write`` gives its subject and body)."""
    people = submitters_of(schools)
    told = Told()
    theirs: dict[int, tuple[User, list[School]]] = {}
    for school in schools:
        if not people[school.id]:
            told.unreachable.append(school)
            continue
        told.reached.append(school)
        for person in people[school.id]:
            theirs.setdefault(person.id, (person, []))[1].append(school)
    for person, their_schools in theirs.values():
        subject, body = write(person, their_schools)
        queue_email(person.email, subject, body)
    return told


def reminder_due_at(window: BuybackWindow, days_before: int) -> datetime:
    return window.closes_at - timedelta(days=days_before)


# --- setting up and changing windows -------------------------------------------------------------


@dataclass(frozen=True)
class WindowDetails:
    """A window as the council's form gives it."""

    year: int
    cohort: Cohort
    opens_at: datetime
    closes_at: datetime
    reminder_days: tuple[int, ...] | None = None


class WindowRefused(Exception):
    """A change the window cannot take: the form field it is about, and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _overlaps(one: Cohort, other: Cohort) -> bool:
    return Cohort.ALL in (one, other) or one is other


def _check(details: WindowDetails, window: BuybackWindow | None = None) -> None:
    """Refuse a window that could not be meant: closing before it opens, or already closed;
    or a second window for the same schools in the same year."""
    if details.closes_at <= details.opens_at:
        raise WindowRefused("closes_on", "The window must close after it opens")
    if details.closes_at <= clock.now():
        raise WindowRefused(
            "closes_on",
            f"The window must close in the future: {london_time(details.closes_at)} has passed",
        )
    others = db.session.scalars(
        select(BuybackWindow).where(BuybackWindow.year == details.year).order_by(BuybackWindow.id)
    ).all()
    clash = next(
        (
            other
            for other in others
            if (window is None or other.id != window.id) and _overlaps(other.cohort, details.cohort)
        ),
        None,
    )
    if clash is not None:
        raise WindowRefused(
            "cohort",
            f"There is already a buy-back window for {clash.cohort.label.lower()} for "
            f"{financial_year_label(details.year)}: a school can be in only one window a year. "
            "Change that window instead",
        )


def create_window(details: WindowDetails, actor: User) -> BuybackWindow:
    _check(details)
    window = BuybackWindow(
        year=details.year,
        cohort=details.cohort,
        opens_at=details.opens_at,
        closes_at=details.closes_at,
        reminder_days=list(details.reminder_days) if details.reminder_days else None,
    )
    db.session.add(window)
    db.session.flush()
    audit.record("buyback.window_opened", actor=actor, subject=window, **_described(window))
    db.session.commit()
    return window


def _described(window: BuybackWindow) -> dict[str, Any]:
    return {
        "year": window.year,
        "cohort": window.cohort.value,
        "opens_at": window.opens_at.isoformat(),
        "closes_at": window.closes_at.isoformat(),
        "reminder_days": window.reminder_days,
    }


def change_window(window: BuybackWindow, details: WindowDetails, actor: User) -> BuybackWindow:
    """Change a window before it opens: once open, only its deadline moves (extend it or
    close it early)."""
    if window.state(clock.now()) != "upcoming":
        raise WindowRefused(
            "opens_on",
            "This window has opened, so it can no longer be changed: extend its deadline "
            "or close it instead",
        )
    _check(details, window)
    before = _described(window)
    window.year = details.year
    window.cohort = details.cohort
    window.opens_at = details.opens_at
    window.closes_at = details.closes_at
    window.reminder_days = list(details.reminder_days) if details.reminder_days else None
    audit.record(
        "buyback.window_changed", actor=actor, subject=window, before=before, **_described(window)
    )
    db.session.commit()
    return window


def extend_deadline(window: BuybackWindow, closes_at: datetime, actor: User) -> Told:
    """Move an open window's deadline later, and tell the people who submit for every
    school not yet submitted. Reminders that the later deadline puts back in the future are
    sent again when due."""
    moment = clock.now()
    if window.state(moment) != "open":
        raise WindowRefused("closes_on", "Only an open window's deadline can be extended")
    if closes_at <= window.closes_at:
        raise WindowRefused(
            "closes_on",
            f"The new deadline must be after the current one, {london_time(window.closes_at)}",
        )
    previous = window.closes_at
    window.closes_at = closes_at
    again = [d for d in reminder_days_of(window) if reminder_due_at(window, d) > moment]
    if again:
        db.session.execute(
            delete(BuybackReminder).where(
                BuybackReminder.window_id == window.id, BuybackReminder.days_before.in_(again)
            )
        )

    def write(person: User, theirs: list[School]) -> tuple[str, str]:
        return (
            f"Buy-back deadline for {window.year_label} extended to "
            f"{london_time(closes_at, '%-d %B %Y')}",
            email_body(
                "email/buyback/deadline-extended.txt",
                person=person,
                window=window,
                schools=theirs,
                previous=previous,
            ),
        )

    told = tell(waiting_schools(window), write)
    audit.record(
        "buyback.deadline_extended",
        actor=actor,
        subject=window,
        closes_at=closes_at.isoformat(),
        was=previous.isoformat(),
        told=len(told.reached),
        unreachable=len(told.unreachable),
    )
    db.session.commit()
    return told


def close_early(window: BuybackWindow, actor: User) -> BuybackWindow:
    """Close an open window now: from this moment nothing can be saved or submitted."""
    moment = clock.now()
    if window.state(moment) != "open":
        raise WindowRefused("confirm", "Only an open window can be closed")
    previous = window.closes_at
    # A window closes after it opens (a constraint): at this moment, or just after opening.
    window.closes_at = max(moment, window.opens_at + timedelta(seconds=1))
    audit.record(
        "buyback.window_closed_early",
        actor=actor,
        subject=window,
        closes_at=window.closes_at.isoformat(),
        was=previous.isoformat(),
    )
    db.session.commit()
    return window


def set_reminders(window: BuybackWindow, days: tuple[int, ...] | None, actor: User) -> None:
    """The days before the deadline the window's reminders go (None: the council's)."""
    if window.state(clock.now()) == "closed":
        raise WindowRefused("reminder_days", "This window has closed: no more reminders go")
    before = window.reminder_days
    window.reminder_days = list(days) if days else None
    audit.record(
        "buyback.window_reminders_changed",
        actor=actor,
        subject=window,
        reminder_days=window.reminder_days,
        before=before,
    )
    db.session.commit()


# --- a window, for the council's page ------------------------------------------------------------


@dataclass(frozen=True)
class ReminderState:
    days_before: int
    due_at: datetime
    sent: int  # schools reminded
    due: bool


@dataclass
class WindowOverview:
    window: BuybackWindow
    state: str
    schools: int  # open schools the window is for
    submitted: int
    days: tuple[int, ...]  # the reminders to come: so many days before the deadline
    reminders: list[ReminderState]  # those, and any sent before they were changed
    own_reminders: bool  # the window's own days, not the council's
    unreachable: list[School]  # not submitted, and nobody to remind


def overview(window: BuybackWindow) -> WindowOverview:
    """Returns so far, the reminders (how many schools each reached), and the schools not
    yet submitted that have nobody to remind, for the council to telephone."""
    moment = clock.now()
    state = window.state(moment)
    schools = _schools_in(window)
    submitted = _submitted_ids(window)
    waiting = [school for school in schools if school.id not in submitted]
    people = submitters_of(waiting) if state != "closed" else {}
    sent = dict(
        db.session.execute(
            select(BuybackReminder.days_before, func.count(BuybackReminder.id))
            .where(BuybackReminder.window_id == window.id)
            .group_by(BuybackReminder.days_before)
        ).all()
    )
    days = reminder_days_of(window)
    shown = sorted(set(days) | set(sent), reverse=True)
    return WindowOverview(
        window=window,
        state=state,
        schools=len(schools),
        submitted=len([school for school in schools if school.id in submitted]),
        days=days,
        reminders=[
            ReminderState(
                d, reminder_due_at(window, d), sent.get(d, 0), moment >= reminder_due_at(window, d)
            )
            for d in shown
        ],
        own_reminders=bool(window.reminder_days),
        unreachable=[]
        if state == "closed"
        else [school for school in waiting if not people.get(school.id)],
    )
