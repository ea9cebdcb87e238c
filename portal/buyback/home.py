"""What buy-back asks of a person on their home page.

For a school: its choice in the window open now, due by the deadline and not submitted, or
submitted and changed since (changes not yet sent), as the choice page itself says
(:class:`service.AcademyRow`: ``unsent_since``, kept by every save). For council staff who
follow the season: each open window and its returns so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import url_for

from portal import clock
from portal.access import Capability, Principal
from portal.buyback import windows
from portal.buyback.trust import AcademyRow, academy_rows, windows_read_for
from portal.models import School
from portal.templating import london_time
from portal.todo import ToDo, ToDoList

# Where a choice stands, in service.AcademyRow.status's words.
SUBMITTED, DRAFT, UNSENT = "Submitted", "Draft", "Submitted; changes not yet sent"


def home_tasks(who: Principal, schools: Sequence[School]) -> ToDoList | None:
    """The buy-back's list on ``who``'s home page: for each of ``schools`` (theirs), where
    its choice stands; for council staff, the open windows' returns. None when buy-back is
    none of their business."""
    if not who.can(Capability.VIEW_BUYBACK):
        return None
    if who.council_wide:
        return ToDoList("Buy-back returns", tuple(_returns(r) for r in windows.open_returns()))
    if not schools:
        return None
    several = len(schools) > 1
    submits = who.can(Capability.EDIT_BUYBACK)
    moment = clock.now()
    items = tuple(
        _for_one_of_several(row, moment) if several else _for_the_school(row, moment, submits)
        for row in academy_rows(schools)
    )
    return ToDoList("Buy-back", items)


def home_reads(who: Principal, schools: Sequence[School]) -> list[tuple[Any, dict[str, Any]]]:
    """What home_tasks will read for ``who`` (db.read_ahead): for one school, its windows
    with its choice (service.academy_rows)."""
    if not who.can(Capability.VIEW_BUYBACK) or who.council_wide or len(schools) != 1:
        return []
    return windows_read_for(schools[0])


def _returns(returns: windows.Returns) -> ToDo:
    window = returns.window
    return ToDo(
        f"Returns for {window.year_label}: {window.cohort.label.lower()}",
        url_for("buyback.window", window_id=window.id),
        hint=f"{returns.submitted:,} of {returns.schools:,} submitted so far. "
        f"Closes {london_time(window.closes_at)}.",
        status="Open",
        colour="green",
    )


def _for_the_school(row: AcademyRow, moment: datetime, submits: bool) -> ToDo:
    """The school's choice as one thing to do: done unless its window is open and the
    council does not yet have the choice as it stands."""
    window, school = row.window, row.school
    if window is None or window.state(moment) != "open":
        return ToDo("Buy-back", None, done=True, school_id=school.id)
    href = url_for("buyback.choice", school_id=school.id)
    deadline = london_time(window.closes_at)
    status = row.status
    if status == SUBMITTED:
        return ToDo("Buy-back", href, done=True, school_id=school.id)
    if status == UNSENT:
        since = _unsent_since(row)
        return ToDo(
            f"Send the changes to the buy-back choice for {window.year_label}"
            if submits
            else f"Changes to the buy-back choice for {window.year_label} are not yet sent",
            href,
            hint=f"Submitted, but changed since submission on {since}: changes not yet sent. "
            + (
                f"Submit it again by {deadline}."
                if submits
                else f"The head teacher submits it again, by {deadline}."
            ),
            status="Changes not yet sent",
            colour="yellow",
            school_id=school.id,
        )
    return ToDo(
        f"Submit the buy-back choice for {window.year_label}"
        if submits
        else f"Prepare the buy-back choice for {window.year_label}",
        href,
        hint=f"Due by {deadline}, not submitted."
        + ("" if submits else " The head teacher submits it."),
        status=status,
        colour="light-blue" if status == DRAFT else "blue",
        school_id=school.id,
    )


def _for_one_of_several(row: AcademyRow, moment: datetime) -> ToDo:
    """One of a trust's academies (or anyone's several schools): where its choice stands, in
    the words of the trust's buy-back page, and its deadline."""
    window, school = row.window, row.school
    if window is None:
        return ToDo("No window", None, done=True, school_id=school.id)
    href = url_for("buyback.choice", school_id=school.id)
    state = window.state(moment)
    status = row.status
    if state == "upcoming":
        hint = f"Opens on {london_time(window.opens_at)}; due by {london_time(window.closes_at)}"
    elif state == "closed":
        hint = f"The deadline, {london_time(window.closes_at)}, has passed"
    elif status == UNSENT:
        hint = (
            f"Changed since submission on {_unsent_since(row)}: submit again by "
            f"{london_time(window.closes_at)}"
        )
    elif row.latest is not None:
        hint = f"Submitted on {london_time(row.latest.submitted_at)}"
    else:
        hint = f"Due by {london_time(window.closes_at)}"
    return ToDo(
        "Changes not yet sent" if status == UNSENT else status,
        href,
        hint=hint,
        done=state != "open" or status == SUBMITTED,
        school_id=school.id,
    )


def _unsent_since(row: AcademyRow) -> str:
    """Since when the choice has had changes not yet sent (the row's status says it has)."""
    since = row.choice.unsent_since if row.choice is not None else None
    return london_time(since) if since is not None else "a date not recorded"
