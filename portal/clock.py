"""The one clock: what time it is, and the council's time zone.

Times are stored in UTC and shown in Europe/London. Code that decides by the time (is a
buy-back window open, is a deadline near) asks ``clock.now()`` when it runs, so that a test
can stand on either side of a deadline by replacing ``portal.clock.now``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def now() -> datetime:
    """The time now, in UTC."""
    return datetime.now(UTC)


def from_london(day: date, time_of_day: str) -> datetime:
    """A day and an "HH:MM" time as a form gives them, in London, as the UTC moment."""
    hours, _, minutes = time_of_day.partition(":")
    local = datetime.combine(day, time(int(hours), int(minutes)), tzinfo=LONDON)
    return local.astimezone(UTC)


def london_time(value: datetime | None, fmt: str = "%-d %B %Y at %-I:%M%p") -> str:
    """A stored UTC time as people here read it: '3 March 2027 at 9:05am'."""
    if value is None:
        return ""
    text = value.astimezone(LONDON).strftime(fmt)
    return text.replace("AM", "am").replace("PM", "pm")


def long_date(value: date | None) -> str:
    return "" if value is None else value.strftime("%-d %B %Y")
