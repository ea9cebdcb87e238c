"""Submitting a school's choice from its task list: the one action behind the Submit button.

A submission is checked against what its person saw (the choice's version, sent with the
form): a choice someone saved since, or a form that does not say what it saw, is shown
again rather than sent. Submit pressed twice sends once: the second press finds the first
submission by the form's key and goes to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from portal import clock
from portal.buyback.answers import Answers, Task, current_answers, tasks
from portal.buyback.choices import StaleChoice, WindowClosed, get_choice, submit
from portal.buyback.offered import Offered, offered_to
from portal.buyback.pages import ChoiceAsItStands
from portal.buyback.school_windows import current_window
from portal.buyback.standing import standing
from portal.db import db
from portal.models import BuybackChoice, BuybackWindow, School, User
from portal.numbers import whole_number

MAX_PURCHASE_ORDER = 40


@dataclass(frozen=True)
class Submitted:
    """The choice was sent (now, or by an earlier press of the same form): its number."""

    number: int


@dataclass(frozen=True)
class NotSubmitted:
    """Nothing was sent: the task list to show again, with why."""

    shown: ChoiceAsItStands
    errors: dict[str, str] = field(default_factory=dict)
    # "changed": someone saved the choice since the form was drawn; "unverified": the form
    # did not say which version its person saw.
    conflict: str | None = None
    closed_on_save: bool = False
    purchase_order: str = ""


def submit_choice(
    school: School, form: Mapping[str, str], actor: User
) -> Submitted | NotSubmitted | None:
    """Submit the school's choice as its task list's form says (None: no window includes the
    school). The caller has checked that the person may submit it."""
    window = current_window(school)
    if window is None:
        return None
    # The task list compares nothing with last year: its categories' pages do.
    offered = offered_to(school, window.year, last_year=False)
    # Submitting writes the draft's lines with today's prices, so reads them as objects.
    stored = get_choice(school, window, with_lines=True)
    answers = current_answers(school, window, offered, stored, stored.lines if stored else [])
    key = form.get("submission_key", "")
    purchase_order = form.get("purchase_order", "").strip()

    def again(listed: list[Task] | None = None, **why: Any) -> NotSubmitted:
        shown = _as_it_stands(window, stored, offered, answers, listed)
        return NotSubmitted(shown, purchase_order=purchase_order, **why)

    # A form that does not say which version its person saw cannot show they saw what is
    # saved now: it is treated as changed, and they are shown the choice as it stands.
    seen_version = whole_number(form.get("version", ""))
    unverified = seen_version is None
    changed = unverified or seen_version != (stored.version if stored else 0)
    if changed and stored is not None:
        # Submitted already by this very form (Submit pressed twice): where it went.
        done = next((s for s in stored.submissions if s.submission_key == key), None)
        if done is not None:
            return Submitted(done.number)
    if window.state(clock.now()) != "open":
        return again(closed_on_save=True)
    if changed:
        return again(conflict="unverified" if unverified else "changed")
    listed = tasks(offered, answers)
    errors = _submit_errors(listed, answers)
    if form.get("declaration") != "yes":
        errors["declaration"] = (
            "Confirm that you are authorised to commit the school to these purchases"
        )
    if len(purchase_order) > MAX_PURCHASE_ORDER:
        errors["purchase_order"] = (
            f"Purchase order number must be {MAX_PURCHASE_ORDER} characters or fewer"
        )
    if errors:
        return again(listed, errors=errors)
    try:
        submission = submit(school, window, stored, answers, offered, actor, purchase_order, key)
    except StaleChoice:
        db.session.rollback()
        stored = get_choice(school, window)
        answers = current_answers(school, window, offered, stored)
        return again(conflict="changed")
    except WindowClosed:
        db.session.rollback()
        return again(closed_on_save=True)
    return Submitted(submission.number)


def _as_it_stands(
    window: BuybackWindow,
    stored: BuybackChoice | None,
    offered: Sequence[Offered],
    answers: Answers,
    listed: list[Task] | None,
) -> ChoiceAsItStands:
    """The task list as this request read it (objects, not the page's plain rows);
    ``listed``: its tasks, if worked out already."""
    stands = standing(stored, offered)
    latest = stands.latest
    return ChoiceAsItStands(
        window,
        listed if listed is not None else tasks(offered, answers),
        stored,
        answers,
        stands,
        submitted_by=latest.submitted_by.display_name if latest is not None else None,
        updated_by=stored.updated_by.display_name
        if stored is not None and stored.updated_by is not None
        else None,
    )


def _submit_errors(tasks: list[Task], answers: Answers) -> dict[str, str]:
    """Each category not ready to submit, with why: unanswered services, or a price missing."""
    errors = {}
    for task in tasks:
        left = task.services - task.answered
        unpriced = [
            answers.errors[f"answer-{item.service.id}"]
            for item in task.items
            if f"answer-{item.service.id}" in answers.errors
        ]
        if left:
            errors[f"category-{task.category.id}"] = (
                f"{task.category.name}: answer every service, buying or not buying "
                f"({left} not answered)"
            )
        elif unpriced:
            errors[f"category-{task.category.id}"] = unpriced[0]
    return errors
