"""A window's figures as they stand: which of its schools have returned, and each published
service's take-up and income, counted from the latest submissions (the definitions are in
portal.buyback.analysis); and the types that hold them, which closed_figures keeps.

``count_figures`` works them out for any number of windows in a fixed number of queries: the
database adds up the latest submissions' answers per window, service, school type and
phase, and the rest is worked out in Python.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select

from portal.db import db
from portal.models import (
    BuybackChoice,
    BuybackSubmission,
    BuybackSubmissionAnswer,
    BuybackWindow,
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
class Reading:
    """What one analysis reads once, however many windows it covers: each year's offers
    (with their costs) and the schools loaded so far, by id."""

    offers: dict[int, list[_Offer]]
    schools: dict[int, School] = field(default_factory=dict)

    @classmethod
    def of(cls, years: Iterable[int]) -> Reading:
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


def count_figures(windows: Sequence[BuybackWindow], reading: Reading) -> dict[int, WindowFigures]:
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
