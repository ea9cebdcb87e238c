"""The buy-back analysis page: what its template needs, its charts and its lists of schools
a page at a time."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import url_for

from portal.buyback.analysis import ServiceTakeUp, WindowAnalysis
from portal.charts import BarChart, bar_chart
from portal.numbers import whole_number
from portal.pagination import Page, page_of, pagination_params
from portal.pricing import format_pence


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
