"""How much of each thing a factor asks for, what is to be made, and how the counts read."""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass

from portal.models import EstablishmentType, Phase
from portal_seed.data_files import DATA
from portal_seed.services import LAST_YEAR, NEXT_YEAR

SEED = 2026
BATCH = 5_000
# The three financial years of offers, rolls and buy-back: the demo's two and the one before.
YEARS = (LAST_YEAR - 1, LAST_YEAR, NEXT_YEAR)
FIRST_URN, LAST_URN = 700_000, 999_999
# Money columns are 32-bit integers of pence: at most about £21 million.
MAX_PENCE = 2**31 - 1
REGISTER = DATA / "schools_register_2025.csv"


@dataclass(frozen=True)
class Plan:
    """How many of each thing a factor asks for."""

    schools: int
    users: int
    contacts: int
    services: int
    support_requests: int
    # Training: courses, their sessions over two financial years, bookings on them, and
    # claims for supply cover from a fund.
    courses: int
    course_sessions: int
    bookings: int
    supply_claims: int


PER_FACTOR = Plan(
    schools=600,
    users=6_000,
    contacts=150,
    services=25,
    support_requests=5_000,
    courses=15,
    course_sessions=400,
    bookings=6_000,
    supply_claims=300,
)
# Below 0.1 an area would have a dozen schools, too few for every type and phase to appear;
# far above 100 the invented URNs and trust codes (TR90001 to TR99999) would run short.
MIN_FACTOR, MAX_FACTOR = 0.1, 100.0


def plan_for(factor: float) -> Plan:
    if not MIN_FACTOR <= factor <= MAX_FACTOR:
        raise ValueError(
            f"the factor must be from {MIN_FACTOR:g} to {MAX_FACTOR:g}, not {factor:g}"
        )
    # Half up, not Python's round-half-even: factor 0.1 of 25 services is 3, not 2.
    return Plan(*(max(1, math.floor(n * factor + 0.5)) for n in astuple(PER_FACTOR)))


class Refused(Exception):
    """The generator will not run here; the message says why, for the person running it."""


# What is to be made, planned before any row is written: the stages fill in the ids.


@dataclass
class NewSchool:
    """A school to be generated; ``trust`` is an index into the trusts planned with it."""

    urn: int
    name: str
    kind: EstablishmentType
    phase: Phase
    pupils: int
    postcode: str
    area_code: str
    trust: int | None = None  # an index into the trusts planned with it
    id: int = 0

    @property
    def is_academy(self) -> bool:
        return self.kind.is_academy


@dataclass
class NewTrust:
    """A trust to be generated, with how many of the planned schools it runs."""

    name: str
    group_uid: str
    companies_house_number: str
    size: int
    id: int = 0


def describe(counts: dict[str, int]) -> str:
    """The counts as the command prints them: '600 schools, 36 trusts, ...'."""
    return ", ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in counts.items())
