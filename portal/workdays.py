"""Working days in England: weekdays that are not bank holidays."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


# A year's bank holidays come from the installed holidays package, which cannot change while
# the process runs: each year is read once, never stale.
@lru_cache(maxsize=16)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The working day ``days`` working days after ``start`` (0: start, or the next working
    day if start is not one)."""
    day = start
    while not is_working_day(day):
        day += timedelta(days=1)
    added = 0
    while added < days:
        day += timedelta(days=1)
        if is_working_day(day):
            added += 1
    return day
