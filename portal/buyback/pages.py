"""What the task list and a category's page read: the school's window, its answers and
where they stand, against the year's offer worked out once (offer.year_offer)."""

from __future__ import annotations

from dataclasses import dataclass

from portal.buyback.answers import Answers, Task, counted_tasks
from portal.buyback.offer import (
    CATEGORY,
    SERVICE,
    Found,
    year_offer,
)
from portal.buyback.offered import Offered, Pricing, offered_item, offered_items
from portal.buyback.school_windows import ChoiceTerms, WindowTerms, current_read, read_windows
from portal.buyback.standing import (
    Standing,
    changes_of,
    may_be_unsent,
    saved_answers,
    standing_of,
    starting_point_of,
)
from portal.models import (
    School,
)
from portal.schools.rolls import rolls_for
from portal.services.catalogue import CategoryName


@dataclass
class ChoiceAsItStands:
    """What a school's task list shows: its window, the services offered, its choice (None
    before any save), its answers priced at today's terms, and where it stands with the
    council."""

    window: WindowTerms
    tasks: list[Task]  # counted, without their services (counted_tasks)
    choice: ChoiceTerms | None
    answers: Answers
    standing: Standing
    # Who made the latest submission and who last saved the choice, by name (None: nobody).
    submitted_by: str | None = None
    updated_by: str | None = None


def choice_as_it_stands(school: School) -> ChoiceAsItStands | None:
    """The task list's reads (None if no window includes the school): the windows with the
    school's choice in each, its latest submission and how many there have been (not every
    submission, each with every line), with who made it and who last saved the choice by
    name (not as objects), in one query; the school's saved answers, each with what the
    latest submission sent of it (and who changed it and when, where it is not as sent), in
    another. The services it may buy are the year's offer for its kind of school, worked
    out once (offer.year_offer)."""
    read = read_windows(school, names=True, rolls=True)
    current = current_read(read)
    if current is None:
        return None
    window, choice, submission, submitted_by, updated_by = current
    year = window.year
    offered = year_offer(school, year)
    answered = saved_answers(school, current, sent=submission is not None)
    start = starting_point_of(school, current, answered, read)
    # A service object only for each service the page prices or may list as changed: of a
    # hundred and fifty, the task list shows counts.
    pricing = Pricing(school, rolls_for(school, (year,)), None, ())
    categories: dict[int, CategoryName] = {}

    def item_of(found: Found) -> Offered:
        return offered_item(found[0], found[1], year, pricing, categories)

    answers = start.priced(school, year, offered.by_service, item_of)
    counted = counted_tasks(offered.found, answers)
    if choice is None:
        return ChoiceAsItStands(window, counted, None, answers, Standing(None, 0, [], None))
    if submission is None:
        stands = Standing(None, 0, [], None)
    else:
        changes = changes_of(choice.id, may_be_unsent(offered, answered), item_of)
        # Submissions are numbered from 1 as they are made: the latest's is how many.
        stands = standing_of(choice, submission, submission.number, changes)
    return ChoiceAsItStands(window, counted, choice, answers, stands, submitted_by, updated_by)


def category_offer(
    school: School, category_id: int
) -> tuple[WindowTerms, list[Offered], Answers] | None:
    """What a category's page shows: the school's current window (None if no window includes
    it), the category's services, and the school's answers to them as they stand.

    Of the other categories' services only those the answers buy are made, for the year's
    total: their own pages price the rest. Two queries: every window with the school's
    latest submission in each; then the school's saved answers (a school with none yet
    starts from what it sent last year, read instead). The services it may buy, with their
    offers last year to compare prices with, are the year's offer for its kind of school,
    worked out once (offer.year_offer).
    """
    read = read_windows(school, rolls=True)
    current = current_read(read)
    if current is None:
        return None
    window = current.window
    year = window.year
    start = starting_point_of(school, current, saved_answers(school, current, sent=False), read)
    bought = start.bought
    items = offered_items(
        school,
        year,
        lambda row: row[CATEGORY] == category_id or row[SERVICE] in bought,
        last_year=True,
    )
    return window, items, start.answers(school, window, items)
