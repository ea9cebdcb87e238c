"""The buy-back analysis: which schools have returned, and whether each traded service pays.

The council analyses the schools' buy-back after the deadline (in May, in the Warwickshire
paper) to decide, service by service, to continue, re-price or stop trading, because every
traded service must balance its income and its expenditure. Council staff can watch the same
figures while the window is open.

Definitions:

- A window's schools: the open schools that its cohort includes.
- A school's answer: its choice's latest submission (the highest ``number``). A draft is not
  an answer, because the school has committed to nothing yet. A submission's ``lines`` hold
  one entry per traded service the school answered, buying or not, with the frozen price.
- Returns: every school of the window, "submitted" (when its latest submission was made,
  and how many submissions it made), "draft" (a choice with no submission) or "not started".
- The services: the traded services with an offer, of any status, for the window's year.
- Eligible: the window's schools the service is available to (``Service.is_available_to``).
  Buying and not buying: eligible schools whose answer has a line for the service saying so.
  Undecided: the other eligible schools, those whose answer has no line for it included. A
  line from a school the service is not available to is left out.
- Take-up: buying / eligible x 100, to one decimal place rounded half up; None when no school
  is eligible.
- Income: the frozen net prices (``net_pence``) of the buying lines. VAT is left out: the
  council collects it for HMRC, it does not earn it.
- Cost: the offer's ``delivery_cost_pence``, None until someone enters it. Surplus: income
  less cost, negative for a deficit. A service pays its way when its surplus is 0 or more.
  Surplus and pays its way are None without a cost.
- Totals: the income of every service; the cost and the surplus are None while any service
  has no cost, because a total that leaves a service out would look like an answer.
- By phase and by maintained or academy: the same counts and income among the eligible
  schools of each group (academies include free schools, as ``School.is_academy`` does);
  a group with no eligible school for a service has no row for it.
- Last year: the window of the previous financial year for the same cohort. Its figures are
  what was bought then, from every latest submission in it, schools since closed included,
  because that was the council's income. They are None when there was no such window or
  the service was not offered that year.

``analyse`` runs six queries whatever the number of schools, choices and services: the
database adds up the latest submissions' answers (``BuybackSubmissionAnswer``, the lines as
rows) per service, school type and phase, and the rest is worked out in Python.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import url_for
from markupsafe import Markup
from sqlalchemy import func, select

from portal.db import db
from portal.models import (
    BuybackChoice,
    BuybackSubmission,
    BuybackSubmissionAnswer,
    BuybackWindow,
    EstablishmentType,
    Phase,
    School,
    SchoolStatus,
    Service,
    ServiceKind,
    ServiceOffer,
    eligibility_of,
    open_to,
)
from portal.numbers import whole_number
from portal.pagination import Page, page_of, pagination_params
from portal.services.pricing import format_pence
from portal.spreadsheets import text_cell, to_csv
from portal.support.stats import bar_chart_svg

MAINTAINED = "Maintained"
ACADEMY = "Academy"


class ReturnState(enum.StrEnum):
    SUBMITTED = "submitted"
    DRAFT = "draft"
    NOT_STARTED = "not started"

    @property
    def label(self) -> str:
        return {
            ReturnState.SUBMITTED: "Submitted",
            ReturnState.DRAFT: "Draft started",
            ReturnState.NOT_STARTED: "Not started",
        }[self]


@dataclass(frozen=True)
class SchoolReturn:
    school: School
    state: ReturnState
    submitted_at: datetime | None = None
    submissions: int = 0

    @property
    def returned(self) -> bool:
        return self.state is ReturnState.SUBMITTED


@dataclass(frozen=True)
class ServiceTakeUp:
    service_id: int
    service: str
    eligible: int
    buying: int
    not_buying: int
    undecided: int
    take_up: Decimal | None
    income_pence: int
    cost_pence: int | None
    surplus_pence: int | None
    pays: bool | None
    last_year_income_pence: int | None
    last_year_buying: int | None

    @property
    def income_change_pence(self) -> int | None:
        if self.last_year_income_pence is None:
            return None
        return self.income_pence - self.last_year_income_pence

    @property
    def buying_change(self) -> int | None:
        return None if self.last_year_buying is None else self.buying - self.last_year_buying


@dataclass(frozen=True)
class GroupTakeUp:
    group: str
    service_id: int
    service: str
    eligible: int
    buying: int
    not_buying: int
    undecided: int
    take_up: Decimal | None
    income_pence: int


@dataclass(frozen=True)
class Totals:
    income_pence: int
    cost_pence: int | None
    surplus_pence: int | None
    uncosted: tuple[str, ...] = ()

    @property
    def pays(self) -> bool | None:
        return None if self.surplus_pence is None else self.surplus_pence >= 0


@dataclass(frozen=True)
class WindowAnalysis:
    window: BuybackWindow
    last_year: BuybackWindow | None
    returns: list[SchoolReturn]
    services: list[ServiceTakeUp]
    by_phase: list[GroupTakeUp]
    by_type: list[GroupTakeUp]
    totals: Totals

    @property
    def returned(self) -> list[SchoolReturn]:
        return [entry for entry in self.returns if entry.returned]

    @property
    def not_returned(self) -> list[SchoolReturn]:
        return [entry for entry in self.returns if not entry.returned]


@dataclass
class _Tally:
    eligible: int = 0
    buying: int = 0
    not_buying: int = 0
    income_pence: int = 0

    def answered(self, buying: bool, schools: int, net_pence: int) -> None:
        """``schools`` more schools' answers, all ``buying`` or all not, coming to
        ``net_pence`` (counted as eligible by ``add``)."""
        if buying:
            self.buying += schools
            self.income_pence += net_pence
        else:
            self.not_buying += schools

    def add(self, schools: int, answered: _Tally) -> None:
        """``schools`` more schools the service is open to, who answered as ``answered``."""
        self.eligible += schools
        self.buying += answered.buying
        self.not_buying += answered.not_buying
        self.income_pence += answered.income_pence

    @property
    def undecided(self) -> int:
        return self.eligible - self.buying - self.not_buying

    @property
    def take_up(self) -> Decimal | None:
        return percentage(self.buying, self.eligible)


@dataclass(frozen=True)
class _Profile:
    """What decides which services a school may buy, and how the analysis groups it."""

    phase: Phase
    kind: str  # MAINTAINED or ACADEMY
    groups: frozenset[str]  # its eligibility groups' values


@dataclass(frozen=True)
class _Submitted:
    submitted_at: datetime
    submissions: int


def percentage(part: int, whole: int) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to one decimal place; None of nothing."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def analyse(window: BuybackWindow) -> WindowAnalysis:
    """Every figure of the analysis of ``window`` (see the module's definitions)."""
    last_year = db.session.scalars(
        select(BuybackWindow)
        .where(
            BuybackWindow.year == window.year - 1,
            BuybackWindow.cohort == window.cohort,
            BuybackWindow.id != window.id,
        )
        # Should a year have had two windows for one cohort, the later one is the one that ran.
        .order_by(BuybackWindow.id.desc())
        .limit(1)
    ).first()
    schools = sorted(
        (
            school
            for school in db.session.scalars(
                select(School).where(School.status == SchoolStatus.OPEN)
            )
            if window.cohort.includes(school)
        ),
        key=lambda school: (school.name.casefold(), school.urn),
    )
    this_year = _returns(window.id)
    offered = _offers(window.year)
    returns = [
        _return_of(school, school.id in this_year, this_year.get(school.id)) for school in schools
    ]

    # Whether a service is open to a school depends only on the school's profile (its phase,
    # type and eligibility groups), of which a council has a few dozen, and the profile only
    # on the school's type and phase: the database adds the answers up per service, type and
    # phase, and each service is then checked against each profile rather than each of
    # thousands of schools.
    numbered: dict[_Profile, int] = {}
    profile_of: dict[tuple[EstablishmentType, Phase], int] = {}
    schools_with: Counter[int] = Counter()
    for school in schools:
        key = (school.establishment_type, school.phase)
        number = profile_of.get(key)
        if number is None:
            profile = _Profile(
                school.phase,
                _type_of(school),
                frozenset(group.value for group in eligibility_of(school)),
            )
            number = profile_of[key] = numbered.setdefault(profile, len(numbered))
        schools_with[number] += 1
    said: dict[int, dict[int, _Tally]] = defaultdict(lambda: defaultdict(_Tally))
    for service_id, kind, phase, buying, answers, net_pence in _answer_totals(window.id):
        number = profile_of.get((kind, phase))
        if number is None:  # no open school of the window's cohort is of this type and phase
            continue
        said[service_id][number].answered(buying, answers, net_pence)
    bought_last_year = _bought(last_year.id) if last_year is not None else {}
    services: list[ServiceTakeUp] = []
    by_phase: list[GroupTakeUp] = []
    by_type: list[GroupTakeUp] = []
    for service, cost, offered_last_year in offered:
        overall = _Tally()
        phases: dict[Phase, _Tally] = defaultdict(_Tally)
        types: dict[str, _Tally] = defaultdict(_Tally)
        eligible, service_phases = frozenset(service.eligible), frozenset(service.phases)
        answered = said.get(service.id, {})
        for profile, number in numbered.items():
            if not open_to(profile.groups, profile.phase.value, eligible, service_phases):
                continue
            count, given = schools_with[number], answered.get(number, _Tally())
            for tally in (overall, phases[profile.phase], types[profile.kind]):
                tally.add(count, given)
        services.append(
            _service_take_up(
                service,
                overall,
                cost,
                bought_last_year.get(service.id, (0, 0))
                if last_year is not None and offered_last_year
                else None,
            )
        )
        by_phase.extend(
            _group(phase.value, service, phases[phase]) for phase in Phase if phase in phases
        )
        by_type.extend(
            _group(label, service, types[label])
            for label in (MAINTAINED, ACADEMY)
            if label in types
        )

    return WindowAnalysis(
        window=window,
        last_year=last_year,
        returns=returns,
        services=services,
        by_phase=by_phase,
        by_type=by_type,
        totals=_totals(services),
    )


def _latest_submissions(window_id: int) -> Any:
    """Each choice of ``window_id`` that was submitted: its latest submission's number, and
    how many submissions it has had (a subquery)."""
    return (
        select(
            BuybackSubmission.choice_id,
            func.max(BuybackSubmission.number).label("number"),
            func.count().label("submissions"),
        )
        .join(BuybackChoice, BuybackChoice.id == BuybackSubmission.choice_id)
        .where(BuybackChoice.window_id == window_id)
        .group_by(BuybackSubmission.choice_id)
        .subquery()
    )


def _returns(window_id: int) -> dict[int, _Submitted | None]:
    """School id -> its latest submission in ``window_id``, or None for a draft: one query."""
    latest = _latest_submissions(window_id)
    rows = db.session.execute(
        select(BuybackChoice.school_id, latest.c.submissions, BuybackSubmission.submitted_at)
        .outerjoin(latest, latest.c.choice_id == BuybackChoice.id)
        .outerjoin(
            BuybackSubmission,
            (BuybackSubmission.choice_id == latest.c.choice_id)
            & (BuybackSubmission.number == latest.c.number),
        )
        .where(BuybackChoice.window_id == window_id)
    )
    return {
        school_id: None if submitted_at is None else _Submitted(submitted_at, submissions)
        for school_id, submissions, submitted_at in rows
    }


def _answers_of_latest(window_id: int) -> Any:
    """The answers of each latest submission in ``window_id``, with its choice (a select)."""
    latest = _latest_submissions(window_id)
    return (
        select()
        .select_from(BuybackSubmissionAnswer)
        .join(BuybackSubmission, BuybackSubmission.id == BuybackSubmissionAnswer.submission_id)
        .join(
            latest,
            (latest.c.choice_id == BuybackSubmission.choice_id)
            & (latest.c.number == BuybackSubmission.number),
        )
        .join(BuybackChoice, BuybackChoice.id == BuybackSubmission.choice_id)
    )


def _answer_totals(window_id: int) -> list[tuple[int, EstablishmentType, Phase, bool, int, int]]:
    """The open schools' latest answers in ``window_id``, added up: (service id, type, phase,
    buying, how many schools, their net pence) per service, type, phase and answer."""
    answer = BuybackSubmissionAnswer
    query = (
        _answers_of_latest(window_id)
        .add_columns(
            answer.service_id,
            School.establishment_type,
            School.phase,
            answer.buying,
            func.count(),
            func.coalesce(func.sum(answer.net_pence), 0),
        )
        .join(School, School.id == BuybackChoice.school_id)
        .where(School.status == SchoolStatus.OPEN)
        .group_by(answer.service_id, School.establishment_type, School.phase, answer.buying)
    )
    return [tuple(row) for row in db.session.execute(query)]  # type: ignore[misc]


def _bought(window_id: int) -> dict[int, tuple[int, int]]:
    """Service id -> how many schools bought it in ``window_id`` (their latest submissions)
    and what they paid in all (net pence)."""
    answer = BuybackSubmissionAnswer
    query = (
        _answers_of_latest(window_id)
        .add_columns(answer.service_id, func.count(), func.sum(answer.net_pence))
        .where(answer.buying.is_(True))
        .group_by(answer.service_id)
    )
    return {
        service_id: (schools, int(income or 0))
        for service_id, schools, income in db.session.execute(query)
    }


def _offers(year: int) -> list[tuple[Service, int | None, bool]]:
    """Each traded service offered in ``year``, its cost, and whether it was offered the
    year before: one query."""
    rows = db.session.execute(
        select(Service, ServiceOffer.year, ServiceOffer.delivery_cost_pence)
        .join(ServiceOffer, ServiceOffer.service_id == Service.id)
        .where(Service.kind == ServiceKind.TRADED, ServiceOffer.year.in_((year, year - 1)))
    ).all()
    offered_before = {service.id for service, offer_year, _ in rows if offer_year == year - 1}
    offered = [
        (service, cost, service.id in offered_before)
        for service, offer_year, cost in rows
        if offer_year == year
    ]
    # Sorted here, not in SQL, so that PostgreSQL and SQLite agree on the order.
    return sorted(offered, key=lambda row: (row[0].name.casefold(), row[0].id))


def _return_of(school: School, has_choice: bool, submitted: _Submitted | None) -> SchoolReturn:
    if submitted is not None:
        return SchoolReturn(
            school, ReturnState.SUBMITTED, submitted.submitted_at, submitted.submissions
        )
    return SchoolReturn(school, ReturnState.DRAFT if has_choice else ReturnState.NOT_STARTED)


def _type_of(school: School) -> str:
    return ACADEMY if school.is_academy else MAINTAINED


def _service_take_up(
    service: Service,
    tally: _Tally,
    cost_pence: int | None,
    bought_last_year: tuple[int, int] | None,
) -> ServiceTakeUp:
    """``bought_last_year``: how many schools bought the service last year, and what they
    paid in all; None when there is no last year to compare with."""
    surplus = None if cost_pence is None else tally.income_pence - cost_pence
    last_buying = last_income = None
    if bought_last_year is not None:
        last_buying, last_income = bought_last_year
    return ServiceTakeUp(
        service_id=service.id,
        service=service.name,
        eligible=tally.eligible,
        buying=tally.buying,
        not_buying=tally.not_buying,
        undecided=tally.undecided,
        take_up=tally.take_up,
        income_pence=tally.income_pence,
        cost_pence=cost_pence,
        surplus_pence=surplus,
        pays=None if surplus is None else surplus >= 0,
        last_year_income_pence=last_income,
        last_year_buying=last_buying,
    )


def _group(label: str, service: Service, tally: _Tally) -> GroupTakeUp:
    return GroupTakeUp(
        group=label,
        service_id=service.id,
        service=service.name,
        eligible=tally.eligible,
        buying=tally.buying,
        not_buying=tally.not_buying,
        undecided=tally.undecided,
        take_up=tally.take_up,
        income_pence=tally.income_pence,
    )


def _totals(services: list[ServiceTakeUp]) -> Totals:
    income = sum(row.income_pence for row in services)
    uncosted = tuple(row.service for row in services if row.cost_pence is None)
    if uncosted:
        return Totals(income, None, None, uncosted)
    cost = sum(row.cost_pence or 0 for row in services)
    return Totals(income, cost, income - cost)


# --- the download ---------------------------------------------------------------------------

CSV_COLUMNS = (
    "Service",
    "Eligible schools",
    "Buying",
    "Not buying",
    "Undecided",
    "Take-up %",
    "Income £",
    "Cost £",
    "Surplus or deficit £",
    "Pays its way",
    "Buying last year",
    "Income last year £",
    "Change in buying",
    "Change in income £",
)


def analysis_csv(analysis: WindowAnalysis) -> str:
    """One row per service with every figure; money in pounds, blank where not known."""
    return to_csv(
        CSV_COLUMNS,
        (
            (
                text_cell(row.service),
                row.eligible,
                row.buying,
                row.not_buying,
                row.undecided,
                _blank(row.take_up),
                pounds(row.income_pence),
                _blank(row.cost_pence, pounds),
                _blank(row.surplus_pence, pounds),
                "" if row.pays is None else ("Yes" if row.pays else "No"),
                _blank(row.last_year_buying),
                _blank(row.last_year_income_pence, pounds),
                _blank(row.buying_change),
                _blank(row.income_change_pence, pounds),
            )
            for row in analysis.services
        ),
    )


def pounds(pence: int) -> str:
    """``-123456`` as ``-1234.56``: a number a spreadsheet reads as one."""
    whole, pennies = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}{whole}.{pennies:02d}"


def _blank(value: Any, shown: Any = str) -> str:
    return "" if value is None else shown(value)


# --- the charts and the page ----------------------------------------------------------------


def charts_for(analysis: WindowAnalysis) -> dict[str, Markup]:
    """The page's charts, by the name the template looks them up with.

    ``bar_chart_svg`` draws whole, non-negative numbers, so take-up is shown to the whole
    percent and money to the whole pound (the tables beside them are exact), and surpluses
    and deficits are two charts, each of positive amounts. A service with no cost entered is
    in neither; one with no eligible school has no take-up bar.
    """
    year = analysis.window.year_label
    services = analysis.services
    charts = {
        "take_up": bar_chart_svg(
            f"Take-up by service, {year} (% of eligible schools)",
            [(row.service, _whole(row.take_up)) for row in services if row.take_up is not None],
        ),
        "income_and_cost": bar_chart_svg(
            f"Income and cost by service, {year} (£)", _income_and_cost(services)
        ),
    }
    surpluses = [row for row in services if row.pays]
    deficits = [row for row in services if row.pays is False]
    if surpluses:
        charts["surplus"] = bar_chart_svg(
            f"Surplus by service, {year} (£)",
            [(row.service, _whole_pounds(row.surplus_pence or 0)) for row in surpluses],
        )
    if deficits:
        charts["deficit"] = bar_chart_svg(
            f"Deficit by service, {year} (£)",
            [(row.service, _whole_pounds(-(row.surplus_pence or 0))) for row in deficits],
        )
    return charts


def _income_and_cost(services: list[ServiceTakeUp]) -> list[tuple[str, int]]:
    # Each service's income and cost one above the other, named by the kind of figure first
    # because the chart cuts long labels short at the end.
    rows = []
    for row in services:
        rows.append((f"Income: {row.service}", _whole_pounds(row.income_pence)))
        if row.cost_pence is not None:
            rows.append((f"Cost: {row.service}", _whole_pounds(row.cost_pence)))
    return rows


# A large council has thousands of schools: the page lists them a page at a time (the CSV
# has them all).
SCHOOLS_PER_LIST = 50


def page_context(analysis: WindowAnalysis, args: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What templates/buyback/analysis.html needs: ``render_page(..., **page_context(a))``;
    ``args`` (the request's) say which page of each list of schools to show."""
    args = args or {}
    window_id = analysis.window.id

    def list_pagination(page: Page[Any], arg: str) -> dict[str, Any]:
        # Each list pages on its own, keeping the other's place.
        kept = {name: value for name, value in args.items() if name != arg}
        return pagination_params(
            page,
            lambda number: (
                url_for("buyback.analysis", window_id=window_id, **kept, **{arg: number})
                + "#returns"
            ),
        )

    return {
        "analysis": analysis,
        "charts": charts_for(analysis),
        "format_pence": format_pence,
        "waiting": page_of(analysis.not_returned, _number(args.get("waiting")), SCHOOLS_PER_LIST),
        "returned": page_of(analysis.returned, _number(args.get("returned")), SCHOOLS_PER_LIST),
        "list_pagination": list_pagination,
    }


def _number(asked: str | None) -> int:
    return whole_number(asked) or 1


def _whole(value: Decimal | None) -> int:
    return 0 if value is None else int(value.quantize(Decimal(1), ROUND_HALF_UP))


def _whole_pounds(pence: int) -> int:
    return _whole(Decimal(pence) / 100)
