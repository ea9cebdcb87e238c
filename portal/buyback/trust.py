"""A trust's academies (or any list of schools): where each one's choice stands, and the CSV."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Select,
)

from portal.buyback.choices import choices_for
from portal.buyback.school_windows import (
    WINDOWS_MEMO,
    ChoiceTerms,
    SubmissionTerms,
    WindowTerms,
    current_read,
    current_window,
    read_windows,
    windows_statement,
)
from portal.clock import london_time
from portal.db import request_memo
from portal.models import (
    BuybackChoice,
    BuybackSubmission,
    BuybackWindow,
    School,
)
from portal.pricing import pounds
from portal.spreadsheets import text_cell, to_csv


@dataclass
class AcademyRow:
    """One of a trust's academies (or any list of schools): its window, its choice and
    what it last submitted."""

    school: School
    # Objects; for one school's home page, plain values (_the_schools_row).
    window: BuybackWindow | WindowTerms | None
    choice: BuybackChoice | ChoiceTerms | None
    latest: BuybackSubmission | SubmissionTerms | None

    @property
    def submitted_pence(self) -> int | None:
        latest = self.latest
        return None if latest is None else latest.net_pence + latest.vat_pence

    @property
    def status(self) -> str:
        if self.latest is not None:
            if self.choice is not None and self.choice.unsent_since is not None:
                return "Submitted; changes not yet sent"
            return "Submitted"
        if self.choice is not None:
            return "Draft"
        return "Not started" if self.window is not None else "No window"


def academy_rows(schools: Sequence[School], *, details: bool = False) -> list[AcademyRow]:
    """Each school with its current window and where its choice stands (a trust's every
    academy in a few queries, however many it has); ``details`` as for choices_for."""
    if len(schools) == 1 and not details and "all" not in request_memo(WINDOWS_MEMO):
        return [_the_schools_row(schools[0])]
    windows = {school.id: current_window(school) for school in schools}
    choices = choices_for(windows, details=details)
    return [
        AcademyRow(school, windows[school.id], *choices.get(school.id, (None, None)))
        for school in schools
    ]


def windows_read_for(school: School) -> list[tuple[Select[Any], dict[str, Any]]]:
    """What academy_rows reads for ``school`` alone (its people's home page), as db.read_ahead
    takes it: none if its windows are read for many schools already."""
    if "all" in request_memo(WINDOWS_MEMO):
        return []
    return [(windows_statement(False, False), {"school_id": school.id})]


def _the_schools_row(school: School) -> AcademyRow:
    """One school's row (its people's home page), in one query rather than two: every
    window, each with the school's choice in it, if any, and that choice's latest
    submission, as plain values (WindowTerms, ChoiceTerms, SubmissionTerms)."""
    current = current_read(read_windows(school))
    if current is None:
        return AcademyRow(school, None, None, None)
    return AcademyRow(school, current.window, current.choice, current.latest)


CHOICES_CSV_COLUMNS = (
    "School",
    "URN",
    "Financial year",
    "Deadline",
    "Status",
    "Submitted on",
    "Submitted by",
    "Purchase order",
    "Service",
    "Buying",
    "Option",
    "Quantity",
    "Net (£)",
    "VAT (£)",
)


def choices_csv(rows: Sequence[AcademyRow]) -> str:
    """What each school last submitted, a line per service; a school with nothing submitted
    has one line, saying where it stands."""
    lines = []
    for row in rows:
        latest = row.latest
        school = [
            text_cell(row.school.name),
            row.school.urn,
            row.window.year_label if row.window else "",
            london_time(row.window.closes_at) if row.window else "",
            row.status,
            london_time(latest.submitted_at) if latest else "",
            text_cell(latest.submitted_by.display_name) if latest else "",
            text_cell(latest.purchase_order or "") if latest else "",
        ]
        if latest is None:
            lines.append([*school, "", "", "", "", "", ""])
            continue
        for line in latest.lines:
            buying = bool(line["buying"])
            lines.append(
                [
                    *school,
                    text_cell(line["service"]),
                    "Yes" if buying else "No",
                    text_cell(line.get("option") or "") if buying else "",
                    line.get("quantity", 1) if buying and line.get("unit") else "",
                    pounds(line["net_pence"]) if buying else "",
                    pounds(line["vat_pence"]) if buying else "",
                ]
            )
    return to_csv(CHOICES_CSV_COLUMNS, lines)
