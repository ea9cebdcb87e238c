"""Figures on CAF support requests for council administrators, and bar charts of them.

Every request counts, anonymised ones too: anonymising removes the child's details, not the
fact that a school asked for help. The charts are inline SVG built from escaped text with
presentation attributes only, because the Content-Security-Policy forbids inline styles;
the table beside each chart is the accessible source of the same figures.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime

from markupsafe import Markup, escape
from sqlalchemy import func, or_, select

from portal.db import db, utcnow
from portal.models import Area, School, SupportRequest, SupportStatus
from portal.templating import LONDON

MONTHS_SHOWN = 12


@dataclass(frozen=True)
class SupportStatistics:
    total: int
    by_area: list[tuple[str, int]]
    by_status: list[tuple[str, int]]
    by_phase: list[tuple[str, int]]
    by_month: list[tuple[str, int]]
    median_first_response_hours: float | None
    responded: int

    @property
    def median_first_response(self) -> str | None:
        """The median in words, '5.5 hours' or '1 hour'; None when no request has a response."""
        hours = self.median_first_response_hours
        if hours is None:
            return None
        text = f"{round(hours, 1):,.1f}".removesuffix(".0")
        return f"{text} hour" if text == "1" else f"{text} hours"


def support_statistics(now: datetime | None = None) -> SupportStatistics:
    """All the figures, in four queries however many requests there are."""
    now = utcnow() if now is None else now
    if now.tzinfo is None:
        raise ValueError("naive datetime: give a timezone-aware time")
    session = db.session

    status_counts: dict[SupportStatus, int] = dict(
        session.execute(
            select(SupportRequest.status, func.count()).group_by(SupportRequest.status)
        ).all()
    )
    by_status = [(status.label, status_counts.get(status, 0)) for status in SupportStatus]

    # An outer join from Area, so that an area with no requests shows as a zero.
    area_counts = session.execute(
        select(Area.name, func.count(SupportRequest.id))
        .outerjoin(SupportRequest, SupportRequest.area_id == Area.id)
        .group_by(Area.id, Area.name)
    ).all()
    # Sorted here, not in SQL: PostgreSQL's collation and SQLite's would order names differently.
    by_area = sorted(
        ((name, count) for name, count in area_counts), key=lambda row: (row[0].casefold(), row[0])
    )

    phase_counts = session.execute(
        select(School.phase, func.count())
        .select_from(SupportRequest)
        .join(School, SupportRequest.school_id == School.id)
        .group_by(School.phase)
    ).all()
    by_phase = sorted(
        ((phase.value, count) for phase, count in phase_counts),
        key=lambda row: (-row[1], row[0]),
    )

    months = _last_months(now.astimezone(LONDON).date(), MONTHS_SHOWN)
    window_start = datetime(*months[0], 1, tzinfo=LONDON).astimezone(UTC)
    # Months need London time and the median needs every response time: neither is portable
    # SQL (SQLite has no time zones and no median), so fetch just the two timestamps, and
    # only of the rows that count towards one or the other.
    times = session.execute(
        select(SupportRequest.submitted_at, SupportRequest.first_response_at).where(
            or_(
                SupportRequest.submitted_at >= window_start,
                SupportRequest.first_response_at.is_not(None),
            )
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
    )


def _last_months(today: date, count: int) -> list[tuple[int, int]]:
    """(year, month) of the ``count`` months ending with ``today``'s, oldest first."""
    index = today.year * 12 + today.month - 1
    return [(i // 12, i % 12 + 1) for i in range(index - count + 1, index + 1)]


def _month_label(year: int, month: int) -> str:
    return date(year, month, 1).strftime("%b %Y")


# --- charts ---------------------------------------------------------------------------------

BAR_COLOUR = "#0b5563"  # the council's teal, as in the header
TEXT_COLOUR = "#0b0c0c"  # GOV.UK's text colour
FONT_SIZE = 16
# Rough widths of Arial at 16px, to leave room for text that SVG cannot measure or wrap.
CHAR_WIDTH = 8.5
DIGIT_WIDTH = 9.0
ROW_HEIGHT = 32
BAR_HEIGHT = 22
GAP = 8
PADDING = 4


def bar_chart_svg(title: str, rows: list[tuple[str, int]], *, width: int = 640) -> Markup:
    """A horizontal bar chart of ``rows`` (label, count), as inline SVG.

    Bars are proportional to the largest count; when every count is 0 every bar is empty
    rather than the scale dividing by zero. The id of the chart's <title> comes from
    ``title``, so charts on one page need different titles.
    """
    if any(count < 0 for _, count in rows):
        raise ValueError("a count cannot be negative")
    chart_id = "chart-" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "untitled")
    values = [f"{count:,}" for _, count in rows]

    longest_label = max((len(label) for label, _ in rows), default=0)
    label_width = min(longest_label * CHAR_WIDTH + GAP, width * 0.4)
    value_width = max((len(value) for value in values), default=1) * DIGIT_WIDTH + GAP
    bar_left = label_width + GAP
    bar_space = max(width - bar_left - value_width - PADDING, 1.0)
    largest = max((count for _, count in rows), default=0)
    scale = bar_space / largest if largest else 0.0
    label_chars = max(int((label_width - GAP) // CHAR_WIDTH), 1)
    height = max(len(rows), 1) * ROW_HEIGHT + 2 * PADDING

    parts = [
        Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" class="council-chart" role="img"'
            ' aria-labelledby="{id}" viewBox="0 0 {width} {height}" width="100%"'
            ' font-family="arial, sans-serif" font-size="{font}" fill="{text}">'
            '<title id="{id}">{title}</title>'
        ).format(
            id=chart_id,
            width=width,
            height=height,
            font=FONT_SIZE,
            text=TEXT_COLOUR,
            title=escape(title),
        )
    ]
    if not rows:
        parts.append(
            Markup('<text x="0" y="{y}" dominant-baseline="central">No figures</text>').format(
                y=_number(PADDING + ROW_HEIGHT / 2)
            )
        )
    for index, ((label, count), value) in enumerate(zip(rows, values, strict=True)):
        top = PADDING + index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
        middle = top + BAR_HEIGHT / 2
        bar_width = count * scale
        shown = label if len(label) <= label_chars else label[: label_chars - 1] + "…"
        parts.append(
            Markup(
                '<text x="{label_x}" y="{middle}" text-anchor="end"'
                ' dominant-baseline="central">{tooltip}{shown}</text>'
                '<rect class="council-chart__bar" x="{bar_x}" y="{top}" width="{bar_width}"'
                ' height="{bar_height}" fill="{colour}"/>'
                '<text x="{value_x}" y="{middle}" dominant-baseline="central">{value}</text>'
            ).format(
                label_x=_number(label_width),
                middle=_number(middle),
                # A shortened label keeps the whole one as a tooltip.
                tooltip=Markup("<title>{}</title>").format(escape(label)) if shown != label else "",
                shown=escape(shown),
                bar_x=_number(bar_left),
                top=_number(top),
                bar_width=_number(bar_width),
                bar_height=BAR_HEIGHT,
                colour=BAR_COLOUR,
                value_x=_number(bar_left + bar_width + GAP / 2),
                value=escape(value),
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def charts_for(stats: SupportStatistics) -> dict[str, Markup]:
    """The page's four charts, by the name the template looks them up with."""
    return {
        "area": bar_chart_svg("Support requests by area", stats.by_area),
        "status": bar_chart_svg("Support requests by status", stats.by_status),
        "phase": bar_chart_svg("Support requests by school phase", stats.by_phase),
        "month": bar_chart_svg("Support requests by month submitted", stats.by_month),
    }


def _number(value: float) -> str:
    """A coordinate with at most two decimals: enough for a screen, short in the markup."""
    return f"{value:.2f}".rstrip("0").rstrip(".")
