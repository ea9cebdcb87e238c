"""The whole year's buy-back analysis: every window of a financial year (the maintained
schools' and the academies'), each service's figures added up across them, against the
service's one cost (the definitions are in portal.buyback.analysis)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal.buyback.analysis import Totals, totals_of
from portal.buyback.closed_figures import window_figures
from portal.buyback.figures import GroupTakeUp, Reading, WindowFigures
from portal.clock import financial_year_label
from portal.db import db
from portal.models import BuybackWindow


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
    reading = Reading.of([year])
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
        totals=totals_of([(s.service, s.all.income_pence, s.cost_pence) for s in services]),
    )
