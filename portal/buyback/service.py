"""Buy-back: a school's choice of traded services for next year, within the window.

The server's clock decides whether a window is open (``now``, which the tests set). A
choice is saved as a draft by anyone at the school who may prepare it; only the head
teacher, or the trust lead for an academy, submits it. Submitting freezes each line's price
and keeps the submission as a version; until the deadline it can be changed and submitted
again.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import Text, cast, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from portal import audit
from portal.db import db, request_memo, utcnow
from portal.models import (
    Audience,
    BuybackChoice,
    BuybackLine,
    BuybackSubmission,
    BuybackWindow,
    ChoiceStatus,
    OfferStatus,
    PriceOption,
    PricingBasis,
    School,
    Service,
    ServiceKind,
    ServiceOffer,
    User,
    eligibility_of,
    open_to,
)
from portal.outbox import queue_email
from portal.services.catalogue import pupils_for, rolls_for
from portal.services.pricing import NoPrice, PriceRule, applies_to, format_pence, quote


def now() -> datetime:
    """The server's time; the tests replace it to stand either side of a deadline."""
    return utcnow()


# --- windows ----------------------------------------------------------------------------------


def windows_for(school: School) -> list[BuybackWindow]:
    """The windows that include this school, newest year first."""
    # A handful of rows a year, asked for more than once while a page is drawn (the current
    # window, last year's): read once per request.
    memo = request_memo("buyback_windows")
    if "all" not in memo:
        memo["all"] = db.session.scalars(
            select(BuybackWindow).order_by(BuybackWindow.year.desc(), BuybackWindow.opens_at.desc())
        ).all()
    return [w for w in memo["all"] if w.cohort.includes(school)]


def current_window(school: School) -> BuybackWindow | None:
    """The open window for the school, else the next upcoming one, else the latest closed."""
    windows = windows_for(school)
    moment = now()
    for state in ("open", "upcoming", "closed"):
        for window in windows:
            if window.state(moment) == state:
                return window
    return None


# --- the offer a school chooses from ---------------------------------------------------------


@dataclass(frozen=True)
class ServiceName:
    """The little of a service its buy-back line shows."""

    id: int
    name: str


@dataclass(frozen=True)
class OfferTerms:
    """A published (or last year's withdrawn) offer, as the buy-back page prices it."""

    id: int
    service_id: int
    year: int
    vat_applies: bool


@dataclass(frozen=True)
class OptionTerms:
    """A price option as read from the database: what pricing and the page need of it."""

    id: int
    offer_id: int
    name: str
    basis: PricingBasis
    audience: Audience
    amount_pence: int
    per_pupil_pence: int
    unit: str | None
    minimum_pence: int | None
    rates: dict[str, Any] = field(hash=False, compare=False)
    # The rates as text, so that two options are equal only if their rates are too.
    rates_key: str = ""

    @classmethod
    def of(cls, row: Any) -> OptionTerms:
        return cls(*row, rates_key=json.dumps(row.rates or {}, sort_keys=True))


@dataclass
class Offered:
    """One traded service on a school's choice page, with what it costs the school."""

    service: ServiceName
    offer: OfferTerms
    options: list[OptionTerms]  # the price options that apply to this school
    quotes: dict[int, Any] = field(default_factory=dict)  # option id -> Quote | None
    last_year: dict[str, int] = field(default_factory=dict)  # option name -> net last year

    @property
    def sold_by_the_unit(self) -> bool:
        """Whether any option is priced per unit, so the page asks how many."""
        return any(is_per_unit(option) for option in self.options)


def offered_to(school: School, year: int) -> list[Offered]:
    """Every traded service published for the year that the school may buy, priced for it."""
    # Plain rows, not ORM objects, in two queries: a large council offers a school a hundred
    # or more services with their options, and building and tracking objects for each was
    # most of the page's time. Only the services the school may buy are priced.
    offers = db.session.execute(
        select(
            ServiceOffer.id,
            ServiceOffer.service_id,
            ServiceOffer.year,
            ServiceOffer.status,
            ServiceOffer.vat_applies,
            Service.name,
            # As text, decoded once per distinct list (_listed) rather than on every row:
            # a few distinct lists across hundreds of services.
            cast(Service.eligible, Text).label("eligible"),
            cast(Service.phases, Text).label("phases"),
        )
        .join(Service)
        .where(
            Service.kind == ServiceKind.TRADED,
            ServiceOffer.year.in_([year, year - 1]),
            ServiceOffer.status.in_([OfferStatus.PUBLISHED, OfferStatus.WITHDRAWN]),
        )
        .order_by(Service.name, Service.id)
    ).all()
    groups = frozenset(e.value for e in eligibility_of(school))
    this_year = [
        row
        for row in offers
        if row.year == year
        and row.status is OfferStatus.PUBLISHED
        and open_to(groups, school.phase.value, _listed(row.eligible), _listed(row.phases))
    ]
    wanted = {row.service_id for row in this_year}
    last = {
        row.service_id: row for row in offers if row.year == year - 1 and row.service_id in wanted
    }
    options: dict[int, list[OptionTerms]] = {}
    offer_ids = [row.id for row in this_year] + [row.id for row in last.values()]
    if offer_ids:
        for row in db.session.execute(
            select(
                PriceOption.id,
                PriceOption.offer_id,
                PriceOption.name,
                PriceOption.basis,
                PriceOption.audience,
                PriceOption.amount_pence,
                PriceOption.per_pupil_pence,
                PriceOption.unit,
                PriceOption.minimum_pence,
                PriceOption.rates,
            )
            .where(PriceOption.offer_id.in_(offer_ids))
            .order_by(PriceOption.offer_id, PriceOption.position, PriceOption.id)
        ):
            options.setdefault(row.offer_id, []).append(OptionTerms.of(row))
    pupils = rolls_for(school, (year, year - 1))
    found = []
    for row in this_year:
        offer = OfferTerms(row.id, row.service_id, row.year, row.vat_applies)
        applying = [
            o
            for o in options.get(row.id, [])
            if applies_to(_rule(o, offer.vat_applies), is_academy=school.is_academy)
        ]
        if not applying:
            continue
        item = Offered(ServiceName(row.service_id, row.name), offer, applying)
        for option in applying:
            item.quotes[option.id] = _quote(option, offer, school, pupils[year], 1)
        previous = last.get(row.service_id)
        if previous is not None:
            before = OfferTerms(
                previous.id, previous.service_id, previous.year, previous.vat_applies
            )
            for option in options.get(previous.id, []):
                priced = _quote(option, before, school, pupils[year - 1], 1)
                if priced is not None:
                    item.last_year[option.name] = priced.net_pence
        found.append(item)
    return found


@lru_cache(maxsize=1024)
def _listed(text: str | None) -> frozenset[str]:
    return frozenset((json.loads(text) if text else None) or ())


@lru_cache(maxsize=4096)
def _rule(option: OptionTerms, vat: bool) -> PriceRule:
    # Keyed on every field of the option (its rates as text), so a changed option is a new
    # key: the rule is worked out once per version of an option, not on every page.
    return PriceRule.from_option(option, vat=vat)


def _quote(option: Any, offer: Any, school: School, pupils: int, quantity: int) -> Any:
    try:
        rule = (
            _rule(option, offer.vat_applies)
            if isinstance(option, OptionTerms)
            else PriceRule.from_option(option, vat=offer.vat_applies)
        )
        return quote(rule, pupils=pupils, phase=school.phase.value, quantity=quantity)
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


def read_answers(form: Any, offered: Sequence[Offered], school: School, year: int) -> Answers:
    """The answers posted for each offered service, priced, with a message per bad field."""
    answers = Answers({})
    pupils = pupils_for(school, year)
    for item in offered:
        sid = item.service.id
        answer = Answer()
        raw = form.get(f"answer-{sid}", "")
        if raw in ("buy", "no"):
            answer.buying = raw == "buy"
        option_raw = form.get(f"option-{sid}", "")
        options = {o.id: o for o in item.options}
        if option_raw.isdigit() and int(option_raw) in options:
            answer.option_id = int(option_raw)
        elif len(options) == 1:
            answer.option_id = next(iter(options))
        quantity_raw = form.get(f"quantity-{sid}", "1").strip() or "1"
        if quantity_raw.isdigit() and 1 <= int(quantity_raw) <= 9999:
            answer.quantity = int(quantity_raw)
        else:
            answers.errors[f"quantity-{sid}"] = (
                f"{item.service.name}: enter how many, as a whole number from 1 to 9999"
            )
        if answer.buying and answer.option_id is None:
            answers.errors[f"option-{sid}"] = f"{item.service.name}: choose which option to buy"
        if answer.buying and answer.option_id is not None:
            option = options[answer.option_id]
            priced = _quote(
                option, item.offer, school, pupils, answer.quantity if is_per_unit(option) else 1
            )
            if priced is None:
                answers.errors[f"answer-{sid}"] = (
                    f"{item.service.name}: this option has no price for your school: "
                    "contact the service"
                )
            else:
                answer.net_pence, answer.vat_pence = priced.net_pence, priced.vat_pence
        answers.by_service[sid] = answer
    return answers


def stored_answers(choice: BuybackChoice | None, offered: Sequence[Offered]) -> Answers:
    """The choice's saved answers; for a new choice, last year's submitted ones to start from."""
    by_service: dict[int, Answer] = {}
    if choice is not None and choice.lines:
        for line in choice.lines:
            by_service[line.service_id] = Answer(
                line.buying, line.option_id, line.quantity, line.net_pence, line.vat_pence
            )
    return Answers(by_service)


def renewal_answers(school: School, window: BuybackWindow, offered: Sequence[Offered]) -> Answers:
    """Last year's submitted choices, matched to this year's options by name."""
    last_window = next(
        (w for w in windows_for(school) if w.year == window.year - 1 and w.cohort == window.cohort),
        None,
    ) or next((w for w in windows_for(school) if w.year == window.year - 1), None)
    if last_window is None:
        return Answers({})
    # Only the latest submission's lines are wanted: one query, not the choice and its lists.
    latest = db.session.scalars(
        select(BuybackSubmission)
        .join(BuybackChoice)
        .options(lazyload(BuybackSubmission.submitted_by))
        .where(BuybackChoice.school_id == school.id, BuybackChoice.window_id == last_window.id)
        .order_by(BuybackSubmission.number.desc())
        .limit(1)
    ).one_or_none()
    if latest is None:
        return Answers({})
    by_service: dict[int, Answer] = {}
    for line in latest.lines:
        item = next((i for i in offered if i.service.id == line["service_id"]), None)
        if item is None:
            continue
        option = next((o for o in item.options if o.name == line.get("option")), None)
        answer = Answer(line["buying"], option.id if option else None, line.get("quantity", 1))
        if answer.buying and option is not None:
            priced = item.quotes.get(option.id)
            if priced is not None and is_per_unit(option) and answer.quantity != 1:
                priced = _quote(
                    option, item.offer, school, pupils_for(school, window.year), answer.quantity
                )
            if priced is not None:
                answer.net_pence, answer.vat_pence = priced.net_pence, priced.vat_pence
        by_service[item.service.id] = answer
    return Answers(by_service)


# --- saving and submitting --------------------------------------------------------------------


class WindowClosed(Exception):
    """The window is not open: nothing may be saved or submitted."""


class StaleChoice(Exception):
    """Someone else saved the choice after this person loaded it."""

    def __init__(self, choice: BuybackChoice, changed: list[str]) -> None:
        super().__init__(", ".join(changed))
        self.choice = choice
        self.changed = changed


def get_choice(school: School, window: BuybackWindow) -> BuybackChoice | None:
    return db.session.scalars(
        select(BuybackChoice).where(
            BuybackChoice.school_id == school.id, BuybackChoice.window_id == window.id
        )
    ).one_or_none()


def choices_for(windows: dict[int, BuybackWindow | None]) -> dict[int, BuybackChoice]:
    """Each school's choice in its window (school id -> window), with their submissions: a
    trust's every academy in two queries however many it has."""
    wanted = [(school_id, window.id) for school_id, window in windows.items() if window is not None]
    if not wanted:
        return {}
    found = db.session.scalars(
        select(BuybackChoice)
        .options(
            lazyload(BuybackChoice.school),
            lazyload(BuybackChoice.window),
            lazyload(BuybackChoice.updated_by),
            lazyload(BuybackChoice.lines),
            selectinload(BuybackChoice.submissions).lazyload(BuybackSubmission.submitted_by),
        )
        .where(tuple_(BuybackChoice.school_id, BuybackChoice.window_id).in_(wanted))
    ).all()
    return {choice.school_id: choice for choice in found}


def _check_open(window: BuybackWindow) -> None:
    if window.state(now()) != "open":
        raise WindowClosed(window.state(now()))


def _changed_since(choice: BuybackChoice, seen: Answers, offered: Sequence[Offered]) -> list[str]:
    names = {item.service.id: item.service.name for item in offered}
    stored = stored_answers(choice, offered).by_service

    def key(answer: Answer | None) -> tuple[Any, ...] | None:
        return None if answer is None else (answer.buying, answer.option_id, answer.quantity)

    return [
        name for sid, name in names.items() if key(seen.by_service.get(sid)) != key(stored.get(sid))
    ]


def save(
    school: School,
    window: BuybackWindow,
    answers: Answers,
    actor: User,
    seen_version: int | None,
    seen_answers: Answers | None = None,
    offered: Sequence[Offered] = (),
) -> BuybackChoice:
    """Save the answers as the school's draft (or update a submitted choice's draft)."""
    _check_open(window)
    choice = get_choice(school, window)
    if choice is None:
        choice = BuybackChoice(school=school, window=window, status=ChoiceStatus.DRAFT)
        db.session.add(choice)
    elif seen_version is not None and choice.version != seen_version:
        raise StaleChoice(choice, _changed_since(choice, seen_answers or Answers({}), offered))
    lines = {line.service_id: line for line in choice.lines}
    for sid, answer in answers.by_service.items():
        line = lines.get(sid)
        if line is None:
            line = BuybackLine(service_id=sid)
            choice.lines.append(line)
        line.buying = answer.buying
        line.option_id = answer.option_id if answer.buying else None
        line.quantity = answer.quantity
        line.net_pence = answer.net_pence if answer.buying else None
        line.vat_pence = answer.vat_pence if answer.buying else None
    choice.updated_by = actor
    choice.updated_at = utcnow()  # always a change, so the version moves on every save
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError) as error:
        db.session.rollback()
        fresh = get_choice(school, window)
        raise StaleChoice(fresh or choice, ["the whole choice"]) from error
    audit.record("buyback.saved", actor=actor, subject=choice, version=choice.version)
    db.session.commit()
    return choice


def unanswered(answers: Answers, offered: Sequence[Offered]) -> list[str]:
    return [
        i.service.name
        for i in offered
        if answers.by_service.get(i.service.id, Answer()).buying is None
    ]


def submit(
    choice: BuybackChoice,
    offered: Sequence[Offered],
    actor: User,
    purchase_order: str | None,
    submission_key: str,
) -> BuybackSubmission:
    """Freeze the prices, keep this submission as a version, and send the confirmation."""
    existing = db.session.scalars(
        select(BuybackSubmission).where(BuybackSubmission.submission_key == submission_key)
    ).one_or_none()
    if existing is not None:
        return existing
    _check_open(choice.window)
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
        number=len(choice.submissions) + 1,
        submission_key=submission_key,
        submitted_by=actor,
        submitted_at=utcnow(),
        purchase_order=purchase_order or None,
        lines=frozen,
        net_pence=sum(line["net_pence"] for line in frozen),
        vat_pence=sum(line["vat_pence"] for line in frozen),
    )
    choice.submissions.append(submission)
    choice.status = ChoiceStatus.SUBMITTED
    choice.submitted_at = submission.submitted_at
    choice.purchase_order = purchase_order or None
    choice.updated_by = actor
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return db.session.scalars(
            select(BuybackSubmission).where(BuybackSubmission.submission_key == submission_key)
        ).one()
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


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


# --- the confirmation -------------------------------------------------------------------------


def invoice_schedule(total_pence: int) -> list[tuple[str, Fraction, int]]:
    """The invoices for a year's total: each month's share, in whole pence. Every share is
    rounded down but the last, which takes what is left, so they add up exactly."""
    parts = []
    for item in current_app.config["BUYBACK_INVOICE_SCHEDULE"].split(","):
        month, _, share = item.partition(":")
        parts.append((month.strip(), Fraction(share.strip())))
    schedule = []
    remaining = total_pence
    for index, (month, share) in enumerate(parts):
        amount = remaining if index == len(parts) - 1 else int(total_pence * share)
        remaining -= amount
        schedule.append((month, share, amount))
    return schedule


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
    for month, share, amount in invoice_schedule(submission.net_pence + submission.vat_pence):
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


# --- reminders ----------------------------------------------------------------------------------


def send_reminders(days: int) -> int:
    """Remind head teachers of schools that have not submitted, once per window, when the
    deadline is ``days`` or fewer away. Returns how many schools were reminded."""
    from datetime import timedelta

    from portal.models import BuybackReminder, Membership, Role, SchoolStatus
    from portal.templating import london_time

    moment = now()
    windows = db.session.scalars(
        select(BuybackWindow).where(
            BuybackWindow.opens_at <= moment,
            BuybackWindow.closes_at > moment,
            BuybackWindow.closes_at <= moment + timedelta(days=days),
        )
    ).all()
    reminded = 0
    for window in windows:
        done = set(
            db.session.scalars(
                select(BuybackChoice.school_id).where(
                    BuybackChoice.window_id == window.id,
                    BuybackChoice.status == ChoiceStatus.SUBMITTED,
                )
            )
        ) | set(
            db.session.scalars(
                select(BuybackReminder.school_id).where(BuybackReminder.window_id == window.id)
            )
        )
        schools = db.session.scalars(select(School).where(School.status == SchoolStatus.OPEN)).all()
        # Every school's head teachers in one query: asking school by school was thousands of
        # queries for a large council's daily run.
        heads_of: dict[int, list[User]] = {}
        for school_id, head in db.session.execute(
            select(Membership.school_id, User)
            .join(Membership.user)
            .where(Membership.role == Role.HEAD_TEACHER, User.is_active.is_(True))
            .order_by(User.id)
        ):
            heads_of.setdefault(school_id, []).append(head)
        for school in schools:
            if school.id in done or not window.cohort.includes(school):
                continue
            for head in heads_of.get(school.id, []):
                queue_email(
                    head.email,
                    f"Reminder: buy-back choices for {window.year_label} are due",
                    f"Dear {head.display_name},\n\n{school.name} has not yet submitted its "
                    f"choice of traded services for {window.year_label}. The deadline is "
                    f"{london_time(window.closes_at)}. Submit it in the Schools "
                    "Partner Portal under Buy-back.\n",
                )
            db.session.add(BuybackReminder(school_id=school.id, window_id=window.id))
            reminded += 1
    db.session.commit()
    return reminded
