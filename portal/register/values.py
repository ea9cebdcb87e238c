"""The values in a row of the register, read and checked one by one.

Each reader returns the value as the portal stores it, or raises :class:`RowRejected` with
a reason a person can act on.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TypeVar

from portal.models import EstablishmentType, Phase
from portal.numbers import MAX_PUPILS, whole_number

URN = "URN"
LA_CODE = "LA (code)"
LA_NAME = "LA (name)"
NAME = "EstablishmentName"
TYPE = "TypeOfEstablishment (name)"
PHASE = "PhaseOfEducation (name)"
STATUS = "EstablishmentStatus (name)"
PUPILS = "NumberOfPupils"
POSTCODE = "Postcode"
CLOSE_DATE = "CloseDate"
TRUST_CODE = "Trusts (code)"
TRUST_NAME = "Trusts (name)"
DISTRICT = "DistrictAdministrative (name)"

REQUIRED_COLUMNS = (URN, LA_CODE, NAME, TYPE, PHASE, STATUS)
# Without one of these the import still runs, and leaves that field as the portal has it.
OPTIONAL_COLUMNS = (PUPILS, POSTCODE, CLOSE_DATE, TRUST_CODE, TRUST_NAME, DISTRICT)

OPEN_STATUSES = {"open", "open, but proposed to close"}
CLOSED_STATUSES = {"closed"}
NOT_YET_OPEN = {"proposed to open"}

# GIAS writes dates as 31-08-2025; a copy saved by Excel may have either of the others.
DATE_FORMATS = ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d")
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
# Words that change when a school becomes an academy, ignored when names are compared.
_GENERIC_WORDS = frozenset({"the", "a", "an", "school", "academy"})

E = TypeVar("E", EstablishmentType, Phase)


def district_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def name_key(name: str) -> str:
    """A school's name for comparing old and new: "Oakfield Primary School" matches
    "Oakfield Primary Academy"."""
    return " ".join(w for w in re.findall(r"\w+", name.casefold()) if w not in _GENERIC_WORDS)


class RowRejected(Exception):
    """A row that cannot be applied; the message says why, in a sentence for a person."""


def read_urn(value: str) -> int:
    if not (value.isascii() and value.isdigit() and len(value) == 6 and value[0] != "0"):
        raise RowRejected(f"URN “{value}” is not a six-digit number")
    return int(value)


def read_choice(kind: type[E], value: str | None) -> E | None:
    wanted = (value or "").casefold()
    return next((member for member in kind if member.value.casefold() == wanted), None)


def read_pupils(value: str | None) -> int | None:
    if not value:
        return None
    if not (value.isascii() and value.isdigit()):
        raise RowRejected(f"number of pupils “{value}” is not a whole number")
    pupils = whole_number(value)  # None: too many digits to be any school's
    if pupils is None or pupils > MAX_PUPILS:
        raise RowRejected(f"number of pupils “{value}” is more than {MAX_PUPILS:,}")
    return pupils


def normalise_postcode(value: str) -> str | None:
    """A UK postcode as the Royal Mail writes it ("CV34 4RL"), or None if it is not one."""
    compact = "".join(value.split()).upper()
    match = _POSTCODE.match(compact)
    return f"{match.group(1)} {match.group(2)}" if match else None


def read_postcode(value: str | None) -> str | None:
    if not value:
        return None
    postcode = normalise_postcode(value)
    if postcode is None:
        raise RowRejected(f"postcode “{value}” is not a UK postcode")
    return postcode


def read_date(value: str | None) -> date | None:
    if not value:
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise RowRejected(f"close date “{value}” is not a date like 31-08-2025")


def long_date(value: date | None) -> str:
    return value.strftime("on %-d %B %Y") if value else "(no date given)"
