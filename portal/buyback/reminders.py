"""Reminders before a buy-back window's deadline: to the people who submit for each school
not yet submitted, each reminder once per school, run by the scheduler (``flask buyback
remind``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from portal import clock
from portal.buyback.windows import reminder_days_of, reminder_due_at, tell, waiting_schools
from portal.clock import london_time
from portal.db import db
from portal.models import (
    BuybackReminder,
    BuybackWindow,
    School,
    User,
)
from portal.outbox import email_body


@dataclass
class Reminded:
    """One reminder of one window: the schools reminded, and those nobody could be sent to."""

    window: BuybackWindow
    days_before: int
    schools: list[School]
    unreachable: list[School]


@dataclass
class ReminderReport:
    runs: list[Reminded]

    @property
    def reminded(self) -> int:
        return sum(len(run.schools) for run in self.runs)

    @property
    def unreachable(self) -> list[tuple[BuybackWindow, School]]:
        return [(run.window, school) for run in self.runs for school in run.unreachable]


def send_reminders(days: Sequence[int] | None = None) -> ReminderReport:
    """Remind the people who submit for each school that has not submitted, in every open
    window whose reminder is due: each reminder (so many days before the deadline: the
    window's own, else the council's, else ``days`` if given) once per school. Only the
    nearest reminder due is sent, so a run missed does not send two at once. A school is
    marked reminded only if someone was written to."""
    moment = clock.now()
    windows = db.session.scalars(
        select(BuybackWindow)
        .where(BuybackWindow.opens_at <= moment, BuybackWindow.closes_at > moment)
        .order_by(BuybackWindow.closes_at, BuybackWindow.id)
    ).all()
    runs = []
    for window in windows:
        due = [
            d for d in (days or reminder_days_of(window)) if moment >= reminder_due_at(window, d)
        ]
        if not due:
            continue
        days_before = min(due)
        done = set(
            db.session.scalars(
                select(BuybackReminder.school_id).where(
                    BuybackReminder.window_id == window.id,
                    BuybackReminder.days_before == days_before,
                )
            )
        )
        schools = [school for school in waiting_schools(window) if school.id not in done]
        told = tell(schools, _reminder_for(window))
        for school in told.reached:
            db.session.add(
                BuybackReminder(school_id=school.id, window_id=window.id, days_before=days_before)
            )
        runs.append(Reminded(window, days_before, told.reached, told.unreachable))
    db.session.commit()
    return ReminderReport(runs)


def _reminder_for(window: BuybackWindow) -> Callable[[User, list[School]], tuple[str, str]]:
    def write(person: User, theirs: list[School]) -> tuple[str, str]:
        return (
            f"Reminder: buy-back choices for {window.year_label} are due by "
            f"{london_time(window.closes_at, '%-d %B %Y')}",
            email_body("email/buyback/reminder.txt", person=person, window=window, schools=theirs),
        )

    return write
