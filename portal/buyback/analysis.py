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

This module holds one window's analysis. ``window_figures`` (closed_figures) is the one
place a window's figures come from: kept for a closed window, counted (figures) for an open
one. The year's analysis is in year_analysis, the CSV in analysis_csv and the page's
context and charts in analysis_page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from portal.buyback.closed_figures import window_figures
from portal.buyback.figures import GroupTakeUp, Reading, ReturnState, WindowFigures
from portal.db import db
from portal.models import BuybackWindow, School


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
    reading = Reading.of(w.year for w in windows)
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
        totals=totals_of([(row.service, row.income_pence, row.cost_pence) for row in services]),
        kept_at=this.kept_at,
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


def totals_of(services: list[tuple[str, int, int | None]]) -> Totals:
    """Of (service, income, cost) for each service."""
    income = sum(row_income for _, row_income, _ in services)
    uncosted = tuple(name for name, _, cost in services if cost is None)
    if uncosted:
        return Totals(income, None, None, uncosted)
    cost = sum(cost or 0 for _, _, cost in services)
    return Totals(income, cost, income - cost)
