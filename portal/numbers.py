"""Whole numbers as people type them, and as pages send ids back: the digits 0 to 9 only.

``str.isdigit()`` alone also passes superscripts and other scripts' digits, some of which
``int()`` cannot read (a 500), and a number too long for the database's integer columns
fails there (another). These say "not a number" instead, for the caller to answer as it
answers any other text that is not one: an error beside the field, or not found.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

# PostgreSQL's ``integer``, which every id and count column is.
DATABASE_INT_MAX = 2**31 - 1
# The most units (or packs) of one service a school buys in a year, and so the highest a
# volume tier can start: more than any school orders of anything, well inside the columns.
MAX_QUANTITY = 9_999
# The most pupils on roll a school can have: the largest schools in England have a few
# thousand. Price bands by roll go up to it; a register row above it is refused.
MAX_PUPILS = 99_999


# More digits than any number the portal counts could need (a 64-bit integer has 19): a
# longer number is not taken as one, and never converted (Python refuses to convert one of
# thousands of digits, with an error rather than an answer). Leading zeros do not count.
MOST_DIGITS = 20


def whole_number(text: str | None) -> int | None:
    """``text`` (spaces around it aside) as a whole number, or None if it is not one written
    in the digits 0 to 9 (and at most MOST_DIGITS of them)."""
    if not text:
        return None
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > MOST_DIGITS:
        return None
    return int(text)


def record_id(text: str | None) -> int | None:
    """A number to look up in the database: a whole number that fits its integer columns."""
    value = whole_number(text)
    return value if value is not None and value <= DATABASE_INT_MAX else None


class RecordIdConverter(IntegerConverter):
    """``<int:...>`` in the portal's routes: the digits 0 to 9, no larger than the database's
    integer columns; any other number in a path is not found (404), not a server error."""

    regex = r"[0-9]+"

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", DATABASE_INT_MAX)
        super().__init__(url_map, *args, **kwargs)
