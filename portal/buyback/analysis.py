"""The buy-back analysis: which schools have returned, and whether each traded service pays.

The council analyses the schools' buy-back after the deadline (in May, in the Warwickshire
paper) to decide, service by service, to continue, re-price or stop trading, because every
traded service must balance its income and its expenditure. Council staff can watch the same
figures while the window is open.

Definitions:

- A school's answer: its choice's latest submission (the highest ``number``). A draft is not
  an answer, because the school has committed to nothing yet. A submission's answers
  (``BuybackSubmissionAnswer``) hold one row per traded service the school answered, buying
  or not, with the frozen price.
- A window's schools: every school that answered in it, whatever has become of it since
  (closed, converted), because what it committed to is the council's income; and the open
  schools its cohort includes.
- Returns: every school of the window, "submitted" (when its latest submission was made,
  and how many submissions it made), "draft" (a choice with no submission) or "not started".
- The services: the traded services whose offer for the window's year is published. A draft
  was never offered to anyone; a withdrawn offer is no longer offered.
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
- A closed window's figures (every count and income above; not the costs, which the council
  enters after the deadline) are worked out once after its deadline and kept
  (``BuybackWindowFigures``): the first time they are asked for, or before a register import
  is applied, whichever comes first. Nothing done afterwards moves them. Should the deadline
  move later, the window is open again and its figures are worked out afresh.
- Last year: the window of the previous financial year for the same cohort. Its figures are
  that window's own (``window_figures``), so the comparison says what its page says. They
  are None when there was no such window or the service was not offered that year.
- The whole year: every window of a financial year (the maintained schools' and the
  academies'), each service's figures added up across them, against the service's one cost.

``window_figures`` is the one place a window's figures are worked out. For any number of
windows it runs a fixed number of queries: the database adds up the latest submissions'
answers per window, service, school type and phase, and the rest is worked out in Python.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import url_for
from sqlalchemy import Select, func, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal import clock
from portal.charts import BarChart, bar_chart
from portal.clock import financial_year_label
from portal.db import db
from portal.models import (
    BuybackChoice,
    BuybackSubmission,
    BuybackSubmissionAnswer,
    BuybackWindow,
    BuybackWindowFigures,
    EstablishmentType,
    OfferStatus,
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
from portal.pricing import format_pence, pounds
from portal.spreadsheets import text_cell, to_csv

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
class Return:
    """Where one school of a window stands, by its id: what a window's figures keep."""

    school_id: int
    state: ReturnState
    submitted_at: datetime | None = None
    submissions: int = 0


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
class GroupTakeUp:
    """One service's answers among a group of a window's schools (``group`` is the phase,
    MAINTAINED or ACADEMY; "" for all of them), or added up across windows."""

    group: str
    service_id: int
    service: str
    eligible: int
    buying: int
    not_buying: int
    income_pence: int

    @property
    def undecided(self) -> int:
        return self.eligible - self.buying - self.not_buying

    @property
    def take_up(self) -> Decimal | None:
        return percentage(self.buying, self.eligible)


@dataclass(frozen=True)
class WindowFigures:
    """Every count and income of a window's analysis (not the costs): see the module."""

    window: BuybackWindow
    returns: list[Return]
    services: list[GroupTakeUp]
    by_phase: list[GroupTakeUp]
    by_type: list[GroupTakeUp]
    # When a closed window's figures were kept; None while the window may still change them.
    kept_at: datetime | None = None

    def service(self, service_id: int) -> GroupTakeUp | None:
        return next((row for row in self.services if row.service_id == service_id), None)

    @property
    def returned(self) -> int:
        return sum(entry.state is ReturnState.SUBMITTED for entry in self.returns)

    @property
    def income_pence(self) -> int:
        return sum(row.income_pence for row in self.services)


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
    kept_at: datetime | None = None

    @property
    def returned(self) -> list[SchoolReturn]:
        return [entry for entry in self.returns if entry.returned]

    @property
    def not_returned(self) -> list[SchoolReturn]:
        return [entry for entry in self.returns if not entry.returned]


@dataclass(frozen=True)
class YearService:
    """One service across a year's windows: its figures in each (None where the window did
    not offer it), added up, and against its cost."""

    service_id: int
    service: str
    by_window: tuple[GroupTakeUp | None, ...]
    all: GroupTakeUp
    cost_pence: int | None
    surplus_pence: int | None
    pays: bool | None


@dataclass(frozen=True)
class YearAnalysis:
    year: int
    windows: list[WindowFigures]
    services: list[YearService]
    totals: Totals

    @property
    def year_label(self) -> str:
        return financial_year_label(self.year)


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

    def row(self, group: str, service: Service) -> GroupTakeUp:
        return GroupTakeUp(
            group, service.id, service.name, self.eligible, self.buying, self.not_buying,
            self.income_pence,
        )  # fmt: skip


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


@dataclass(frozen=True)
class _Offer:
    service: Service
    status: OfferStatus
    cost_pence: int | None


@dataclass
class _Reading:
    """What one analysis reads once, however many windows it covers: each year's offers
    (with their costs) and the schools loaded so far, by id."""

    offers: dict[int, list[_Offer]]
    schools: dict[int, School] = field(default_factory=dict)

    @classmethod
    def of(cls, years: Iterable[int]) -> _Reading:
        return cls(_offers(set(years)))

    def published(self, year: int) -> list[Service]:
        return [o.service for o in self.offers.get(year, []) if o.status is OfferStatus.PUBLISHED]

    def costs(self, year: int) -> dict[int, int | None]:
        return {o.service.id: o.cost_pence for o in self.offers.get(year, [])}

    def schools_of(self, ids: Iterable[int]) -> dict[int, School]:
        missing = set(ids) - set(self.schools)
        if missing:
            self.schools.update(
                (school.id, school)
                for school in db.session.scalars(select(School).where(School.id.in_(missing)))
            )
        return self.schools


def percentage(part: int, whole: int) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to one decimal place; None of nothing."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


# --- a window's figures -----------------------------------------------------------------------


def window_figures(
    windows: Sequence[BuybackWindow], reading: _Reading | None = None
) -> dict[int, WindowFigures]:
    """Each window's figures by its id: a closed window's as kept (kept now, the first time
    they are asked for after its deadline), an open or upcoming window's as they stand.
    Every page that shows a window's figures has them from here. ``reading``: what the
    caller has read already (its offers, for the costs; the schools)."""
    if reading is None:
        reading = _Reading.of(w.year for w in windows)
    at = clock.now()
    closed = {w.id for w in windows if w.state(at) == "closed"}
    figures = _kept({w.id: w for w in windows if w.id in closed})
    counting = [w for w in windows if w.id not in figures]
    if counting:
        counted = _count(counting, reading)
        newly = [counted[w.id] for w in counting if w.id in closed]
        if newly:
            figures.update((f.window.id, f) for f in _keep(newly, at))
            # At once, whoever asked: the next page must read the figures this one showed.
            db.session.commit()
        figures.update((k, v) for k, v in counted.items() if k not in figures)
    return figures


def keep_closed_windows() -> int:
    """Keep the figures of every window past its deadline that has none kept for it, as
    they stand now; the caller commits. Called before anything that could move them (a
    register import). Returns how many windows' figures were kept."""
    at = clock.now()
    waiting = db.session.scalars(
        select(BuybackWindow)
        .outerjoin(BuybackWindowFigures, BuybackWindowFigures.window_id == BuybackWindow.id)
        .where(
            BuybackWindow.closes_at <= at,
            or_(
                BuybackWindowFigures.window_id.is_(None),
                BuybackWindowFigures.closes_at != BuybackWindow.closes_at,
            ),
        )
    ).all()
    if waiting:
        counted = _count(waiting, _Reading.of(w.year for w in waiting))
        _keep(list(counted.values()), at)
    return len(waiting)


def _kept(windows: Mapping[int, BuybackWindow]) -> dict[int, WindowFigures]:
    """The kept figures of these closed windows, those kept at their present deadline."""
    if not windows:
        return {}
    rows = db.session.execute(
        select(
            BuybackWindowFigures.window_id,
            BuybackWindowFigures.closes_at,
            BuybackWindowFigures.kept_at,
            BuybackWindowFigures.figures,
        ).where(BuybackWindowFigures.window_id.in_(list(windows)))
    )
    return {
        window_id: _decoded(windows[window_id], figures, kept_at)
        for window_id, closes_at, kept_at, figures in rows
        if closes_at == windows[window_id].closes_at
    }


def _keep(figures: list[WindowFigures], at: datetime) -> list[WindowFigures]:
    """Keep these closed windows' figures, in one statement. Figures kept at an earlier
    deadline are replaced; figures already kept at this one (by a page drawn at the same
    moment) stand."""
    table = BuybackWindowFigures.__table__
    rows = [
        {
            "window_id": f.window.id,
            "closes_at": f.window.closes_at,
            "kept_at": at,
            "figures": _encoded(f),
        }
        for f in figures
    ]
    insert = (
        postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    )
    statement = insert(table).values(rows)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.window_id],
            set_={
                "closes_at": statement.excluded.closes_at,
                "kept_at": statement.excluded.kept_at,
                "figures": statement.excluded.figures,
            },
            where=table.c.closes_at != statement.excluded.closes_at,
        )
    )
    return [
        WindowFigures(f.window, f.returns, f.services, f.by_phase, f.by_type, kept_at=at)
        for f in figures
    ]


def _encoded(figures: WindowFigures) -> dict[str, Any]:
    def rows(found: list[GroupTakeUp]) -> list[list[Any]]:
        return [
            [r.group, r.service_id, r.service, r.eligible, r.buying, r.not_buying, r.income_pence]
            for r in found
        ]

    return {
        "returns": [
            [
                r.school_id,
                r.state.value,
                r.submitted_at.isoformat() if r.submitted_at else None,
                r.submissions,
            ]
            for r in figures.returns
        ],
        "services": rows(figures.services),
        "by_phase": rows(figures.by_phase),
        "by_type": rows(figures.by_type),
    }


def _decoded(window: BuybackWindow, kept: dict[str, Any], kept_at: datetime) -> WindowFigures:
    def rows(name: str) -> list[GroupTakeUp]:
        return [GroupTakeUp(*row) for row in kept[name]]

    return WindowFigures(
        window=window,
        returns=[
            Return(school_id, ReturnState(state), datetime.fromisoformat(at) if at else None, n)
            for school_id, state, at, n in kept["returns"]
        ],
        services=rows("services"),
        by_phase=rows("by_phase"),
        by_type=rows("by_type"),
        kept_at=kept_at,
    )


def _count(windows: Sequence[BuybackWindow], reading: _Reading) -> dict[int, WindowFigures]:
    """The figures of these windows as they stand, in four queries however many there are."""
    ids = [w.id for w in windows]
    returns = _returns(ids)
    answered = {key for key, submitted in returns.items() if submitted is not None}
    schools = db.session.scalars(
        select(School).where(
            or_(School.status == SchoolStatus.OPEN, School.id.in_(_schools_that_answered(ids)))
        )
    ).all()
    reading.schools.update((school.id, school) for school in schools)

    # Whether a service is open to a school depends only on the school's profile (its phase,
    # type and eligibility groups), of which a council has a few dozen, and the profile only
    # on the school's type and phase: the database adds the answers up per service, type and
    # phase, and each service is then checked against each profile rather than each of
    # thousands of schools.
    numbered: dict[_Profile, int] = {}
    profile_of: dict[tuple[EstablishmentType, Phase], int] = {}
    for school in schools:
        key = (school.establishment_type, school.phase)
        if key not in profile_of:
            profile = _Profile(
                school.phase,
                _type_of(school),
                frozenset(group.value for group in eligibility_of(school)),
            )
            profile_of[key] = numbered.setdefault(profile, len(numbered))
    said: dict[tuple[int, int], dict[int, _Tally]] = defaultdict(lambda: defaultdict(_Tally))
    for window_id, service_id, kind, phase, buying, answers, net_pence in _answer_totals(ids):
        number = profile_of.get((kind, phase))
        if number is None:  # a school's type changed between the two queries: counted next time
            continue
        said[window_id, service_id][number].answered(buying, answers, net_pence)

    figures = {}
    for window in windows:
        members = sorted(
            (
                school
                for school in schools
                if (window.id, school.id) in answered
                or (school.status is SchoolStatus.OPEN and window.cohort.includes(school))
            ),
            key=lambda school: (school.name.casefold(), school.urn),
        )
        schools_with: Counter[int] = Counter(
            profile_of[school.establishment_type, school.phase] for school in members
        )
        services: list[GroupTakeUp] = []
        by_phase: list[GroupTakeUp] = []
        by_type: list[GroupTakeUp] = []
        for service in reading.published(window.year):
            overall = _Tally()
            phases: dict[Phase, _Tally] = defaultdict(_Tally)
            types: dict[str, _Tally] = defaultdict(_Tally)
            eligible, service_phases = frozenset(service.eligible), frozenset(service.phases)
            given = said.get((window.id, service.id), {})
            for profile, number in numbered.items():
                if not schools_with[number] or not open_to(
                    profile.groups, profile.phase.value, eligible, service_phases
                ):
                    continue
                answers = given.get(number, _Tally())
                for tally in (overall, phases[profile.phase], types[profile.kind]):
                    tally.add(schools_with[number], answers)
            services.append(overall.row("", service))
            by_phase.extend(phases[p].row(p.value, service) for p in Phase if p in phases)
            by_type.extend(
                types[label].row(label, service)
                for label in (MAINTAINED, ACADEMY)
                if label in types
            )
        figures[window.id] = WindowFigures(
            window=window,
            returns=[_return_of(school.id, returns, window.id) for school in members],
            services=services,
            by_phase=by_phase,
            by_type=by_type,
        )
    return figures


def _latest_submissions(window_ids: list[int]) -> Any:
    """Each choice of these windows that was submitted: its latest submission's number, and
    how many submissions it has had (a subquery)."""
    return (
        select(
            BuybackSubmission.choice_id,
            func.max(BuybackSubmission.number).label("number"),
            func.count().label("submissions"),
        )
        .join(BuybackChoice, BuybackChoice.id == BuybackSubmission.choice_id)
        .where(BuybackChoice.window_id.in_(window_ids))
        .group_by(BuybackSubmission.choice_id)
        .subquery()
    )


def _schools_that_answered(window_ids: list[int]) -> Select[tuple[int]]:
    return (
        select(BuybackChoice.school_id)
        .join(BuybackSubmission, BuybackSubmission.choice_id == BuybackChoice.id)
        .where(BuybackChoice.window_id.in_(window_ids))
    )


def _returns(window_ids: list[int]) -> dict[tuple[int, int], _Submitted | None]:
    """(window id, school id) -> the school's latest submission in the window, or None for
    a draft: one query."""
    latest = _latest_submissions(window_ids)
    rows = db.session.execute(
        select(
            BuybackChoice.window_id,
            BuybackChoice.school_id,
            latest.c.submissions,
            BuybackSubmission.submitted_at,
        )
        .outerjoin(latest, latest.c.choice_id == BuybackChoice.id)
        .outerjoin(
            BuybackSubmission,
            (BuybackSubmission.choice_id == latest.c.choice_id)
            & (BuybackSubmission.number == latest.c.number),
        )
        .where(BuybackChoice.window_id.in_(window_ids))
    )
    return {
        (window_id, school_id): None
        if submitted_at is None
        else _Submitted(submitted_at, submissions)
        for window_id, school_id, submissions, submitted_at in rows
    }


def _answer_totals(
    window_ids: list[int],
) -> list[tuple[int, int, EstablishmentType, Phase, bool, int, int]]:
    """The latest answers in these windows, added up: (window id, service id, type, phase,
    buying, how many schools, their net pence) per window, service, type, phase and answer."""
    answer = BuybackSubmissionAnswer
    latest = _latest_submissions(window_ids)
    query = (
        select(
            BuybackChoice.window_id,
            answer.service_id,
            School.establishment_type,
            School.phase,
            answer.buying,
            func.count(),
            func.coalesce(func.sum(answer.net_pence), 0),
        )
        .select_from(answer)
        .join(BuybackSubmission, BuybackSubmission.id == answer.submission_id)
        .join(
            latest,
            (latest.c.choice_id == BuybackSubmission.choice_id)
            & (latest.c.number == BuybackSubmission.number),
        )
        .join(BuybackChoice, BuybackChoice.id == BuybackSubmission.choice_id)
        .join(School, School.id == BuybackChoice.school_id)
        .group_by(
            BuybackChoice.window_id,
            answer.service_id,
            School.establishment_type,
            School.phase,
            answer.buying,
        )
    )
    return [tuple(row) for row in db.session.execute(query)]


def _offers(years: set[int]) -> dict[int, list[_Offer]]:
    """Each traded service's offer for each of ``years``, of any status, with its cost, in
    the services' order: one query."""
    rows = db.session.execute(
        select(Service, ServiceOffer.year, ServiceOffer.status, ServiceOffer.delivery_cost_pence)
        .join(ServiceOffer, ServiceOffer.service_id == Service.id)
        .where(Service.kind == ServiceKind.TRADED, ServiceOffer.year.in_(years))
    ).all()
    offers: dict[int, list[_Offer]] = defaultdict(list)
    # Sorted here, not in SQL, so that PostgreSQL and SQLite agree on the order.
    for service, year, status, cost in sorted(
        rows, key=lambda row: (row[0].name.casefold(), row[0].id)
    ):
        offers[year].append(_Offer(service, status, cost))
    return offers


def _return_of(
    school_id: int, returns: Mapping[tuple[int, int], _Submitted | None], window_id: int
) -> Return:
    key = (window_id, school_id)
    submitted = returns.get(key)
    if submitted is not None:
        return Return(
            school_id, ReturnState.SUBMITTED, submitted.submitted_at, submitted.submissions
        )
    return Return(school_id, ReturnState.DRAFT if key in returns else ReturnState.NOT_STARTED)


def _type_of(school: School) -> str:
    return ACADEMY if school.is_academy else MAINTAINED


# --- a window's analysis, and a year's ------------------------------------------------------


def analysis_of(window_id: int) -> WindowAnalysis | None:
    """The analysis of the window with this id; None if there is no such window."""
    window = db.session.get(BuybackWindow, window_id)
    return None if window is None else analyse(window)


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
    windows = [window] if last_year is None else [window, last_year]
    reading = _Reading.of(w.year for w in windows)
    figures = window_figures(windows, reading)
    this = figures[window.id]
    before = figures[last_year.id] if last_year is not None else None
    costs = reading.costs(window.year)
    services = [_service_take_up(row, costs.get(row.service_id), before) for row in this.services]
    schools = reading.schools_of(entry.school_id for entry in this.returns)
    return WindowAnalysis(
        window=window,
        last_year=last_year,
        returns=[
            SchoolReturn(schools[r.school_id], r.state, r.submitted_at, r.submissions)
            for r in this.returns
        ],
        services=services,
        by_phase=this.by_phase,
        by_type=this.by_type,
        totals=_totals([(row.service, row.income_pence, row.cost_pence) for row in services]),
        kept_at=this.kept_at,
    )


def analyse_year(year: int) -> YearAnalysis | None:
    """The year's windows (the maintained schools' and the academies') together: each
    service's figures in each and added up, against its cost. None if the year has none."""
    windows = db.session.scalars(
        select(BuybackWindow)
        .where(BuybackWindow.year == year)
        .order_by(BuybackWindow.opens_at, BuybackWindow.id)
    ).all()
    if not windows:
        return None
    reading = _Reading.of([year])
    figures = window_figures(windows, reading)
    shown = [figures[w.id] for w in windows]
    costs = reading.costs(year)
    names: dict[int, str] = {}
    for each in shown:
        names.update((row.service_id, row.service) for row in each.services)
    services = []
    for service_id in sorted(names, key=lambda sid: (names[sid].casefold(), sid)):
        by_window = tuple(each.service(service_id) for each in shown)
        counted = [row for row in by_window if row is not None]
        together = GroupTakeUp(
            "",
            service_id,
            names[service_id],
            sum(row.eligible for row in counted),
            sum(row.buying for row in counted),
            sum(row.not_buying for row in counted),
            sum(row.income_pence for row in counted),
        )
        cost = costs.get(service_id)
        surplus = None if cost is None else together.income_pence - cost
        services.append(
            YearService(
                service_id,
                names[service_id],
                by_window,
                together,
                cost,
                surplus,
                None if surplus is None else surplus >= 0,
            )
        )
    return YearAnalysis(
        year=year,
        windows=shown,
        services=services,
        totals=_totals([(s.service, s.all.income_pence, s.cost_pence) for s in services]),
    )


def _service_take_up(
    row: GroupTakeUp, cost_pence: int | None, last_year: WindowFigures | None
) -> ServiceTakeUp:
    """``last_year``: the figures of last year's window; None when there was none."""
    surplus = None if cost_pence is None else row.income_pence - cost_pence
    before = last_year.service(row.service_id) if last_year is not None else None
    return ServiceTakeUp(
        service_id=row.service_id,
        service=row.service,
        eligible=row.eligible,
        buying=row.buying,
        not_buying=row.not_buying,
        undecided=row.undecided,
        take_up=row.take_up,
        income_pence=row.income_pence,
        cost_pence=cost_pence,
        surplus_pence=surplus,
        pays=None if surplus is None else surplus >= 0,
        last_year_income_pence=None if before is None else before.income_pence,
        last_year_buying=None if before is None else before.buying,
    )


def _totals(services: list[tuple[str, int, int | None]]) -> Totals:
    """Of (service, income, cost) for each service."""
    income = sum(row_income for _, row_income, _ in services)
    uncosted = tuple(name for name, _, cost in services if cost is None)
    if uncosted:
        return Totals(income, None, None, uncosted)
    cost = sum(cost or 0 for _, _, cost in services)
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


def _blank(value: Any, shown: Any = str) -> str:
    return "" if value is None else shown(value)


# --- the charts and the page ----------------------------------------------------------------


def charts_for(analysis: WindowAnalysis) -> dict[str, BarChart]:
    """The page's charts, by the name the template looks them up with.

    ``bar_chart`` draws whole, non-negative numbers, so take-up is shown to the whole
    percent and money to the whole pound (the tables beside them are exact), and surpluses
    and deficits are two charts, each of positive amounts. A service with no cost entered is
    in neither; one with no eligible school has no take-up bar.
    """
    year = analysis.window.year_label
    services = analysis.services
    charts = {
        "take_up": bar_chart(
            f"Take-up by service, {year} (% of eligible schools)",
            [(row.service, _whole(row.take_up)) for row in services if row.take_up is not None],
        ),
        "income_and_cost": bar_chart(
            f"Income and cost by service, {year} (£)", _income_and_cost(services)
        ),
    }
    surpluses = [row for row in services if row.pays]
    deficits = [row for row in services if row.pays is False]
    if surpluses:
        charts["surplus"] = bar_chart(
            f"Surplus by service, {year} (£)",
            [(row.service, _whole_pounds(row.surplus_pence or 0)) for row in surpluses],
        )
    if deficits:
        charts["deficit"] = bar_chart(
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
