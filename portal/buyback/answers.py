"""A school's answers: read from a form, priced, where its choice starts, and its tasks.

Longer than most modules: an answer is read from a form, checked, priced and totalled into
its category's task; the four are one path, read together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    bindparam,
    select,
)

from portal.buyback.offer import (
    CATEGORY,
    CATEGORY_NAME,
    SERVICE,
)
from portal.buyback.offered import Offered, is_per_unit, quote_for
from portal.buyback.school_windows import WindowRead, windows_for
from portal.db import db, driver_rows
from portal.models import (
    BuybackChoice,
    BuybackLine,
    BuybackSubmission,
    BuybackSubmissionAnswer,
    BuybackWindow,
    School,
    User,
)
from portal.numbers import MAX_QUANTITY, record_id, whole_number
from portal.pricing import (
    MAX_QUOTE_PENCE,
    NoPrice,
    TooLarge,
    format_pence,
    quote,
)
from portal.schools.rolls import pupils_for
from portal.services.catalogue import CategoryName
from portal.services.offers import OptionTerms, rule_of

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
        priced = quote_for(option, item.offer, school, pupils, quantity)
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
    return StartingPoint(None, last_years_lines(school, window))


def last_years_lines(
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
    # many, not each: counted_tasks).
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


def counted_tasks(
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


def answer_key(answer: Answer | None) -> tuple[bool | None, int | None, int]:
    if answer is None:
        return (None, None, 1)
    return (answer.buying, answer.option_id if answer.buying else None, answer.quantity)


def seen_text(answers: Answers, items: Sequence[Offered]) -> str:
    """The answers to a page's services as they stand, for the form to send back."""
    parts = []
    for item in items:
        buying, option_id, quantity = answer_key(answers.by_service.get(item.service.id))
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


def read_lines(choice: BuybackChoice | None) -> list[Any]:
    """The choice's saved answers as plain rows, with who last changed each and when."""
    if choice is None or choice.id is None:
        return []
    return list(db.session.execute(lines_query.where(BuybackLine.choice_id == choice.id)).all())


lines_query = select(
    BuybackLine.service_id,
    BuybackLine.buying,
    BuybackLine.option_id,
    BuybackLine.quantity,
    BuybackLine.changed_at,
    User.display_name.label("changed_by_name"),
).outerjoin(User, User.id == BuybackLine.changed_by_id)
