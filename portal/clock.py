"""The one clock: what time it is, and the council's time zone.

Times are stored in UTC and shown in Europe/London. Code that decides by the time (is a
buy-back window open, is a deadline near) asks ``clock.now()`` when it runs, so that a test
can stand on either side of a deadline by replacing ``portal.clock.now``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    """The time now, in UTC: what is stored, and what most code compares with."""
    return datetime.now(UTC)


def now() -> datetime:
    """The time that decides a buy-back window's state (open, closed): the tests replace
    ``portal.clock.now`` to stand on either side of a deadline."""
    return utcnow()


def today_in_london(moment: datetime | None = None) -> date:
    """The date in London now (or at ``moment``): the council's working day."""
    return (moment or utcnow()).astimezone(LONDON).date()


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (clamped to the month's end)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def financial_year(day: date) -> int:
    """The financial year ``day`` falls in, by the calendar year it starts (1 April)."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_label(year: int) -> str:
    """A financial year as councils write it: 2027 is "2027-28"."""
    return f"{year}-{(year + 1) % 100:02d}"


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
