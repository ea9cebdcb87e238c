"""A person's home page: what needs doing, put together from each capability's own list.

Nothing here reads data or decides what needs doing: each capability says that of its own
(its ``home_tasks``, and what it will read for them, ``home_reads``), and this only puts the
lists in order. Someone with several schools (a trust lead) sees each school's buy-back and
support requests side by side, a row a school.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.access import Principal
from portal.accounts import home as accounts
from portal.buyback import home as buyback
from portal.contacts import home as contacts
from portal.db import read_ahead
from portal.models import School
from portal.register import home as register
from portal.schools.service import own_schools
from portal.services import home as services
from portal.support import home as support
from portal.support.queue import QueueCounts, queue_counts
from portal.todo import ToDo, ToDoList
from portal.training import home as training


@dataclass(frozen=True)
class SchoolRow:
    """One of several schools: where its buy-back choice stands, and its open requests."""

    school: School
    buyback: ToDo | None
    support: ToDo | None

    @property
    def to_do(self) -> bool:
        return any(item is not None and not item.done for item in (self.buyback, self.support))


@dataclass(frozen=True)
class Home:
    schools: list[School]
    # Each capability's things to do, in the page's order; only those with any.
    lists: list[ToDoList]
    # For someone with several schools: each school's state, whether or not it has work.
    by_school: list[SchoolRow]
    # A CAF officer's queue at a glance (None for everyone else).
    support_queue: QueueCounts | None

    @property
    def nothing_to_do(self) -> bool:
        return not self.lists and not any(row.to_do for row in self.by_school)


def home_for(who: Principal) -> Home:
    schools = own_schools(who)
    # The school's buy-back choice and its open requests are read together, in one round
    # trip (db.read_ahead): neither depends on the other.
    read_ahead([*buyback.home_reads(who, schools), *support.home_reads(who, schools)])
    per_school = [buyback.home_tasks(who, schools), support.home_tasks(who, schools)]
    lists = [
        *([] if len(schools) > 1 else per_school),
        accounts.home_tasks(who),
        contacts.home_tasks(who),
        services.home_tasks(who),
        register.home_tasks(who),
        training.home_tasks(who),
    ]
    by_school: list[SchoolRow] = []
    if len(schools) > 1:
        choices, requests = (found or ToDoList("", ()) for found in per_school)
        by_school = [
            SchoolRow(school, choices.for_school(school.id), requests.for_school(school.id))
            for school in schools
        ]
    return Home(
        schools=schools,
        lists=[found for found in lists if found is not None and found.to_do],
        by_school=by_school,
        support_queue=queue_counts(who),
    )
