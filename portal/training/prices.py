"""The price of a place on a course for a school: the one rule, and what it reads.

A school pays the lowest of the prices it qualifies for: the course's price (an academy's
is ``academy_price_pence`` when the course sets one), or ``member_price_pence`` when it buys
the course's ``member_service`` (a traded service) in the financial year the session falls
in. Whether it buys the service is what its latest buy-back submission for that year says
(portal/buyback): read for every school and year a page needs in one query
(:func:`bought_services`), never per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select

from portal.buyback.school_windows import latest_submission_id
from portal.clock import financial_year, today_in_london
from portal.db import db
from portal.models import (
    BuybackChoice,
    BuybackSubmission,
    BuybackSubmissionAnswer,
    BuybackWindow,
)
from portal.pricing import format_pence, plural
from portal.training.charges import late_charge


class CoursePrices(Protocol):
    """What the rule reads of a course (a Course, or a row with the same columns)."""

    @property
    def price_pence(self) -> int: ...
    @property
    def member_price_pence(self) -> int | None: ...
    @property
    def member_service_id(self) -> int | None: ...
    @property
    def academy_price_pence(self) -> int | None: ...


def place_price(course: CoursePrices, *, academy: bool, buys_member_service: bool) -> int:
    """The price in pence of a place on ``course`` for a school (an ``academy`` or not,
    buying the course's member service in the session's year or not)."""
    price = course.price_pence
    if academy and course.academy_price_pence is not None:
        price = course.academy_price_pence
    if (
        buys_member_service
        and course.member_service_id is not None
        and course.member_price_pence is not None
    ):
        price = min(price, course.member_price_pence)
    return price


def session_year(starts_at: datetime) -> int:
    """The financial year a session falls in (by its London date)."""
    return financial_year(today_in_london(starts_at))


# (school id, financial year, service id) for each service a school buys in a year.
Bought = frozenset[tuple[int, int, int]]


def bought_services(
    school_ids: Iterable[int], years: Iterable[int], service_ids: Iterable[int]
) -> Bought:
    """Which of ``service_ids`` each school buys in each of ``years``: those its latest
    buy-back submission for a window of the year answered "buying". One query."""
    schools, in_years, services = set(school_ids), set(years), set(service_ids)
    if not schools or not in_years or not services:
        return frozenset()
    rows = db.session.execute(
        select(BuybackChoice.school_id, BuybackWindow.year, BuybackSubmissionAnswer.service_id)
        .join(BuybackWindow, BuybackWindow.id == BuybackChoice.window_id)
        .join(BuybackSubmission, BuybackSubmission.id == latest_submission_id())
        .join(
            BuybackSubmissionAnswer,
            BuybackSubmissionAnswer.submission_id == BuybackSubmission.id,
        )
        .where(
            BuybackChoice.school_id.in_(schools),
            BuybackWindow.year.in_(in_years),
            BuybackSubmissionAnswer.service_id.in_(services),
            BuybackSubmissionAnswer.buying.is_(True),
        )
    ).all()
    return frozenset((row.school_id, row.year, row.service_id) for row in rows)


@dataclass(frozen=True)
class SchoolPrices:
    """Prices for one school on one page: what it buys is read once, with :meth:`read`."""

    school_id: int | None
    academy: bool
    bought: Bought = frozenset()

    @classmethod
    def read(
        cls,
        school_id: int | None,
        academy: bool,
        sessions: Iterable[tuple[CoursePrices, datetime]],
    ) -> SchoolPrices:
        """For the school (None: the council's view, the list price), reading what it buys
        in the years of ``sessions`` (each a course and a start) in one query."""
        pairs = list(sessions)
        if school_id is None:
            return cls(None, False)
        services = {c.member_service_id for c, _ in pairs if c.member_service_id is not None}
        years = {session_year(start) for _, start in pairs}
        return cls(school_id, academy, bought_services([school_id], years, services))

    def buys(self, course: CoursePrices, starts_at: datetime) -> bool:
        return (
            self.school_id is not None
            and course.member_service_id is not None
            and (self.school_id, session_year(starts_at), course.member_service_id) in self.bought
        )

    def price(self, course: CoursePrices, starts_at: datetime) -> int:
        """The price of a place on ``course``'s session starting at ``starts_at``."""
        return place_price(
            course, academy=self.academy, buys_member_service=self.buys(course, starts_at)
        )


def describe_price(pence: int) -> str:
    return "Free" if pence == 0 else format_pence(pence)


def price_rules(course: CoursePrices, member_service_name: str | None) -> list[str]:
    """The course's prices and charges, in words, for its page."""
    rules = [
        "Free for maintained schools"
        if course.price_pence == 0
        else f"{format_pence(course.price_pence)} a place for maintained schools"
    ]
    if course.academy_price_pence is not None:
        rules.append(f"{describe_price(course.academy_price_pence)} a place for academies")
    if course.member_price_pence is not None and member_service_name:
        rules.append(
            f"{describe_price(course.member_price_pence)} a place for schools that buy "
            f"{member_service_name} in the financial year of the session"
        )
    return rules


def late_charge_rule(
    price_pence: int, late_charge_pence: int | None, cancellation_days: int
) -> str:
    """The late-cancellation rule in words: what cancelling late, or not attending, costs."""
    charge = late_charge(late_charge_pence, price_pence)
    if charge == 0:
        return "There is no charge for cancelling or not attending."
    amount = "the price of the place" if late_charge_pence is None else format_pence(charge)
    return (
        f"Cancelling fewer than {plural(cancellation_days, 'day')} before the session, or "
        f"not attending, costs {amount}."
    )
