"""Pupils on roll: a school's figure for a financial year, as prices are worked out from it.

Each school has its current figure (``School.pupils_on_roll``) and, per financial year, the
figure recorded for it (``SchoolRoll``); a year with none recorded uses the current one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ScalarSelect, select

from portal.db import db, request_memo
from portal.models import School, SchoolRoll


def pupils_for(school: School, year: int) -> int:
    """Pupils on roll as recorded for the year; the school's current figure if none was."""
    return rolls_for(school, (year,))[year]


def rolls_for(school: School, years: Sequence[int]) -> dict[int, int]:
    """Pupils on roll for each year, in one query, remembered for the rest of the request.

    A price, its last-year comparison and a buy-back page's every line all ask; rolls do not
    change while a page is drawn.
    """
    known = request_memo("pupils_on_roll")
    wanted = [year for year in years if (school.id, year) not in known]
    if wanted:
        rows = db.session.execute(
            select(SchoolRoll.year, SchoolRoll.pupils_on_roll).where(
                SchoolRoll.school_id == school.id, SchoolRoll.year.in_(wanted)
            )
        )
        _remember(known, school, dict.fromkeys(wanted) | {year: pupils for year, pupils in rows})
    return {year: known[(school.id, year)] for year in years}


def roll_column(school_id: Any, year: Any) -> ScalarSelect[int]:
    """The pupils on roll recorded for a school and year, as a column of another query: a
    page that reads its rows anyway reads the roll with them, rather than on its own.
    Give what it read to :func:`remember_rolls`."""
    return (
        select(SchoolRoll.pupils_on_roll)
        .where(SchoolRoll.school_id == school_id, SchoolRoll.year == year)
        .scalar_subquery()
    )


def remember_rolls(school: School, recorded: Mapping[int, int | None]) -> None:
    """Pupils on roll read for each year (None: none recorded, so the school's current
    figure), for :func:`rolls_for` to answer from for the rest of the request."""
    _remember(request_memo("pupils_on_roll"), school, recorded)


def _remember(known: dict[Any, int], school: School, recorded: Mapping[int, int | None]) -> None:
    for year, pupils in recorded.items():
        known[(school.id, year)] = school.pupils_on_roll if pupils is None else int(pupils)
