"""Horizontal bar charts: where each bar and its words go, worked out here as plain values,
and drawn as inline SVG by the ``bar_chart`` macro (templates/macros/charts.html).

The SVG has presentation attributes and classes only, because the Content-Security-Policy
forbids inline styles; the table beside each chart is the accessible source of the same
figures. Bars are proportional to the largest count; when every count is 0 every bar is
empty rather than the scale dividing by zero.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Bar:
    """One row of a chart: its label (whole, and as drawn, cut short to fit), its count as
    written, and the coordinates the SVG draws them at (as written into it)."""

    label: str
    shown: str
    value: str
    label_x: str
    middle: str
    bar_x: str
    top: str
    width: str
    value_x: str


@dataclass(frozen=True)
class BarChart:
    """A chart's title, the id its SVG is named by, its size, and its bars (none: the chart
    says "No figures", at ``empty_y``)."""

    id: str
    title: str
    width: int
    height: int
    bars: tuple[Bar, ...]
    empty_y: str
    font_size: int = FONT_SIZE
    text_colour: str = TEXT_COLOUR
    bar_colour: str = BAR_COLOUR
    bar_height: int = BAR_HEIGHT


def bar_chart(title: str, rows: Sequence[tuple[str, int]], *, width: int = 640) -> BarChart:
    """A horizontal bar chart of ``rows`` (label, count). The id of its SVG's <title> comes
    from ``title``, so charts on one page need different titles."""
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

    bars = []
    for index, ((label, count), value) in enumerate(zip(rows, values, strict=True)):
        top = PADDING + index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
        bar_width = count * scale
        bars.append(
            Bar(
                label=label,
                # A shortened label keeps the whole one as a tooltip (the macro's).
                shown=label if len(label) <= label_chars else label[: label_chars - 1] + "…",
                value=value,
                label_x=_number(label_width),
                middle=_number(top + BAR_HEIGHT / 2),
                bar_x=_number(bar_left),
                top=_number(top),
                width=_number(bar_width),
                value_x=_number(bar_left + bar_width + GAP / 2),
            )
        )
    return BarChart(
        id=chart_id,
        title=title,
        width=width,
        height=height,
        bars=tuple(bars),
        empty_y=_number(PADDING + ROW_HEIGHT / 2),
    )


def _number(value: float) -> str:
    """A coordinate with at most two decimals: enough for a screen, short in the markup."""
    return f"{value:.2f}".rstrip("0").rstrip(".")
