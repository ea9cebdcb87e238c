"""The training reports' tables as CSV downloads: the same rows and figures as the page's
tables, totals last, safe to open in a spreadsheet (names are text cells; numbers the portal
writes stay numbers, money in pounds)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from portal.pricing import pounds
from portal.spreadsheets import text_cell, to_csv
from portal.training.fund_report import FundFigures, FundReport
from portal.training.take_up import TakeUp, TakeUpRow

TAKE_UP_TABLES = ("courses", "areas")

TAKE_UP_COLUMNS = (
    "Sessions",
    "Places",
    "Booked",
    "Attended",
    "No-shows",
    "Cancelled late",
    "Cancelled in time",
    "Open schools",
    "Schools with someone trained",
    "Share of schools trained %",
    "People trained per school",
)


def take_up_csv(report: TakeUp, table: str) -> str:
    """The courses' table or the areas' (``table``, one of TAKE_UP_TABLES)."""
    rows = report.courses if table == "courses" else report.areas
    first = "Course" if table == "courses" else "Area"
    return to_csv((first, *TAKE_UP_COLUMNS), (_take_up_row(row) for row in [*rows, report.total]))


def take_up_filename(report: TakeUp, table: str) -> str:
    return f"training-take-up-by-{table[:-1]}-{report.chosen.period.slug}.csv"


def _take_up_row(row: TakeUpRow) -> list[Any]:
    return [
        text_cell(row.label),
        row.sessions,
        row.places,
        *(
            _blank(value)
            for value in (
                row.booked,
                row.attended,
                row.no_shows,
                row.cancelled_late,
                row.cancelled_in_time,
                row.schools,
                row.schools_trained,
                row.share_trained,
                row.trained_per_school,
            )
        ),
    ]


FUND_COLUMNS = (
    "Schools allocated",
    "Allocated £",
    "Claims",
    "Claimed £",
    "Approved £",
    "Paid £",
    "Remaining £",
)


def fund_csv(report: FundReport) -> str:
    """One fund's figures by area when one is chosen, else every fund's; the total last."""
    if report.chosen is not None and report.area_total is not None:
        return to_csv(("Area", *FUND_COLUMNS), _fund_rows([*report.areas, report.area_total]))
    return to_csv(
        ("Fund", *FUND_COLUMNS),
        _fund_rows([*(fund.figures for fund in report.funds), report.total]),
    )


def fund_filename(report: FundReport) -> str:
    if report.chosen is None:
        return "supply-cover-funds.csv"
    return f"supply-cover-fund-{report.chosen.id}-by-area.csv"


def _fund_rows(rows: Iterable[FundFigures]) -> Iterable[list[Any]]:
    for row in rows:
        yield [
            text_cell(row.label),
            row.schools,
            pounds(row.allocated),
            row.claims,
            pounds(row.claimed),
            pounds(row.approved),
            pounds(row.paid),
            pounds(row.remaining),
        ]


def _blank(value: Any) -> Any:
    """A figure, or an empty cell where the row has none (not a zero that was counted)."""
    return "" if value is None else value
