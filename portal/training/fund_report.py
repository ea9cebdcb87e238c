"""The supply-cover funds for the Schools Forum: each fund's allocated, claimed, approved,
paid and remaining amounts, and one fund's by area.

- *allocated*: the schools' confirmed allocations (a draft fund is not reported: its formula
  may still change);
- *claimed*: what schools asked for, every claim made (refused ones too);
- *approved* and *paid*: the allocations' running sums, kept by the claims' decisions and
  payments (portal/training/claims.py, payments.py), which never pass the allocation;
- *remaining*: allocated less approved, what schools may still be paid.

By area means the area of the school the allocation is for. Money is whole pence. Every
figure comes from a GROUP BY: two statements for the funds, three more for one fund's areas.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from portal.access import Principal, reported_fund_scope
from portal.charts import BarChart, bar_chart
from portal.db import db
from portal.models import Area, FundAllocation, FundStatus, School, SupplyClaim, SupplyFund
from portal.numbers import record_id


@dataclass(frozen=True)
class FundFigures:
    label: str
    schools: int = 0  # with an allocation
    allocated: int = 0
    claims: int = 0
    claimed: int = 0
    approved: int = 0
    paid: int = 0

    @property
    def remaining(self) -> int:
        return self.allocated - self.approved

    def __add__(self, other: FundFigures) -> FundFigures:
        return FundFigures(
            self.label,
            self.schools + other.schools,
            self.allocated + other.allocated,
            self.claims + other.claims,
            self.claimed + other.claimed,
            self.approved + other.approved,
            self.paid + other.paid,
        )


@dataclass(frozen=True)
class FundSummary:
    id: int
    name: str
    status: FundStatus
    total_pence: int
    covers_from: date
    covers_to: date
    figures: FundFigures


@dataclass(frozen=True)
class FundReport:
    funds: list[FundSummary]
    total: FundFigures
    # The fund asked for, and its figures by area with their total.
    chosen: FundSummary | None = None
    areas: tuple[FundFigures, ...] = ()
    area_total: FundFigures | None = None


def fund_report(who: Principal, fund: str | None = None) -> FundReport | None:
    """Every reported fund's figures and, when ``fund`` (an id, as the address gives it)
    names one, its figures by area; None when it names no fund ``who`` may see."""
    funds = _funds(who)
    total = sum((summary.figures for summary in funds), FundFigures("Total"))
    if fund is None:
        return FundReport(funds, total)
    chosen = next((summary for summary in funds if summary.id == record_id(fund)), None)
    if chosen is None:
        return None
    areas = _by_area(chosen.id)
    area_total = sum(areas, FundFigures("Total"))
    return FundReport(funds, total, chosen, tuple(areas), area_total)


def _funds(who: Principal) -> list[FundSummary]:
    allocations = db.session.execute(
        select(
            SupplyFund.id,
            SupplyFund.name,
            SupplyFund.status,
            SupplyFund.total_pence,
            SupplyFund.covers_from,
            SupplyFund.covers_to,
            func.count(FundAllocation.id),
            func.coalesce(func.sum(FundAllocation.amount_pence), 0),
            func.coalesce(func.sum(FundAllocation.approved_pence), 0),
            func.coalesce(func.sum(FundAllocation.paid_pence), 0),
        )
        .outerjoin(FundAllocation, FundAllocation.fund_id == SupplyFund.id)
        .where(reported_fund_scope(who))
        .group_by(SupplyFund.id)
    ).all()
    claims = _claims(
        select(SupplyClaim.fund_id)
        .join(SupplyFund, SupplyFund.id == SupplyClaim.fund_id)
        .where(reported_fund_scope(who))
        .group_by(SupplyClaim.fund_id),
    )
    funds = [
        FundSummary(
            fund_id,
            name,
            status,
            total_pence,
            covers_from,
            covers_to,
            FundFigures(
                name,
                schools=schools,
                allocated=int(allocated),
                claims=claims.get(fund_id, (0, 0))[0],
                claimed=claims.get(fund_id, (0, 0))[1],
                approved=int(approved),
                paid=int(paid),
            ),
        )
        for (
            fund_id,
            name,
            status,
            total_pence,
            covers_from,
            covers_to,
            schools,
            allocated,
            approved,
            paid,
        ) in allocations
    ]
    # The newest first: the fund the Forum is asking about is most often the latest.
    return sorted(funds, key=lambda fund: (-fund.covers_from.toordinal(), fund.name, fund.id))


def _claims(query: Any) -> dict[Any, tuple[int, int]]:
    """How many claims and their amounts, by the query's one grouping column."""
    rows = db.session.execute(
        query.add_columns(
            func.count(SupplyClaim.id), func.coalesce(func.sum(SupplyClaim.cost_pence), 0)
        )
    )
    return {key: (int(count), int(amount)) for key, count, amount in rows}


def _by_area(fund_id: int) -> list[FundFigures]:
    """The fund's figures by the area of each school: every area with an allocation or a
    claim, by name."""
    allocations = {
        area_id: (int(schools), int(allocated), int(approved), int(paid))
        for area_id, schools, allocated, approved, paid in db.session.execute(
            select(
                School.area_id,
                func.count(FundAllocation.id),
                func.sum(FundAllocation.amount_pence),
                func.sum(FundAllocation.approved_pence),
                func.sum(FundAllocation.paid_pence),
            )
            .join(School, School.id == FundAllocation.school_id)
            .where(FundAllocation.fund_id == fund_id)
            .group_by(School.area_id)
        )
    }
    claims = _claims(
        select(School.area_id)
        .select_from(SupplyClaim)
        .join(School, School.id == SupplyClaim.school_id)
        .where(SupplyClaim.fund_id == fund_id)
        .group_by(School.area_id)
    )
    names: dict[int, str] = {
        area_id: name for area_id, name in db.session.execute(select(Area.id, Area.name))
    }
    rows = []
    for area_id in allocations.keys() | claims.keys():
        schools, allocated, approved, paid = allocations.get(area_id, (0, 0, 0, 0))
        count, claimed = claims.get(area_id, (0, 0))
        rows.append(FundFigures(names[area_id], schools, allocated, count, claimed, approved, paid))
    # Sorted here, not in SQL: PostgreSQL's collation and SQLite's order names differently.
    return sorted(rows, key=lambda row: (row.label.casefold(), row.label))


def fund_charts(report: FundReport) -> dict[str, BarChart]:
    """Approved and remaining, to the whole pound (the tables are exact): by fund, and by
    area of the fund chosen."""
    charts = {
        "funds": bar_chart(
            "Approved and remaining by fund (£)",
            _approved_and_remaining(fund.figures for fund in report.funds),
        )
    }
    if report.chosen is not None:
        charts["areas"] = bar_chart(
            f"{report.chosen.name}: approved and remaining by area (£)",
            _approved_and_remaining(report.areas),
        )
    return charts


def _approved_and_remaining(rows: Iterable[FundFigures]) -> list[tuple[str, int]]:
    bars = []
    for row in rows:
        bars.append((f"Approved: {row.label}", _whole_pounds(row.approved)))
        bars.append((f"Remaining: {row.label}", _whole_pounds(max(row.remaining, 0))))
    return bars


def _whole_pounds(pence: int) -> int:
    return (pence + 50) // 100
