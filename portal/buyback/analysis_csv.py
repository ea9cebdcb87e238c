"""The buy-back analysis as a CSV download: one row per service with every figure."""

from __future__ import annotations

from typing import Any

from portal.buyback.analysis import WindowAnalysis
from portal.pricing import pounds
from portal.spreadsheets import text_cell, to_csv

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
