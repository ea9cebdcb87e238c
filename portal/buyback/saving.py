"""A category's page of the buy-back: what it shows, its running total, and saving it.

Saving merges the category's answers into the school's draft (colleagues may work on other
categories at once) and is refused, with the services concerned, if someone changed what
this person saw since their page was drawn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from portal.buyback.answers import (
    Answers,
    Task,
    current_answers,
    read_answers,
    read_seen,
    seen_text,
    tasks,
)
from portal.buyback.choices import StaleChoice, WindowClosed, get_choice, save
from portal.buyback.offered import Offered, offered_to
from portal.buyback.pages import category_offer
from portal.buyback.school_windows import WindowTerms, current_window
from portal.db import db
from portal.models import BuybackChoice, BuybackWindow, School, User


@dataclass(frozen=True)
class CategoryPage:
    """What a category's page shows: the category's services and the school's answers (as
    saved, or as the person has just chosen), with the whole year's total as they make it."""

    window: BuybackWindow | WindowTerms
    # The choice as a save read it; None on a page that only shows and totals.
    choice: BuybackChoice | None
    items: list[Offered]
    answers: Answers
    # What the person was shown of the category's answers, sent back with a save.
    seen: str
    errors: dict[str, str] = field(default_factory=dict)
    # Someone saved the choice since the page was drawn (StaleChoice says who changed what).
    conflict: StaleChoice | None = None
    closed_on_save: bool = False

    @property
    def task(self) -> Task:
        # The category's task alone: the others' services are read only as far as they
        # count towards the year's total, which the answers give.
        return tasks(self.items, self.answers)[0]

    @property
    def name(self) -> str:
        return self.items[0].category.name


@dataclass(frozen=True)
class Saved:
    """The category's answers are saved into the draft."""

    category: str


def category_page(
    school: School, category_id: int, form: Mapping[str, str] | None = None
) -> CategoryPage | None:
    """The category's page (None: no window includes the school, or it offers no such
    category); with ``form``, the answers as the person has chosen them so far, totalled
    but not saved."""
    found = category_offer(school, category_id)
    if found is None:
        return None
    window, offered, shown = found
    items = _of_category(offered, category_id)
    if not items:
        return None
    page = CategoryPage(window, None, items, shown, seen_text(shown, items))
    if form is None:
        return page
    posted = read_answers(form, items, school, window.year)
    # The whole year's total counts the other categories as they stand.
    answers = Answers({**shown.by_service, **posted.by_service}, posted.errors)
    return replace(page, answers=answers, errors=posted.errors)


def save_category(
    school: School, category_id: int, form: Mapping[str, str], actor: User
) -> Saved | CategoryPage | None:
    """Save the category's answers from its form into the school's draft: Saved, or the page
    again with why not (None: no window includes the school, or no such category). The
    caller has checked that the person may prepare the choice."""
    window = current_window(school)
    if window is None:
        return None
    # A save checks, and tells the head teacher of, changes to the whole choice.
    stored = get_choice(school, window)
    offered = offered_to(school, window.year)
    shown = current_answers(school, window, offered, stored)
    items = _of_category(offered, category_id)
    if not items:
        return None
    posted = read_answers(form, items, school, window.year)
    answers = Answers({**shown.by_service, **posted.by_service}, posted.errors)

    def again(**why: Any) -> CategoryPage:
        return CategoryPage(window, stored, items, answers, seen_text(shown, items), **why)

    if posted.errors:
        return again(errors=posted.errors)
    try:
        save(
            school,
            window,
            stored,
            posted,
            actor,
            offered,
            shown=shown,
            seen=read_seen(form.get("seen", "")),
        )
    except StaleChoice as stale:
        db.session.rollback()
        stored = get_choice(school, window)
        # The form keeps what this person chose; what they saw is now what is saved, so a
        # second save, once checked, goes through.
        shown = current_answers(school, window, offered, stored)
        return again(conflict=stale)
    except WindowClosed:
        db.session.rollback()
        return again(closed_on_save=True)
    return Saved(items[0].category.name)


def _of_category(offered: list[Offered], category_id: int) -> list[Offered]:
    return [item for item in offered if item.category.id == category_id]
