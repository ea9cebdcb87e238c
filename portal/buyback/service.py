"""Buy-back: a school's choice of traded services for next year, within the window.

The server's clock decides whether a window is open (``now``, which the tests set). A
choice is saved as a draft by anyone at the school who may prepare it; only the head
teacher, or the trust lead for an academy, submits it. Submitting freezes each line's price
and keeps the submission as a version; until the deadline it can be changed and submitted
again.
"""

from __future__ import annotations

import calendar
import secrets
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from functools import cache, cached_property, lru_cache
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import (
    Select,
    String,
    bindparam,
    case,
    func,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, contains_eager, defer, joinedload, lazyload, selectinload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from portal import audit
from portal.buyback.offer import (
    CATEGORY,
    CATEGORY_NAME,
    SERVICE,
    ZONED_TIME,
    Found,
    LastYear,
    YearOffer,
    kind_of,
    offer_columns,
    offer_query,
    open_rows,
    year_offer,
)
from portal.db import db, driver_rows, request_memo, utcnow
from portal.models import (
    BuybackChoice,
    BuybackLine,
    BuybackSubmission,
    BuybackSubmissionAnswer,
    BuybackWindow,
    ChoiceStatus,
    Cohort,
    Membership,
    OfferStatus,
    PricingBasis,
    Role,
    School,
    Service,
    ServiceOffer,
    User,
)
from portal.numbers import MAX_QUANTITY, record_id, whole_number
from portal.outbox import queue_email
from portal.services.catalogue import (
    CategoryName,
    pupils_for,
    remember_rolls,
    roll_column,
    rolls_for,
)
from portal.services.offers import OptionTerms, rule_of
from portal.services.pricing import (
    MAX_QUOTE_PENCE,
    NoPrice,
    TooLarge,
    format_pence,
    quote,
    quoted,
)
from portal.spreadsheets import text_cell, to_csv


def now() -> datetime:
    """The server's time; the tests replace it to stand either side of a deadline."""
    return utcnow()


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
    return _current_of(windows_for(school), now())


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
def _windows_read(names: bool, rolls: bool) -> Select[Any]:
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
        .outerjoin(BuybackSubmission, BuybackSubmission.id == _latest_submission())
        .order_by(BuybackWindow.year.desc(), BuybackWindow.opens_at.desc())
    )


def _read_windows(school: School, *, names: bool = False, rolls: bool = False) -> list[WindowRead]:
    """The windows that include ``school``, newest year first, each with the school's choice
    in it and that choice's latest submission: one statement, plain values (WindowRead).
    ``rolls``: with the school's pupils on roll in each window's year and the year before,
    remembered for pricing (remember_rolls).

    The ORM made an object of each window, choice and submission read, with its identity
    and state kept in the session: about as much again as the statement's own cost on the
    task list, for a page that only reads them."""
    read = []
    rolls_at = 18 if names else 16
    for row in driver_rows(_windows_read(names, rolls), {"school_id": school.id}):
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


def _current_read(read: Sequence[WindowRead]) -> WindowRead | None:
    """Of a school's windows as read (_read_windows), the current one (current_window)."""
    window = _current_of([found.window for found in read], now())
    return next((found for found in read if found.window is window), None)


# --- the offer a school chooses from ---------------------------------------------------------


# ServiceName, OfferTerms and _Pricing are named tuples rather than frozen dataclasses: a
# task list makes one of each per service offered, a hundred and fifty a request, and a
# frozen dataclass's __init__ sets each field through object.__setattr__ (measured: about
# half of _offered's own time went in making them).


class ServiceName(NamedTuple):
    """The little of a service its buy-back line shows."""

    id: int
    name: str


class OfferTerms(NamedTuple):
    """A published (or last year's withdrawn) offer, as the buy-back page prices it."""

    id: int
    service_id: int
    year: int
    vat_applies: bool


class _Pricing(NamedTuple):
    """What pricing a service for one school needs: the school, its rolls, last year's offer."""

    school: School
    pupils: dict[int, int]  # year -> pupils on roll
    last_offer: OfferTerms | None
    last_options: Sequence[OptionTerms]


@dataclass
class Offered:
    """One traded service on a school's choice page, with what it costs the school."""

    service: ServiceName
    category: CategoryName
    offer: OfferTerms
    options: list[OptionTerms]  # the price options that apply to this school
    # Priced only when asked: a page shows one category's prices, and a total needs only
    # the options chosen, of a hundred services or more.
    pricing: _Pricing | None = field(default=None, repr=False, compare=False)

    @cached_property
    def quotes(self) -> dict[int, Any]:
        """Option id -> the option's Quote for the school (None if it has no price)."""
        if self.pricing is None:
            return {}
        pupils = self.pricing.pupils[self.offer.year]
        return {o.id: _quote(o, self.offer, self.pricing.school, pupils, 1) for o in self.options}

    @cached_property
    def last_year(self) -> dict[str, int]:
        """Option name -> what it cost the school, net, in last year's offer."""
        found: dict[str, int] = {}
        if self.pricing is None or self.pricing.last_offer is None:
            return found
        before = self.pricing.last_offer
        pupils = self.pricing.pupils[before.year]
        for option in self.pricing.last_options:
            priced = _quote(option, before, self.pricing.school, pupils, 1)
            if priced is not None:
                found[option.name] = priced.net_pence
        return found

    @property
    def sold_by_the_unit(self) -> bool:
        """Whether any option is priced per unit, so the page asks how many."""
        return any(is_per_unit(option) for option in self.options)


def offered_to(
    school: School,
    year: int,
    *,
    category_id: int | None = None,
    also: Collection[int] = (),
    last_year: bool = True,
) -> list[Offered]:
    """Every traded service published for the year that the school may buy, ready to be
    priced for it.

    ``category_id``: only that category's services, and of the others those in ``also``.
    ``last_year``: with last year's offer of each, for its price to compare.

    For the forms (saving a category, submitting), which read what they check afresh: the
    services with the school's pupils on roll, in one statement. The pages take the year's
    offer as worked out once per catalogue version (_offered_items), which a form would
    read the version for first, and the pupils after.
    """
    slots, listed = _also(also)
    wanted = _Wanted(last_year, category=category_id is not None, also=slots)
    # Plain rows from the driver, as the pages read them: through SQLAlchemy's results the
    # year's hundred and fifty rows took 1.13 ms, through the driver 0.79 (measured).
    rows = driver_rows(
        _offered_query(wanted),
        {"category": category_id} | listed | _year_and_school(year, school),
    )
    return _offered(school, year, rows, last_year=last_year)


def _offered_items(
    school: School, year: int, wanted: Callable[[Sequence[Any]], bool], *, last_year: bool
) -> list[Offered]:
    """The services of the year's offer the school may buy that ``wanted`` keeps (given each
    one's row: offer.offer_columns), in order, each ready to be priced for the school
    (``last_year``: with its offer last year, for its prices to compare)."""
    offered = year_offer(school, year)
    return _priced_items(
        school,
        year,
        (
            (row, options, offered.last.get(row[SERVICE]) if last_year else None)
            for row, options in offered.found
            if wanted(row)
        ),
        last_year=last_year,
    )


def _priced_items(
    school: School,
    year: int,
    found: Iterable[tuple[Sequence[Any], list[OptionTerms], LastYear | None]],
    *,
    last_year: bool,
) -> list[Offered]:
    """Each service ``found`` (its row, the options that apply, its offer last year if
    compared), ready to be priced for the school."""
    pupils = rolls_for(school, (year, year - 1) if last_year else (year,))
    plain = _Pricing(school, pupils, None, ())
    categories: dict[int, CategoryName] = {}
    items = []
    for row, options, last in found:
        pricing = (
            plain
            if last is None
            else _Pricing(
                school,
                pupils,
                OfferTerms(last.offer_id, row[SERVICE], year - 1, last.vat_applies),
                last.options,
            )
        )
        items.append(_item(row, options, year, pricing, categories))
    return items


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
    read = _read_windows(school, rolls=True)
    current = _current_read(read)
    if current is None:
        return None
    window = current.window
    year = window.year
    start = _starting_point_of(school, current, _answered(school, current, sent=False), read)
    bought = start.bought
    items = _offered_items(
        school,
        year,
        lambda row: row[CATEGORY] == category_id or row[SERVICE] in bought,
        last_year=True,
    )
    return window, items, start.answers(school, window, items)


class SavedLine(NamedTuple):
    """A saved answer, as a page reads it with the service it answers; who last changed it
    and when only where a task list lists it as changed (_changes_of)."""

    service_id: int
    buying: bool | None
    option_id: int | None
    quantity: int
    changed_at: datetime | None = None
    changed_by_name: str | None = None


def _item(
    row: Sequence[Any],
    applying: list[OptionTerms],
    year: int,
    pricing: _Pricing,
    categories: dict[int, CategoryName],
) -> Offered:
    """A row of the year's offer (offer.offer_columns) as the service offered
    (``categories``: each category's name as made so far, one per category)."""
    offer_id, _, vat, service_id, name, category_id, category_name = row[:7]
    category = categories.get(category_id)
    if category is None:
        category = categories[category_id] = CategoryName(category_id, category_name)
    return Offered(
        ServiceName(service_id, name),
        category,
        OfferTerms(offer_id, service_id, year, vat),
        applying,
        pricing,
    )


def _year_and_school(year: int, school: School) -> dict[str, int]:
    return {"year": year, "last_year": year - 1, "school": school.id}


def _offered(school: School, year: int, rows: Sequence[Any], *, last_year: bool) -> list[Offered]:
    """The services the school may buy among ``rows`` (from :func:`_offered_query`), each with
    the options that apply to it, ready to be priced."""
    found, prices = _open_rows(school, year, rows, last_year=last_year)
    return _priced_items(
        school,
        year,
        (
            (
                row,
                applying,
                # Last year's offer ends each row as its id, status, publication, VAT, and
                # last year's pupils.
                LastYear(row[-5], row[-2], prices[row[-5]].options)
                if last_year and row[-5] is not None
                else None,
            )
            for row, applying in found
        ),
        last_year=last_year,
    )


def _open_rows(
    school: School, year: int, rows: Sequence[Any], *, last_year: bool
) -> tuple[list[Found], dict[int, Any]]:
    """The rows (from :func:`_offered_query`) of the services the school may buy, each with
    the options that apply to it; and every offer's prices (``last_year``: last year's too),
    by offer id."""
    if rows:
        # The school's pupils on roll came with every row, for pricing.
        recorded = {year: rows[0][_PUPILS]} | ({year - 1: rows[0][-1]} if last_year else {})
        remember_rolls(school, recorded)
    # Last year's offer ends each row, before last year's pupils.
    return open_rows(rows, kind_of(school), last_at=-5 if last_year else None)


# The positions of _offered_query's columns after offer_columns (SERVICE, CATEGORY...).
_PUPILS = 9


class _Wanted(NamedTuple):
    """Which of the year's offered services a query reads, and what with them."""

    last_year: bool  # with last year's offer of each
    category: bool = False  # only those of one category (and any ``also``)
    # With (or only, without a category) the services listed: how many slots for them
    # (_also; none: no list).
    also: int = 0


# Services listed (``also``) are bound one to a slot, in a statement made for so many slots,
# a multiple of this: an expanding IN was spelled out by SQLAlchemy on every request (about
# 0.44 M instructions for a category's page, over a third of reading its rows), and few
# sizes of statement are made, each once.
_ALSO_SLOTS = 8


def _also(ids: Collection[int]) -> tuple[int, dict[str, int]]:
    """The services ``ids`` as _offered_query's slots take them: how many slots, and each
    slot's value (the last id repeated to fill them, which changes nothing in an IN)."""
    listed = sorted(ids)
    if not listed:
        return 0, {}
    slots = -(-len(listed) // _ALSO_SLOTS) * _ALSO_SLOTS
    listed += [listed[-1]] * (slots - len(listed))
    return slots, {f"also_{slot}": service_id for slot, service_id in enumerate(listed)}


@lru_cache(maxsize=64)
def _offered_query(wanted: _Wanted) -> Select[Any]:
    """The statement for the year's offered services, of each shape built once, its values
    bound when it runs (year, last_year, school, and category and also as wanted).

    Plain rows, not ORM objects: the services and their offers (offer_columns), with the
    school's pupils on roll.
    """
    school, this_year, before_year = bindparam("school"), bindparam("year"), bindparam("last_year")
    before = aliased(ServiceOffer)
    columns: list[Any] = [*offer_columns(), roll_column(school, this_year).label("pupils")]
    if wanted.last_year:
        columns += [
            before.id.label("last_id"),
            # As its stored text, made an OfferStatus only where there is an offer
            # (_open_rows): SQLAlchemy would convert it in Python on every row.
            type_coerce(before.status, String).label("last_status"),
            type_coerce(before.published_at, ZONED_TIME).label("last_published_at"),
            before.vat_applies.label("last_vat"),
            roll_column(school, before_year).label("last_pupils"),
        ]
    query = offer_query(columns, this_year)
    if wanted.last_year:
        # Last year's offer as schools were sold it: published, or withdrawn since.
        query = query.outerjoin(
            before,
            (before.service_id == ServiceOffer.service_id)
            & (before.year == before_year)
            # Two comparisons, not an IN: SQLAlchemy spells an IN's list out in the SQL each
            # time the statement is sent (db.driver_rows), about 0.4 M instructions a page.
            & ((before.status == OfferStatus.PUBLISHED) | (before.status == OfferStatus.WITHDRAWN)),
        )
    shown = []
    if wanted.category:
        shown.append(Service.category_id == bindparam("category"))
    if wanted.also:
        shown.append(Service.id.in_([bindparam(f"also_{slot}") for slot in range(wanted.also)]))
    if shown:
        query = query.where(or_(*shown))
    return query


def _quote(
    option: OptionTerms, offer: OfferTerms, school: School, pupils: int, quantity: int
) -> Any:
    try:
        rule = rule_of(option, offer.vat_applies)
        return quoted(rule, pupils, school.phase.value, quantity)
    except (NoPrice, ValueError):
        return None


def is_per_unit(option: Any) -> bool:
    return option.basis is PricingBasis.PER_UNIT


# --- answers ----------------------------------------------------------------------------------


@dataclass
class Answer:
    buying: bool | None = None
    option_id: int | None = None
    quantity: int = 1
    net_pence: int | None = None
    vat_pence: int | None = None


@dataclass
class Answers:
    """What a choice form says for each service, and what is wrong with it."""

    by_service: dict[int, Answer]
    errors: dict[str, str] = field(default_factory=dict)  # field name -> message

    @property
    def net_pence(self) -> int:
        return sum(a.net_pence or 0 for a in self.by_service.values() if a.buying)

    @property
    def vat_pence(self) -> int:
        return sum(a.vat_pence or 0 for a in self.by_service.values() if a.buying)

    @property
    def bought(self) -> int:
        """How many services the answers buy (counted here, not by a Jinja filter over every
        answer, which took longer)."""
        return sum(1 for a in self.by_service.values() if a.buying)


def _price(answer: Answer, item: Offered, school: School, pupils: int) -> str | None:
    """Set the answer's price at today's terms; the message for the page if it has none."""
    answer.net_pence = answer.vat_pence = None
    if not answer.buying or answer.option_id is None:
        return None
    option = next((o for o in item.options if o.id == answer.option_id), None)
    if option is None:
        return f"{item.service.name}: choose which option to buy"
    quantity = answer.quantity if is_per_unit(option) else 1
    # The option's quote as its page priced it, if it did; a task list, which shows no
    # service's prices, prices only the option chosen, not every option of the service.
    quotes = item.__dict__.get("quotes")
    priced = quotes.get(option.id) if quantity == 1 and quotes is not None else None
    if priced is None:
        priced = _quote(option, item.offer, school, pupils, quantity)
    if priced is None:
        return f"{item.service.name}: this option has no price for your school: contact the service"
    answer.net_pence, answer.vat_pence = priced.net_pence, priced.vat_pence
    return None


def read_answers(form: Any, offered: Sequence[Offered], school: School, year: int) -> Answers:
    """The answers posted for each offered service (a category's, on its page), priced, with a
    message per bad field."""
    answers = Answers({})
    pupils = pupils_for(school, year)
    for item in offered:
        sid = item.service.id
        answer = Answer()
        raw = form.get(f"answer-{sid}", "")
        if raw in ("buy", "no"):
            answer.buying = raw == "buy"
        chosen = record_id(form.get(f"option-{sid}", ""))
        options = {o.id for o in item.options}
        if chosen in options:
            answer.option_id = chosen
        elif len(options) == 1:
            answer.option_id = next(iter(options))
        if problem := _read_quantity(form, item, answer):
            answers.errors[f"quantity-{sid}"] = problem
        if answer.buying and answer.option_id is None:
            answers.errors[f"option-{sid}"] = f"{item.service.name}: choose which option to buy"
        elif f"quantity-{sid}" in answers.errors:
            pass  # priced once the number is given: never at a number nobody typed
        elif problem := _price(answer, item, school, pupils):
            if _too_many(answer, item, school, pupils):
                answers.errors[f"quantity-{sid}"] = (
                    f"Enter a smaller number of {_units(item, answer)}: {answer.quantity:,} "
                    f"would cost more than {format_pence(MAX_QUOTE_PENCE)}, the most one "
                    "service can cost in a year"
                )
            else:
                answers.errors[f"answer-{sid}"] = problem
        answers.by_service[sid] = answer
    return answers


# Beside the box for how many: its limits.
QUANTITY_HINT = f"A whole number from 1 to {MAX_QUANTITY:,}"


def _read_quantity(form: Any, item: Offered, answer: Answer) -> str | None:
    """Set how many the answer buys from the form's box; what is wrong with it, if anything.

    A service sold by the unit has the box. Left empty, it is asked for when the answer buys
    an option priced by the unit: never taken to be 1.
    """
    typed = form.get(f"quantity-{item.service.id}")
    if typed is None:  # no box: a price for the year
        return None
    if typed.strip():
        quantity = whole_number(typed)
        if quantity is not None and 1 <= quantity <= MAX_QUANTITY:
            answer.quantity = quantity
            return None
        return f"Enter how many {_units(item, answer)} as a whole number from 1 to {MAX_QUANTITY:,}"
    chosen = _chosen(item, answer)
    if answer.buying and chosen is not None and is_per_unit(chosen):
        return f"Enter how many {_units(item, answer)} you are buying"
    return None


def _chosen(item: Offered, answer: Answer) -> OptionTerms | None:
    return next((o for o in item.options if o.id == answer.option_id), None)


def _units(item: Offered, answer: Answer) -> str:
    """What the box counts, in words: "sessions of Behaviour support outreach"."""
    chosen = _chosen(item, answer)
    by_the_unit = [o for o in item.options if is_per_unit(o)]
    option = chosen if chosen is not None and is_per_unit(chosen) else next(iter(by_the_unit), None)
    if option is not None and option.rates.get("pack_size"):
        what = "packs"
    else:
        what = f"{option.unit}s" if option is not None and option.unit else "units"
    return f"{what} of {item.service.name}"


def _too_many(answer: Answer, item: Offered, school: School, pupils: int) -> bool:
    """Whether the answer's option has no price only because so many of it would cost more
    than one service may."""
    chosen = _chosen(item, answer)
    if chosen is None or not is_per_unit(chosen) or answer.quantity == 1:
        return False
    rule = rule_of(chosen, item.offer.vat_applies)
    try:
        quote(rule, pupils=pupils, phase=school.phase.value, quantity=answer.quantity)
    except TooLarge:
        return True
    except (NoPrice, ValueError):
        return False
    return False


def current_answers(
    school: School,
    window: BuybackWindow,
    offered: Sequence[Offered],
    choice: BuybackChoice | None,
    lines: Sequence[Any] | None = None,
) -> Answers:
    """Where the school's choice stands: its saved answers or, before anything is saved, last
    year's submitted ones to start from; each priced at today's terms, so that the totals
    shown are what submitting would commit the school to. ``lines``: the choice's lines if
    already read (else read here as plain rows)."""
    return starting_point(school, window, choice, lines).answers(school, window, offered)


@dataclass(frozen=True)
class StartingPoint:
    """The answers a school's choice stands at, not yet priced: its saved lines (rows with
    the service, whether buying, the option and how many) or, when nothing is saved
    (``saved`` None), last year's latest submitted lines."""

    saved: Sequence[Any] | None
    last_years: Sequence[dict[str, Any]] = ()

    @property
    def bought(self) -> set[int]:
        """The services these answers buy."""
        if self.saved is not None:
            return {line.service_id for line in self.saved if line.buying}
        return {line["service_id"] for line in self.last_years if line["buying"]}

    def answers(self, school: School, window: Any, offered: Sequence[Offered]) -> Answers:
        """The answers to the services ``offered``, priced at today's terms (last year's
        matched to this year's options by name)."""
        items = {item.service.id: (item.options, item) for item in offered}
        return self.priced(school, window.year, items, _itself)

    def priced(
        self,
        school: School,
        year: int,
        offered: Mapping[int, tuple[Sequence[OptionTerms], Any]],
        item_of: Callable[[Any], Offered],
    ) -> Answers:
        """The answers to the services ``offered`` (service id -> the options that apply to
        the school, and what ``item_of`` makes the service from), priced at the year's terms.
        A service is made only where an answer buys it, to be priced: an answer not buying
        costs nothing, and most of a task list's are."""
        pupils = pupils_for(school, year)
        answers = Answers({})
        for line in self.saved or ():
            found = offered.get(line.service_id)
            if found is None:  # no longer offered to the school: not part of its choice
                continue
            answer = Answer(line.buying, line.option_id, line.quantity)
            buys = line.buying and line.option_id is not None
            if buys and (problem := _price(answer, item_of(found[1]), school, pupils)):
                answers.errors[f"answer-{line.service_id}"] = problem
            answers.by_service[line.service_id] = answer
        for last in self.last_years if self.saved is None else ():
            found = offered.get(last["service_id"])
            if found is None:
                continue
            option = next((o for o in found[0] if o.name == last.get("option")), None)
            answer = Answer(last["buying"], option.id if option else None, last.get("quantity", 1))
            if answer.buying and option is not None:
                _price(answer, item_of(found[1]), school, pupils)
            answers.by_service[last["service_id"]] = answer
        return answers


def _itself(item: Offered) -> Offered:
    return item


def starting_point(
    school: School,
    window: BuybackWindow,
    choice: BuybackChoice | None,
    lines: Sequence[Any] | None = None,
) -> StartingPoint:
    """The school's answers as saved in ``choice`` (``lines``: its rows, if already read), or
    last year's submitted ones if it has none."""
    if lines is None:
        lines = read_lines(choice)
    if lines:
        return StartingPoint(lines)
    return StartingPoint(None, _last_years_lines(school, window))


def _last_years_lines(
    school: School, window: Any, read: Sequence[WindowRead] | None = None
) -> list[dict[str, Any]]:
    """What the school's latest submission in last year's window sent, if any, as lines
    (service_id, buying, option by name, quantity), from its answer rows (``read``: its
    windows with the latest submission in each, if read already)."""
    windows = windows_for(school) if read is None else [found.window for found in read]
    last_window = next(
        (w for w in windows if w.year == window.year - 1 and w.cohort == window.cohort),
        None,
    ) or next((w for w in windows if w.year == window.year - 1), None)
    if last_window is None:
        return []
    if read is not None:
        submitted = next(found.latest for found in read if found.window is last_window)
        if submitted is None:
            return []
        rows = driver_rows(_ANSWERS_SENT, {"submission": submitted.id})
    else:
        # The latest submission found in the same statement as what it sent.
        rows = driver_rows(_LATEST_ANSWERS_SENT, {"school": school.id, "window": last_window.id})
    return [
        {"service_id": service_id, "buying": buying, "option": option, "quantity": quantity}
        for service_id, buying, option, quantity in rows
    ]


# What a submission sent, as its answer rows: not its lines, 24 KB of JSON when every
# service is answered.
_SENT_COLUMNS = select(
    BuybackSubmissionAnswer.service_id,
    BuybackSubmissionAnswer.buying,
    BuybackSubmissionAnswer.option_name,
    BuybackSubmissionAnswer.quantity,
)
_ANSWERS_SENT = _SENT_COLUMNS.where(
    BuybackSubmissionAnswer.submission_id == bindparam("submission")
)
# ... of a school's latest submission in a window.
_LATEST_ANSWERS_SENT = _SENT_COLUMNS.where(
    BuybackSubmissionAnswer.submission_id
    == select(BuybackSubmission.id)
    .join(BuybackChoice)
    .where(
        BuybackChoice.school_id == bindparam("school"),
        BuybackChoice.window_id == bindparam("window"),
    )
    .order_by(BuybackSubmission.number.desc())
    .limit(1)
    .scalar_subquery()
)


@dataclass
class Task:
    """One category of the school's choice: its services, how many are answered, its total."""

    category: CategoryName
    # The category's services; none where only counted (the task list as drawn shows how
    # many, not each: _counted_tasks).
    items: list[Offered]
    answered: int
    net_pence: int
    vat_pence: int
    services: int  # how many services the category offers the school

    @property
    def status(self) -> str:
        if self.answered == self.services:
            return "Completed"
        return "In progress" if self.answered else "Not yet started"


def tasks(offered: Sequence[Offered], answers: Answers) -> list[Task]:
    """The choice as a task list: one task per category of the services offered, by name."""
    grouped: dict[CategoryName, list[Offered]] = {}
    for item in offered:
        grouped.setdefault(item.category, []).append(item)
    found = []
    for category in sorted(grouped, key=lambda c: (c.name, c.id)):
        items = grouped[category]
        given = [answers.by_service.get(item.service.id) for item in items]
        bought = [a for a in given if a is not None and a.buying]
        found.append(
            Task(
                category,
                items,
                answered=sum(a is not None and a.buying is not None for a in given),
                net_pence=sum(a.net_pence or 0 for a in bought),
                vat_pence=sum(a.vat_pence or 0 for a in bought),
                services=len(items),
            )
        )
    return found


def _counted_tasks(
    found: Sequence[tuple[Sequence[Any], list[OptionTerms]]], answers: Answers
) -> list[Task]:
    """As :func:`tasks`, from the rows of the services offered (offer.year_offer) rather than a
    service object each: the task list shows each category's counts and total, not its
    services (its tasks have no ``items``)."""
    given = answers.by_service
    counts: dict[int, list[Any]] = {}  # category id -> name, services, answered, net, VAT
    for row, _ in found:
        counted = counts.get(row[CATEGORY])
        if counted is None:
            counted = counts[row[CATEGORY]] = [row[CATEGORY_NAME], 0, 0, 0, 0]
        counted[1] += 1
        answer = given.get(row[SERVICE])
        if answer is not None and answer.buying is not None:
            counted[2] += 1
            if answer.buying:
                counted[3] += answer.net_pence or 0
                counted[4] += answer.vat_pence or 0
    return [
        Task(CategoryName(category_id, name), [], answered, net, vat, services)
        for category_id, (name, services, answered, net, vat) in sorted(
            counts.items(), key=lambda found: (found[1][0], found[0])
        )
    ]


# What a person saw of each service's answer when they opened a page, so that a save can tell
# whether someone else has changed those answers since: (buying, option, how many).
Seen = dict[int, tuple[bool | None, int | None, int]]


def _key(answer: Answer | None) -> tuple[bool | None, int | None, int]:
    if answer is None:
        return (None, None, 1)
    return (answer.buying, answer.option_id if answer.buying else None, answer.quantity)


def seen_text(answers: Answers, items: Sequence[Offered]) -> str:
    """The answers to a page's services as they stand, for the form to send back."""
    parts = []
    for item in items:
        buying, option_id, quantity = _key(answers.by_service.get(item.service.id))
        answer = "-" if buying is None else ("b" if buying else "n")
        parts.append(f"{item.service.id}:{answer}:{option_id or ''}:{quantity}")
    return ";".join(parts)


def read_seen(text: str) -> Seen | None:
    """The answers a form says its person saw; None if it says nothing readable."""
    seen: Seen = {}
    for part in text.split(";"):
        sid, _, rest = part.partition(":")
        answer, _, rest = rest.partition(":")
        option_id, _, quantity = rest.partition(":")
        service_id, option, how_many = record_id(sid), record_id(option_id), whole_number(quantity)
        if service_id is None or answer not in ("b", "n", "-") or how_many is None:
            return None
        if option_id and option is None:
            return None
        buying = None if answer == "-" else answer == "b"
        seen[service_id] = (buying, option, how_many)
    return seen or None


# --- saving and submitting --------------------------------------------------------------------


class WindowClosed(Exception):
    """The window is not open: nothing may be saved or submitted."""


class StaleChoice(Exception):
    """Someone else saved the choice after this person loaded it, or the save cannot show
    what its person saw (``unverified``): either way nothing is written."""

    def __init__(
        self, choice: BuybackChoice, changed: list[str], *, unverified: bool = False
    ) -> None:
        super().__init__(", ".join(changed))
        self.choice = choice
        self.changed = changed
        self.unverified = unverified


def get_choice(
    school: School, window: BuybackWindow, *, with_lines: bool = False
) -> BuybackChoice | None:
    """The school's choice in the window. Its lines are read when asked for (a page reads
    them as plain rows, see ``current_answers``), or ``with_lines``, for a request that will
    write them: in a second query (selectinload), which took three quarters of the time of
    reading the choice's columns again with each of its hundred and fifty lines (joinedload;
    2.1 against 2.8 ms, measured)."""
    lines = selectinload(BuybackChoice.lines) if with_lines else lazyload(BuybackChoice.lines)
    return (
        db.session.scalars(
            select(BuybackChoice)
            .options(lines, lazyload(BuybackChoice.school))
            .where(BuybackChoice.school_id == school.id, BuybackChoice.window_id == window.id)
        )
        .unique()
        .one_or_none()
    )


def _latest_submission() -> Any:
    """The id of a choice's latest submission, for a query that reads choices."""
    return (
        select(BuybackSubmission.id)
        .where(BuybackSubmission.choice_id == BuybackChoice.id)
        .order_by(BuybackSubmission.number.desc())
        .limit(1)
        .correlate(BuybackChoice)
        .scalar_subquery()
    )


def _choice_options(details: bool, lines: bool = False) -> list[Any]:
    """A choice read with its latest submission, and nothing else of theirs: what that
    submission bought and who made it, and who last saved the choice, only with ``details``
    (the CSV and the task list show them); what it bought alone with ``lines``."""
    details_options = (
        [joinedload(BuybackSubmission.submitted_by), joinedload(BuybackChoice.updated_by)]
        if details
        else [
            *([] if lines else [defer(BuybackSubmission.lines)]),
            lazyload(BuybackSubmission.submitted_by),
            lazyload(BuybackChoice.updated_by),
        ]
    )
    return [
        lazyload(BuybackChoice.school),
        lazyload(BuybackChoice.window),
        lazyload(BuybackChoice.lines),
        *details_options,
    ]


def choices_for(
    windows: dict[int, BuybackWindow | None], *, details: bool = False
) -> dict[int, tuple[BuybackChoice, BuybackSubmission | None]]:
    """Each school's choice in its window (school id -> window), with its latest submission:
    a trust's every academy in one query however many it has (``details``: see
    _choice_options)."""
    wanted = [(school_id, window.id) for school_id, window in windows.items() if window is not None]
    if not wanted:
        return {}
    found = db.session.execute(
        select(BuybackChoice, BuybackSubmission)
        .outerjoin(BuybackSubmission, BuybackSubmission.id == _latest_submission())
        .options(*_choice_options(details))
        .where(tuple_(BuybackChoice.school_id, BuybackChoice.window_id).in_(wanted))
    ).all()
    return {choice.school_id: (choice, submission) for choice, submission in found}


@dataclass
class AcademyRow:
    """One of a trust's academies (or any list of schools): its window, its choice and
    what it last submitted."""

    school: School
    # Objects; for one school's home page, plain values (_the_schools_row).
    window: BuybackWindow | WindowTerms | None
    choice: BuybackChoice | ChoiceTerms | None
    latest: BuybackSubmission | SubmissionTerms | None

    @property
    def submitted_pence(self) -> int | None:
        latest = self.latest
        return None if latest is None else latest.net_pence + latest.vat_pence

    @property
    def status(self) -> str:
        if self.latest is not None:
            if self.choice is not None and self.choice.unsent_since is not None:
                return "Submitted; changes not yet sent"
            return "Submitted"
        if self.choice is not None:
            return "Draft"
        return "Not started" if self.window is not None else "No window"


def academy_rows(schools: Sequence[School], *, details: bool = False) -> list[AcademyRow]:
    """Each school with its current window and where its choice stands (a trust's every
    academy in a few queries, however many it has); ``details`` as for choices_for."""
    if len(schools) == 1 and not details and "all" not in request_memo(WINDOWS_MEMO):
        return [_the_schools_row(schools[0])]
    windows = {school.id: current_window(school) for school in schools}
    choices = choices_for(windows, details=details)
    return [
        AcademyRow(school, windows[school.id], *choices.get(school.id, (None, None)))
        for school in schools
    ]


def windows_read_for(school: School) -> list[tuple[Select[Any], dict[str, Any]]]:
    """What academy_rows reads for ``school`` alone (its people's home page), as db.read_ahead
    takes it: none if its windows are read for many schools already."""
    if "all" in request_memo(WINDOWS_MEMO):
        return []
    return [(_windows_read(False, False), {"school_id": school.id})]


def _the_schools_row(school: School) -> AcademyRow:
    """One school's row (its people's home page), in one query rather than two: every
    window, each with the school's choice in it, if any, and that choice's latest
    submission, as plain values (WindowTerms, ChoiceTerms, SubmissionTerms)."""
    current = _current_read(_read_windows(school))
    if current is None:
        return AcademyRow(school, None, None, None)
    return AcademyRow(school, current.window, current.choice, current.latest)


CHOICES_CSV_COLUMNS = (
    "School",
    "URN",
    "Financial year",
    "Deadline",
    "Status",
    "Submitted on",
    "Submitted by",
    "Purchase order",
    "Service",
    "Buying",
    "Option",
    "Quantity",
    "Net (£)",
    "VAT (£)",
)


def choices_csv(rows: Sequence[AcademyRow]) -> str:
    """What each school last submitted, a line per service; a school with nothing submitted
    has one line, saying where it stands."""
    from portal.buyback.analysis import pounds
    from portal.templating import london_time

    lines = []
    for row in rows:
        latest = row.latest
        school = [
            text_cell(row.school.name),
            row.school.urn,
            row.window.year_label if row.window else "",
            london_time(row.window.closes_at) if row.window else "",
            row.status,
            london_time(latest.submitted_at) if latest else "",
            text_cell(latest.submitted_by.display_name) if latest else "",
            text_cell(latest.purchase_order or "") if latest else "",
        ]
        if latest is None:
            lines.append([*school, "", "", "", "", "", ""])
            continue
        for line in latest.lines:
            buying = bool(line["buying"])
            lines.append(
                [
                    *school,
                    text_cell(line["service"]),
                    "Yes" if buying else "No",
                    text_cell(line.get("option") or "") if buying else "",
                    line.get("quantity", 1) if buying and line.get("unit") else "",
                    pounds(line["net_pence"]) if buying else "",
                    pounds(line["vat_pence"]) if buying else "",
                ]
            )
    return to_csv(CHOICES_CSV_COLUMNS, lines)


def _check_open(window: BuybackWindow, at: datetime | None = None) -> None:
    state = window.state(at or now())
    if state != "open":
        raise WindowClosed(state)


def _changed_since(choice: BuybackChoice, seen: Seen, offered: Sequence[Offered]) -> list[str]:
    """The services, of those the person saw, whose saved answers someone has since changed."""
    names = {item.service.id: item.service.name for item in offered}
    stored = {line.service_id: line for line in choice.lines}

    def key(sid: int) -> tuple[bool | None, int | None, int]:
        line = stored.get(sid)
        if line is None:
            return _key(None)
        return _key(Answer(line.buying, line.option_id, line.quantity))

    return [names[sid] for sid in names if sid in seen and seen[sid] != key(sid)]


def save(
    school: School,
    window: BuybackWindow,
    choice: BuybackChoice | None,
    answers: Answers,
    actor: User,
    offered: Sequence[Offered],
    *,
    shown: Answers | None = None,
    seen: Seen | None = None,
    at: datetime | None = None,
) -> BuybackChoice:
    """Save a category's answers into the school's draft: ``choice`` as this request read it
    (None if the school has none yet).

    The answers are merged into what is saved: someone may work on one category while a
    colleague works on another. What they saw of their own services (``seen``) must still
    be what is saved, or the save is refused with the services someone else changed. The
    first save of a choice also keeps the answers the pages ``shown`` for every other
    service (last year's, to start from).

    A save that makes a submitted choice differ from its submission starts a run of changes
    not yet sent to the council; the first save in the run by someone who does not submit
    (staff) e-mails those who do. ``at``: when (now, but for the demo's story)."""
    _check_open(window, at)
    if choice is None:
        choice = BuybackChoice(school=school, window=window, status=ChoiceStatus.DRAFT)
        db.session.add(choice)
        if shown is not None:
            answers = Answers({**shown.by_service, **answers.by_service}, answers.errors)
    elif seen is None or not seen.keys() >= answers.by_service.keys():
        # A form that does not say what its person saw of every answer it writes (a page
        # always does; a hand-made or cut-short post may not) could overwrite a colleague's
        # save unseen: it is treated as stale, whatever else it sends.
        raise StaleChoice(choice, [], unverified=True)
    elif changed := _changed_since(choice, seen, offered):
        raise StaleChoice(choice, changed)
    stamp = at or now()
    _write_lines(choice, answers, actor, stamp)
    choice.updated_by = actor
    choice.updated_at = stamp
    flag_modified(choice, "updated_at")  # always an UPDATE, so the version moves every save
    unsent = _note_unsent_changes(school, window, choice, offered, actor, stamp)
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError) as error:
        db.session.rollback()
        fresh = get_choice(school, window)
        raise StaleChoice(fresh or choice, []) from error
    audit.record(
        "buyback.saved",
        actor=actor,
        subject=choice,
        version=choice.version,
        **({"unsent": [change.service for change in unsent]} if unsent else {}),
    )
    db.session.commit()
    return choice


def _write_lines(choice: BuybackChoice, answers: Answers, actor: User, stamp: datetime) -> None:
    lines = {line.service_id: line for line in choice.lines}
    for sid, answer in answers.by_service.items():
        line = lines.get(sid)
        if line is None:
            line = BuybackLine(service_id=sid)
            choice.lines.append(line)
        before = None if line.id is None else Answer(line.buying, line.option_id, line.quantity)
        if _key(before) != _key(answer):
            line.changed_at, line.changed_by_id = stamp, actor.id
        line.buying = answer.buying
        line.option_id = answer.option_id if answer.buying else None
        line.quantity = answer.quantity
        line.net_pence = answer.net_pence if answer.buying else None
        line.vat_pence = answer.vat_pence if answer.buying else None


def submitted_as(submission_key: str) -> BuybackSubmission | None:
    """The submission already made with this form's key: a second press of Submit."""
    if not submission_key:
        return None
    return db.session.scalars(
        select(BuybackSubmission).where(BuybackSubmission.submission_key == submission_key)
    ).one_or_none()


def submit(
    school: School,
    window: BuybackWindow,
    choice: BuybackChoice | None,
    answers: Answers,
    offered: Sequence[Offered],
    actor: User,
    purchase_order: str | None,
    submission_key: str,
    *,
    at: datetime | None = None,
) -> BuybackSubmission:
    """Submit the school's choice as ``answers`` say (its draft priced today, or last year's
    answers if it has no draft): freeze the prices, keep the submission as a version, and
    send the confirmation. The caller has checked the choice is still what the person saw;
    a second submission with the same key returns the first. ``at``: when (now, but for
    the demo's story)."""
    _check_open(window, at)
    if choice is None:
        choice = BuybackChoice(school=school, window=window, status=ChoiceStatus.DRAFT)
        db.session.add(choice)
    stamp = at or now()
    _write_lines(choice, answers, actor, stamp)
    names = {i.service.id: i for i in offered}
    frozen = []
    answered = [line for line in choice.lines if line.service_id in names]
    for line in sorted(answered, key=lambda line: names[line.service_id].service.name):
        item = names[line.service_id]
        option = next((o for o in item.options if o.id == line.option_id), None)
        frozen.append(
            {
                "service_id": line.service_id,
                "service": item.service.name,
                "buying": bool(line.buying),
                "option_id": option.id if option else None,
                "option": option.name if option else None,
                "unit": option.unit if option else None,
                "quantity": line.quantity,
                "net_pence": (line.net_pence or 0) if line.buying else 0,
                "vat_pence": (line.vat_pence or 0) if line.buying else 0,
            }
        )
    submission = BuybackSubmission(
        choice=choice,
        # Counted by the INSERT itself, not by loading every earlier submission's lines; two
        # at once would take the same number, which the unique index refuses (below).
        number=select(func.coalesce(func.max(BuybackSubmission.number), 0) + 1)
        .where(BuybackSubmission.choice_id == choice.id)
        .scalar_subquery()
        if choice.id is not None
        else 1,
        submission_key=submission_key,
        submitted_by=actor,
        submitted_at=stamp,
        purchase_order=purchase_order or None,
        lines=frozen,
        net_pence=sum(line["net_pence"] for line in frozen),
        vat_pence=sum(line["vat_pence"] for line in frozen),
    )
    db.session.add(submission)
    choice.status = ChoiceStatus.SUBMITTED
    choice.submitted_at = submission.submitted_at
    choice.purchase_order = purchase_order or None
    choice.updated_by = actor
    # What the council has is what is saved again: no changes wait to be sent.
    choice.unsent_since = choice.unsent_told_at = None
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError) as error:
        # The same form sent twice at once: the other request's submission stands. Else
        # someone saved the choice in the same instant: this person must look again.
        db.session.rollback()
        existing = submitted_as(submission_key)
        if existing is None:
            raise StaleChoice(get_choice(school, window) or choice, []) from error
        return existing
    audit.record(
        "buyback.submitted",
        actor=actor,
        subject=choice,
        number=submission.number,
        net_pence=submission.net_pence,
    )
    _email_confirmation(choice, submission)
    db.session.commit()
    return submission


def submission_of(school: School, number: int) -> BuybackSubmission | None:
    """The school's submission numbered ``number`` (its latest, should two of its choices
    have one so numbered), for its confirmation: with who made it and its choice's window, in
    one query, and not the choice's lines, which the submission has as they were sent."""
    return db.session.scalars(
        select(BuybackSubmission)
        .join(BuybackSubmission.choice)
        .options(
            contains_eager(BuybackSubmission.choice).options(
                lazyload(BuybackChoice.lines),
                lazyload(BuybackChoice.school),
                lazyload(BuybackChoice.updated_by),
                joinedload(BuybackChoice.window),
            )
        )
        .where(BuybackChoice.school_id == school.id, BuybackSubmission.number == number)
        .order_by(BuybackSubmission.id.desc())
        .limit(1)
    ).first()


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


# --- who submits, and changes not yet sent to the council ---------------------------------------


def submitters_of(schools: Sequence[School]) -> dict[int, list[User]]:
    """The people who submit each school's choice, and so are told about it: its head
    teachers and, for an academy in a trust, the trust's leads (the roles that access.POLICY
    lets edit a buy-back), with active accounts. School id -> people (none: nobody to tell).
    One query, however many schools."""
    found: dict[int, list[User]] = {school.id: [] for school in schools}
    if not found:
        return found
    trust_ids = {school.trust_id for school in schools if school.trust_id is not None}
    at = Membership.school_id.in_(found.keys())
    if trust_ids:
        at = or_(at, Membership.trust_id.in_(trust_ids))
    by_school: dict[int, list[User]] = {}
    by_trust: dict[int, list[User]] = {}
    for school_id, trust_id, person in db.session.execute(
        select(Membership.school_id, Membership.trust_id, User)
        .join(Membership.user)
        .where(Membership.role.in_(_submitting_roles()), User.is_active.is_(True), at)
        .order_by(User.display_name, User.id)
    ):
        if school_id is not None:
            by_school.setdefault(school_id, []).append(person)
        if trust_id is not None:
            by_trust.setdefault(trust_id, []).append(person)
    for school in schools:
        people = by_school.get(school.id, []) + by_trust.get(school.trust_id or 0, [])
        found[school.id] = list(dict.fromkeys(people))  # someone with two roles, once
    return found


@lru_cache(maxsize=1)
def _submitting_roles() -> frozenset[Role]:
    # From the access policy, which is code: it changes only with a new release (a restart).
    from portal.access import POLICY, Capability

    return frozenset(role for role, can_do in POLICY.items() if Capability.EDIT_BUYBACK in can_do)


@dataclass(frozen=True)
class Change:
    """A service whose saved answer is not what the council was last sent."""

    service_id: int
    service: str
    category_id: int
    was: str
    now: str
    by: str | None  # who last changed it, when the lines read say
    at: datetime | None


def _answer_text(buying: bool | None, option: str | None, unit: str | None, quantity: int) -> str:
    if buying is None:
        return "Not answered"
    if not buying:
        return "Not buying"
    text = f"Buying: {option}" if option else "Buying"
    return f"{text} x {quantity}" if unit else text


class SentAnswer(NamedTuple):
    """What a submission sent of a service: buying or not, the option and how many, with the
    option's name and unit as they were."""

    buying: bool | None
    option_id: int | None
    quantity: int
    option: str | None
    unit: str | None


def sent_answers(submission: BuybackSubmission | None) -> dict[int, SentAnswer] | None:
    """What ``submission`` sent of each service, from its lines (None: no submission)."""
    if submission is None:
        return None
    return {
        line["service_id"]: SentAnswer(
            line.get("buying"),
            line.get("option_id"),
            int(line.get("quantity") or 1),
            line.get("option"),
            line.get("unit"),
        )
        for line in submission.lines
    }


def unsent_changes(
    lines: Iterable[Any], sent: Mapping[int, SentAnswer] | None, offered: Sequence[Offered]
) -> list[Change]:
    """The services offered whose saved answer (``lines``: the choice's lines, as objects or
    as rows) is not what was sent (``sent``, by service: sent_answers; None: nothing has
    been), in the offer's order. How many counts only where it is bought by the unit."""
    if sent is None:
        return []
    saved = {line.service_id: line for line in lines}
    changes = []
    for item in offered:
        line, old = saved.get(item.service.id), sent.get(item.service.id)
        buying, option_id, quantity = (
            (None, None, 1) if line is None else (line.buying, line.option_id, line.quantity)
        )
        option = next((o for o in item.options if buying and o.id == option_id), None)
        was_buying = None if old is None else old.buying
        was_option = old.option_id if old and was_buying else None
        was_quantity = old.quantity if old else 1
        by_the_unit = option is not None and is_per_unit(option)
        same = (buying, option.id if option else None) == (was_buying, was_option) and (
            not by_the_unit or quantity == was_quantity
        )
        if same:
            continue
        changes.append(
            Change(
                item.service.id,
                item.service.name,
                item.category.id,
                was=_answer_text(
                    was_buying,
                    old.option if old else None,
                    old.unit if old else None,
                    was_quantity,
                ),
                now=_answer_text(
                    buying, option.name if option else None, option and option.unit, quantity
                ),
                by=getattr(line, "changed_by_name", None),
                at=getattr(line, "changed_at", None),
            )
        )
    return changes


def read_lines(choice: BuybackChoice | None) -> list[Any]:
    """The choice's saved answers as plain rows, with who last changed each and when."""
    if choice is None or choice.id is None:
        return []
    return list(db.session.execute(_lines.where(BuybackLine.choice_id == choice.id)).all())


_lines = select(
    BuybackLine.service_id,
    BuybackLine.buying,
    BuybackLine.option_id,
    BuybackLine.quantity,
    BuybackLine.changed_at,
    User.display_name.label("changed_by_name"),
).outerjoin(User, User.id == BuybackLine.changed_by_id)


@dataclass
class Standing:
    """Where a school's choice stands against what the council has: what was last submitted
    (and how many times it has been), and the saved changes not yet sent (since when)."""

    latest: BuybackSubmission | None
    times: int
    changes: list[Change]
    since: datetime | None

    @property
    def submitted_pence(self) -> int | None:
        latest = self.latest
        return None if latest is None else latest.net_pence + latest.vat_pence

    def changed_in(self, category_id: int) -> list[Change]:
        return [change for change in self.changes if change.category_id == category_id]


def standing(
    choice: BuybackChoice | None, offered: Sequence[Offered], lines: Sequence[Any] | None = None
) -> Standing:
    """Where the choice stands. ``lines``: its rows from :func:`read_lines`, if already read."""
    if choice is None or not choice.submissions:
        return Standing(None, 0, [], None)
    latest = choice.submissions[-1]
    changes = unsent_changes(
        lines if lines is not None else read_lines(choice), sent_answers(latest), offered
    )
    return _standing(choice, latest, len(choice.submissions), changes)


def _standing(
    choice: BuybackChoice | ChoiceTerms,
    latest: BuybackSubmission | SubmissionTerms,
    times: int,
    changes: list[Change],
) -> Standing:
    since = choice.unsent_since if changes else None
    if changes and since is None:  # saved before the portal kept it: the earliest change
        since = min((c.at for c in changes if c.at is not None), default=None)
    return Standing(latest, times, changes, since)


@dataclass
class ChoiceAsItStands:
    """What a school's task list shows: its window, the services offered, its choice (None
    before any save), its answers priced at today's terms, and where it stands with the
    council."""

    window: WindowTerms
    tasks: list[Task]  # counted, without their services (_counted_tasks)
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
    read = _read_windows(school, names=True, rolls=True)
    current = _current_read(read)
    if current is None:
        return None
    window, choice, submission, submitted_by, updated_by = current
    year = window.year
    offered = year_offer(school, year)
    answered = _answered(school, current, sent=submission is not None)
    start = _starting_point_of(school, current, answered, read)
    # A service object only for each service the page prices or may list as changed: of a
    # hundred and fifty, the task list shows counts.
    pricing = _Pricing(school, rolls_for(school, (year,)), None, ())
    categories: dict[int, CategoryName] = {}

    def item_of(found: Found) -> Offered:
        return _item(found[0], found[1], year, pricing, categories)

    answers = start.priced(school, year, offered.by_service, item_of)
    counted = _counted_tasks(offered.found, answers)
    if choice is None:
        return ChoiceAsItStands(window, counted, None, answers, Standing(None, 0, [], None))
    if submission is None:
        stands = Standing(None, 0, [], None)
    else:
        changes = _changes_of(choice.id, _may_be_unsent(offered, answered), item_of)
        # Submissions are numbered from 1 as they are made: the latest's is how many.
        stands = _standing(choice, submission, submission.number, changes)
    return ChoiceAsItStands(window, counted, choice, answers, stands, submitted_by, updated_by)


def _answered(school: School, current: WindowRead, *, sent: bool) -> list[Sequence[Any]]:
    """The school's saved answers in its current window (none before it has a choice), as
    rows of _answers_query (``sent``: with what its latest submission sent)."""
    if current.choice is None:
        return []
    return driver_rows(_answers_query(sent), {"window": current.window.id, "school": school.id})


def _starting_point_of(
    school: School,
    current: WindowRead,
    answered: Sequence[Sequence[Any]],
    read: Sequence[WindowRead],
) -> StartingPoint:
    """Where the school's choice stands: its saved answers (``answered``, from _answered),
    or what it sent last year if it has saved none (``read``: its windows)."""
    if answered:
        return StartingPoint([SavedLine(*row[_LINE:_SENT]) for row in answered])
    return StartingPoint(None, _last_years_lines(school, current.window, read))


# The positions of _answers_query's columns: SavedLine's first fields; then, as sent,
# SentAnswer's, who changed the answer and when, where it is not as sent, and whether it is.
_LINE, _SENT, _CHANGED_AT, _CHANGED_BY, _NOT_AS_SENT = 0, 4, 9, 10, 11


@cache
def _answers_query(sent: bool = True) -> Select[Any]:
    """The school's saved answers in the window; ``sent``: each with what its choice's
    latest submission sent of the service (every answer sent was saved first: submitting
    writes the lines it sends). Who changed an answer and when is read only where it is not
    as sent (another yes or no, or bought with another option or number): most are, and a
    time and a name on each was a fifth of the statement. An answer as sent whose option
    the school can no longer buy is a change too: the rare case _changes_of reads who and
    when for."""
    line = BuybackLine
    choice = (
        select(BuybackChoice.id)
        .where(
            BuybackChoice.school_id == bindparam("school"),
            BuybackChoice.window_id == bindparam("window"),
        )
        .scalar_subquery()
    )
    saved = [line.service_id, line.buying, line.option_id, line.quantity]
    if not sent:
        return select(*saved).where(line.choice_id == choice)
    latest = (
        select(BuybackSubmission.id)
        .where(BuybackSubmission.choice_id == choice)
        .order_by(BuybackSubmission.number.desc())
        .limit(1)
        .scalar_subquery()
    )
    answer = BuybackSubmissionAnswer
    not_as_sent = ~(
        line.buying.is_not_distinct_from(answer.buying)
        & (
            line.buying.is_not(True)
            | (
                line.option_id.is_not_distinct_from(answer.option_id)
                & (line.quantity == answer.quantity)
            )
        )
    )
    return (
        select(
            *saved,
            answer.buying,
            answer.option_id,
            answer.quantity,
            answer.option_name,
            answer.unit,
            type_coerce(case((not_as_sent, line.changed_at)), ZONED_TIME),
            case(
                (
                    not_as_sent,
                    select(User.display_name)
                    .where(User.id == line.changed_by_id)
                    .scalar_subquery(),
                )
            ),
            not_as_sent,
        )
        .select_from(line)
        .outerjoin(
            answer, (answer.submission_id == latest) & (answer.service_id == line.service_id)
        )
        .where(line.choice_id == choice)
    )


def _may_be_unsent(
    offered: YearOffer, answered: Sequence[Sequence[Any]]
) -> list[tuple[Found, Sequence[Any]]]:
    """Of the services the school may buy (``offered``), in their order, each whose saved
    answer (a row of _answers_query) may not be what the latest submission sent, with the
    row: every one unsent_changes would find, and perhaps a few it will find the same. The
    rest answer as sent, as the statement found (the same buying, and if buying, the same
    option and number), with an option still offered."""
    may_be = []
    for row in answered:
        service_id = row[_LINE]
        found = offered.by_service.get(service_id)
        if found is None:  # no longer offered to the school: not part of its choice
            continue
        buying, option_id = row[_LINE + 1], row[_LINE + 2]
        if row[_NOT_AS_SENT] or (buying and option_id not in offered.options[service_id]):
            may_be.append((found[1], row))
    may_be.sort(key=lambda one: offered.position[one[1][_LINE]])
    return may_be


def _changes_of(
    choice_id: int,
    may_be: Sequence[tuple[Found, Sequence[Any]]],
    item_of: Callable[[Found], Offered],
) -> list[Change]:
    """The changes not yet sent among the services ``may_be`` (_may_be_unsent), with who
    made each and when, as read with them. An answer as sent whose option is no longer
    offered was read without them (the statement compares ids, not what is offered): for
    those, rare, one query more."""
    lines = [SavedLine(*row[_LINE:_SENT], row[_CHANGED_AT], row[_CHANGED_BY]) for _, row in may_be]
    sent = {
        row[_LINE]: SentAnswer(*row[_SENT:_CHANGED_AT])
        for _, row in may_be
        if row[_SENT] is not None
    }
    changes = unsent_changes(lines, sent, [item_of(found) for found, _ in may_be])
    not_read = {row[_LINE] for _, row in may_be if not row[_NOT_AS_SENT]} & {
        change.service_id for change in changes
    }
    if not not_read:
        return changes
    who = {
        line.service_id: line
        for line in db.session.execute(
            _lines.where(
                BuybackLine.choice_id == choice_id, BuybackLine.service_id.in_(sorted(not_read))
            )
        )
    }
    return [
        replace(change, by=line.changed_by_name, at=line.changed_at)
        if (line := who.get(change.service_id)) is not None
        else change
        for change in changes
    ]


def _note_unsent_changes(
    school: School,
    window: BuybackWindow,
    choice: BuybackChoice,
    offered: Sequence[Offered],
    actor: User,
    stamp: datetime,
) -> list[Change]:
    """After a save of a submitted choice: start or end its run of changes not yet sent, and
    when staff start one, e-mail the people who submit (once a run). The changes."""
    if choice.status is not ChoiceStatus.SUBMITTED:
        return []
    # Read without writing the save first: the caller's flush is where a colleague's save
    # in the same instant is found (StaleChoice).
    with db.session.no_autoflush:
        latest = db.session.scalars(
            select(BuybackSubmission)
            .options(lazyload(BuybackSubmission.submitted_by))
            .where(BuybackSubmission.choice_id == choice.id)
            .order_by(BuybackSubmission.number.desc())
            .limit(1)
        ).one_or_none()
        changes = unsent_changes(choice.lines, sent_answers(latest), offered)
        if not changes or latest is None:
            choice.unsent_since = choice.unsent_told_at = None
            return changes
        if choice.unsent_since is None:
            choice.unsent_since = stamp
        if choice.unsent_told_at is None:
            people = submitters_of([school])[school.id]
            if people and actor.id not in {person.id for person in people}:
                for person in people:
                    _email_unsent(person, actor, school, window, latest, changes)
                choice.unsent_told_at = stamp
    return changes


def _email_unsent(
    person: User,
    actor: User,
    school: School,
    window: BuybackWindow,
    latest: BuybackSubmission,
    changes: Sequence[Change],
) -> None:
    from portal.templating import london_time

    listed = "\n".join(f"- {c.service}: was {c.was}; now {c.now}" for c in changes)
    queue_email(
        person.email,
        f"Buy-back changes not yet sent: {school.name}, {window.year_label}",
        f"Dear {person.display_name},\n\n"
        f"{actor.display_name} has changed {school.name}'s choice of traded services for "
        f"{window.year_label} since it was submitted on {london_time(latest.submitted_at)}:"
        f"\n\n{listed}\n\n"
        "The council still has the choice as it was submitted "
        f"({format_pence(latest.net_pence + latest.vat_pence)}). To send the changes, check "
        "them and submit the choice again in the Schools Partner Portal under Buy-back by "
        f"{london_time(window.closes_at)}; if they were not meant, change them back.\n\n"
        "You will not be e-mailed about further changes until the choice is submitted again.\n",
    )


# --- the confirmation -------------------------------------------------------------------------


def invoice_schedule(total_pence: int, year: int) -> list[tuple[str, Fraction, int]]:
    """The invoices for the total of the financial year starting in April of ``year``: each
    month (with its year, "April 2027") and its share, in whole pence. Every share is rounded
    down but the last, which takes what is left, so they add up exactly."""
    parts = []
    for item in current_app.config["BUYBACK_INVOICE_SCHEDULE"].split(","):
        month, _, share = item.partition(":")
        parts.append((_month_of_year(month.strip(), year), Fraction(share.strip())))
    schedule = []
    remaining = total_pence
    for index, (month, share) in enumerate(parts):
        amount = remaining if index == len(parts) - 1 else int(total_pence * share)
        remaining -= amount
        schedule.append((month, share, amount))
    return schedule


def _month_of_year(month: str, year: int) -> str:
    """ "April" in the financial year from April ``year``: "April 2027"; January to March are
    in the year after. A name that is no month is left as it is."""
    for form in ("%B", "%b"):
        try:
            number = datetime.strptime(month, form).month
        except ValueError:
            continue
        return f"{calendar.month_name[number]} {year if number >= 4 else year + 1}"
    return month


def confirmation_text(choice: BuybackChoice, submission: BuybackSubmission) -> str:
    lines = [
        f"Buy-back confirmation for {choice.school.name} (URN {choice.school.urn})",
        f"Financial year {choice.window.year_label}, submission {submission.number}",
        "",
    ]
    for line in submission.lines:
        if line["buying"]:
            quantity = f" x {line['quantity']}" if line.get("unit") else ""
            cost = format_pence(line["net_pence"] + line["vat_pence"])
            lines.append(f"{line['service']}: {line['option']}{quantity}: {cost}")
    total = format_pence(submission.net_pence + submission.vat_pence)
    lines.append("")
    lines.append(f"Total: {total} (VAT {format_pence(submission.vat_pence)})")
    total_pence = submission.net_pence + submission.vat_pence
    for month, share, amount in invoice_schedule(total_pence, choice.window.year):
        lines.append(f"Invoice in {month} ({share}): {format_pence(amount)}")
    if submission.purchase_order:
        lines.append(f"Purchase order: {submission.purchase_order}")
    return "\n".join(lines) + "\n"


def _email_confirmation(choice: BuybackChoice, submission: BuybackSubmission) -> None:
    queue_email(
        submission.submitted_by.email,
        f"Buy-back confirmation: {choice.school.name}, {choice.window.year_label}",
        confirmation_text(choice, submission),
    )
