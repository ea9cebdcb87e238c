"""Which buy-back windows a school is in, read once a request, with its choice in each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Select,
    bindparam,
    select,
)

from portal import clock
from portal.db import db, driver_rows, request_memo
from portal.models import (
    BuybackChoice,
    BuybackSubmission,
    BuybackWindow,
    ChoiceStatus,
    Cohort,
    School,
    User,
)
from portal.schools.rolls import remember_rolls, roll_column

# --- windows ----------------------------------------------------------------------------------


WINDOWS_MEMO = "buyback_windows"


def windows_for(school: School) -> list[BuybackWindow]:
    """The windows that include this school, newest year first."""
    # A handful of rows a year, asked for more than once while a page is drawn (the current
    # window, last year's): read once per request.
    memo = request_memo(WINDOWS_MEMO)
    if "all" not in memo:
        memo["all"] = db.session.scalars(
            select(BuybackWindow).order_by(BuybackWindow.year.desc(), BuybackWindow.opens_at.desc())
        ).all()
    return [w for w in memo["all"] if w.cohort.includes(school)]


def current_window(school: School) -> BuybackWindow | None:
    """The open window for the school, else the next upcoming one, else the latest closed."""
    return _current_of(windows_for(school), clock.now())


def _current_of(windows: Sequence[Any], moment: datetime) -> Any:
    """Of a school's ``windows`` (newest year first: objects or WindowTerms), the open one,
    else the next upcoming, else the latest closed; None if there are none."""
    for state in ("open", "upcoming", "closed"):
        for window in windows:
            if window.state(moment) == state:
                return window
    return None


class WindowTerms(NamedTuple):
    """A buy-back window as the pages a school opens read it (its task list, a category,
    home): plain values from the driver, not an ORM object. A save or a submission reads
    the window as an object (current_window), as it writes choices in it."""

    id: int
    year: int
    cohort: Cohort
    opens_at: datetime
    closes_at: datetime

    # The window's rules are the model's own, not written again here.
    year_label = BuybackWindow.year_label
    state = BuybackWindow.state


class ChoiceTerms(NamedTuple):
    """A school's choice in a window, as the pages a school opens read it (WindowTerms)."""

    id: int
    status: ChoiceStatus
    purchase_order: str | None
    updated_at: datetime
    version: int
    unsent_since: datetime | None


class SubmissionTerms(NamedTuple):
    """A choice's latest submission, as the pages a school opens read it (WindowTerms),
    without its lines: what it sent of each service is read, where a page needs it, from
    its answer rows (BuybackSubmissionAnswer)."""

    id: int
    number: int
    submitted_at: datetime
    net_pence: int
    vat_pence: int


class WindowRead(NamedTuple):
    """One of a school's windows with its choice in it and that choice's latest submission
    (None: none), and who made the submission and who last saved the choice, by name, where
    they are read."""

    window: WindowTerms
    choice: ChoiceTerms | None
    latest: SubmissionTerms | None
    submitted_by: str | None = None
    updated_by: str | None = None


@cache
def windows_statement(names: bool, rolls: bool) -> Select[Any]:
    """Every window, newest first, with the choice of the school ``school_id`` names in it,
    if any, and that choice's latest submission, as plain columns (``names``: with who made
    it and who last saved the choice; ``rolls``: with the school's pupils on roll in the
    window's year and the year before, which its prices are worked out from). Made once,
    for the driver (driver_rows).

    Not the submission's lines: 24 KB of JSON for a school answering every service, read
    and decoded on every drawing of its task list and categories (about 0.6 ms of a task
    list's 7). What a page needs of them is in the answer rows."""
    columns: list[Any] = [
        BuybackWindow.id,
        BuybackWindow.year,
        BuybackWindow.cohort,
        BuybackWindow.opens_at,
        BuybackWindow.closes_at,
        BuybackChoice.id,
        BuybackChoice.status,
        BuybackChoice.purchase_order,
        BuybackChoice.updated_at,
        BuybackChoice.version,
        BuybackChoice.unsent_since,
        BuybackSubmission.id,
        BuybackSubmission.number,
        BuybackSubmission.submitted_at,
        BuybackSubmission.net_pence,
        BuybackSubmission.vat_pence,
    ]
    if names:
        columns += [
            select(User.display_name)
            .where(User.id == BuybackSubmission.submitted_by_id)
            .scalar_subquery(),
            select(User.display_name)
            .where(User.id == BuybackChoice.updated_by_id)
            .scalar_subquery(),
        ]
    if rolls:
        school = bindparam("school_id")
        columns += [
            roll_column(school, BuybackWindow.year),
            roll_column(school, BuybackWindow.year - 1),
        ]
    return (
        select(*columns)
        .select_from(BuybackWindow)
        .outerjoin(
            BuybackChoice,
            (BuybackChoice.window_id == BuybackWindow.id)
            & (BuybackChoice.school_id == bindparam("school_id")),
        )
        .outerjoin(BuybackSubmission, BuybackSubmission.id == latest_submission_id())
        .order_by(BuybackWindow.year.desc(), BuybackWindow.opens_at.desc())
    )


def read_windows(school: School, *, names: bool = False, rolls: bool = False) -> list[WindowRead]:
    """The windows that include ``school``, newest year first, each with the school's choice
    in it and that choice's latest submission: one statement, plain values (WindowRead).
    ``rolls``: with the school's pupils on roll in each window's year and the year before,
    remembered for pricing (remember_rolls).

    The ORM made an object of each window, choice and submission read, with its identity
    and state kept in the session: about as much again as the statement's own cost on the
    task list, for a page that only reads them."""
    read = []
    rolls_at = 18 if names else 16
    for row in driver_rows(windows_statement(names, rolls), {"school_id": school.id}):
        window = WindowTerms(*row[:5])
        if not window.cohort.includes(school):
            continue
        choice = None if row[5] is None else ChoiceTerms(*row[5:11])
        latest = None if row[11] is None else SubmissionTerms(*row[11:16])
        read.append(WindowRead(window, choice, latest, *row[16:rolls_at]))
        if rolls:
            recorded = row[rolls_at : rolls_at + 2]
            remember_rolls(school, {window.year: recorded[0], window.year - 1: recorded[1]})
    return read


def current_read(read: Sequence[WindowRead]) -> WindowRead | None:
    """Of a school's windows as read (read_windows), the current one (current_window)."""
    window = _current_of([found.window for found in read], clock.now())
    return next((found for found in read if found.window is window), None)


def latest_submission_id() -> Any:
    """The id of a choice's latest submission, for a query that reads choices."""
    return (
        select(BuybackSubmission.id)
        .where(BuybackSubmission.choice_id == BuybackChoice.id)
        .order_by(BuybackSubmission.number.desc())
        .limit(1)
        .correlate(BuybackChoice)
        .scalar_subquery()
    )
