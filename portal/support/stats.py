"""Figures on CAF support requests, and bar charts of them: for council administrators every
area's, for CAF officers their own areas'; over all time or a period of dates submitted.

Every request counts, anonymised ones too: anonymising removes the child's details, not the
fact that a school asked for help. The charts are drawn by templates/macros/charts.html
(portal/charts.py); the table beside each chart is the accessible source of the same figures.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select

from portal.access import Principal, support_statistics_area_ids
from portal.charts import BarChart, bar_chart
from portal.db import db, utcnow
from portal.models import Area, School, SupportRequest, SupportStatus
from portal.spreadsheets import text_cell, to_csv
from portal.templating import LONDON

MONTHS_SHOWN = 12
# The longest period the figures are asked for: its months are the rows of a table.
LONGEST_PERIOD_MONTHS = 60


@dataclass(frozen=True)
class Period:
    """Dates of submission in London, both ends included; None leaves that end open."""

    start: date | None = None
    end: date | None = None

    @property
    def whole(self) -> bool:
        return self.start is None and self.end is None

    def months(self, today: date) -> list[tuple[int, int]]:
        """(year, month) of the month chart, oldest first: the last MONTHS_SHOWN months (to
        the period's end) unless the period starts on a given date."""
        end = self.end or today
        if self.start is None:
            return _last_months(end, MONTHS_SHOWN)
        first = self.start.year * 12 + self.start.month - 1
        last = end.year * 12 + end.month - 1
        return [(i // 12, i % 12 + 1) for i in range(first, last + 1)]

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions = []
        if self.start is not None:
            conditions.append(SupportRequest.submitted_at >= _start_of(self.start))
        if self.end is not None:
            conditions.append(SupportRequest.submitted_at < _start_of(self.end + timedelta(days=1)))
        return conditions


def _start_of(day: date) -> datetime:
    """The first moment of a London day, in UTC."""
    return datetime.combine(day, time.min, tzinfo=LONDON).astimezone(UTC)


@dataclass(frozen=True)
class SupportStatistics:
    total: int
    by_area: list[tuple[str, int]]
    by_status: list[tuple[str, int]]
    by_phase: list[tuple[str, int]]
    by_month: list[tuple[str, int]]
    median_first_response_hours: float | None
    responded: int
    period: Period = Period()
    # False when the figures are of some areas only (a CAF officer's).
    whole_council: bool = True

    @property
    def median_first_response(self) -> str | None:
        """The median in words, '5.5 hours' or '1 hour'; None when no request has a response."""
        hours = self.median_first_response_hours
        if hours is None:
            return None
        text = f"{round(hours, 1):,.1f}".removesuffix(".0")
        return f"{text} hour" if text == "1" else f"{text} hours"

    @property
    def month_caption(self) -> str:
        if self.period.whole:
            return f"Support requests submitted in each of the last {MONTHS_SHOWN} months"
        if not self.by_month:
            return "Support requests submitted in each month"
        first, last = self.by_month[0][0], self.by_month[-1][0]
        if first == last:
            return f"Support requests submitted in {first}"
        return f"Support requests submitted in each month from {first} to {last}"


def statistics_for(who: Principal, period: Period) -> SupportStatistics:
    """The figures ``who`` may see: their areas' (every area's for administrators)."""
    return support_statistics(area_ids=support_statistics_area_ids(who), period=period)


def support_statistics(
    now: datetime | None = None,
    *,
    area_ids: frozenset[int] | None = None,
    period: Period = Period(),
) -> SupportStatistics:
    """The figures of the requests from ``area_ids`` (None: every area) submitted in
    ``period``, in four queries however many requests there are."""
    now = utcnow() if now is None else now
    if now.tzinfo is None:
        raise ValueError("naive datetime: give a timezone-aware time")
    session = db.session
    counted = period.conditions()
    if area_ids is not None:
        counted.append(SupportRequest.area_id.in_(area_ids))

    status_counts: dict[SupportStatus, int] = dict(
        session.execute(
            select(SupportRequest.status, func.count())
            .where(*counted)
            .group_by(SupportRequest.status)
        ).all()
    )
    by_status = [(status.label, status_counts.get(status, 0)) for status in SupportStatus]

    # An outer join from Area, so that an area with no requests shows as a zero.
    areas = select(Area.name, func.count(SupportRequest.id)).outerjoin(
        SupportRequest, and_(SupportRequest.area_id == Area.id, *period.conditions())
    )
    if area_ids is not None:
        areas = areas.where(Area.id.in_(area_ids))
    area_counts = session.execute(areas.group_by(Area.id, Area.name)).all()
    # Sorted here, not in SQL: PostgreSQL's collation and SQLite's would order names differently.
    by_area = sorted(
        ((name, count) for name, count in area_counts), key=lambda row: (row[0].casefold(), row[0])
    )

    phase_counts = session.execute(
        select(School.phase, func.count())
        .select_from(SupportRequest)
        .join(School, SupportRequest.school_id == School.id)
        .where(*counted)
        .group_by(School.phase)
    ).all()
    by_phase = sorted(
        ((phase.value, count) for phase, count in phase_counts),
        key=lambda row: (-row[1], row[0]),
    )

    months = period.months(now.astimezone(LONDON).date())
    window_start = _start_of(date(*months[0], 1)) if months else now
    # Months need London time and the median needs every response time: neither is portable
    # SQL (SQLite has no time zones and no median), so fetch just the two timestamps, and
    # only of the rows that count towards one or the other.
    times = session.execute(
        select(SupportRequest.submitted_at, SupportRequest.first_response_at).where(
            *counted,
            or_(
                SupportRequest.submitted_at >= window_start,
                SupportRequest.first_response_at.is_not(None),
            ),
        )
    )
    month_counts = dict.fromkeys(months, 0)
    response_hours: list[float] = []
    for submitted_at, first_response_at in times:
        local = submitted_at.astimezone(LONDON)
        month = (local.year, local.month)
        if month in month_counts:
            month_counts[month] += 1
        if first_response_at is not None:
            response_hours.append((first_response_at - submitted_at).total_seconds() / 3600)

    return SupportStatistics(
        total=sum(status_counts.values()),
        by_area=by_area,
        by_status=by_status,
        by_phase=by_phase,
        by_month=[(_month_label(*month), count) for month, count in month_counts.items()],
        median_first_response_hours=(statistics.median(response_hours) if response_hours else None),
        responded=len(response_hours),
        period=period,
        whole_council=area_ids is None,
    )


CSV_HEADER = ("Figure", "Of", "Requests")


def statistics_csv(stats: SupportStatistics) -> str:
    """The page's figures, as a spreadsheet reads them: one row per figure."""
    rows: list[tuple[str, str, int | float | str]] = [
        ("Period", _period_words(stats.period), ""),
        ("Requests received", "All", stats.total),
        ("Requests answered", "All", stats.responded),
        (
            "Median time to first response (hours)",
            "Requests answered",
            round(stats.median_first_response_hours, 1)
            if stats.median_first_response_hours is not None
            else "",
        ),
    ]
    for heading, figures in (
        ("Area", stats.by_area),
        ("Status", stats.by_status),
        ("School phase", stats.by_phase),
        ("Month submitted", stats.by_month),
    ):
        rows.extend((heading, text_cell(label), count) for label, count in figures)
    return to_csv(CSV_HEADER, rows)


def statistics_filename(period: Period) -> str:
    parts = ["support-statistics"]
    if period.start is not None:
        parts += ["from", period.start.isoformat()]
    if period.end is not None:
        parts += ["to", period.end.isoformat()]
    return "-".join(parts if len(parts) > 1 else [*parts, "all"]) + ".csv"


def _period_words(period: Period) -> str:
    if period.start and period.end:
        return f"{period.start.isoformat()} to {period.end.isoformat()}"
    if period.start:
        return f"From {period.start.isoformat()}"
    if period.end:
        return f"Up to {period.end.isoformat()}"
    return "All requests"


def _last_months(today: date, count: int) -> list[tuple[int, int]]:
    """(year, month) of the ``count`` months ending with ``today``'s, oldest first."""
    index = today.year * 12 + today.month - 1
    return [(i // 12, i % 12 + 1) for i in range(index - count + 1, index + 1)]


def _month_label(year: int, month: int) -> str:
    return date(year, month, 1).strftime("%b %Y")


# --- charts ---------------------------------------------------------------------------------


def charts_for(stats: SupportStatistics) -> dict[str, BarChart]:
    """The page's four charts, by the name the template looks them up with."""
    return {
        "area": bar_chart("Support requests by area", stats.by_area),
        "status": bar_chart("Support requests by status", stats.by_status),
        "phase": bar_chart("Support requests by school phase", stats.by_phase),
        "month": bar_chart("Support requests by month submitted", stats.by_month),
    }
