"""A large council's worth of invented data, on top of the demo: ``seed-scale --factor N``.

Factor 1 is a council as large as England's largest (around 600 schools): about 600 schools,
6,000 users, 150 contacts, 25 services and 5,000 support requests, with three financial years
of offers, school rolls and buy-back choices. Everything scales linearly with the factor;
factor 10 is what the benchmark loads (issue #8).

- The schools are fictional recombinations of the DfE register (``portal_seed/data/``): the
  first words of one real school's name joined to the ending, type and phase of another,
  under invented URNs from 700000 up. The register has not got past 160000, so they clash
  with no real school and with none of the demo's.
- Every person is invented and every address is on a reserved ``.example`` domain. Every
  account shares the demo password through ONE hash, computed once: hashing each of 60,000
  passwords at argon2's cost would take the best part of an hour.
- Deterministic: one seeded ``random.Random`` makes every choice, and times are counted from
  the start of the day it runs, so the same database on the same day gets the same data.
- It refuses to run twice rather than being idempotent: rows go in by the thousand with ids
  worked out in advance and are never matched against what is there, so a second run could
  only put a second council on top of the first. To change the factor, start from an empty
  database.
- Fast: bulk inserts (COPY on PostgreSQL, executemany batches elsewhere) in one
  transaction, so that a failure leaves nothing behind, then ANALYZE on PostgreSQL so that
  the planner knows the tables' new sizes. Factor 10 takes about 100 s.
"""

from __future__ import annotations

import csv
import math
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import astuple, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from functools import cache
from itertools import chain
from typing import Any

from flask import current_app
from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from portal.clock import LONDON, months_before, utcnow
from portal.config import PRODUCTION
from portal.db import Base, db
from portal.models import (
    Area,
    Audience,
    BuybackChoice,
    BuybackLine,
    BuybackSubmission,
    BuybackSubmissionAnswer,
    BuybackWindow,
    BuybackWindowFigures,
    ChoiceStatus,
    Cohort,
    Contact,
    ContactRole,
    EstablishmentType,
    LevelOfNeed,
    Membership,
    OfferStatus,
    Phase,
    PriceOption,
    PricingBasis,
    RedirectReason,
    Role,
    School,
    SchoolRoll,
    SchoolStatus,
    Service,
    ServiceCategory,
    ServiceKind,
    ServiceOffer,
    SupportEvent,
    SupportKind,
    SupportOutcome,
    SupportRequest,
    SupportStatus,
    TradingDecision,
    Trust,
    Urgency,
    User,
    contact_area,
    submission_answers,
)
from portal.passwords import hash_password
from portal.pricing import (
    Band,
    NoPrice,
    PriceRule,
    Tier,
    applies_to,
    quote,
    uplift_rule,
    validate,
)
from portal.support.dates import response_target_days
from portal.workdays import add_working_days
from portal_seed.data_files import DATA, read_json
from portal_seed.demo import (
    AREA_CONTACTS,
    AREA_DISTRICTS,
    COUNTYWIDE_CONTACTS,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    EMERGENCY_DUTY_TEAM,
)
from portal_seed.demo import seed as seed_demo
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


PER_FACTOR = Plan(schools=600, users=6_000, contacts=150, services=25, support_requests=5_000)
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


def _check_may_run(session: Session) -> None:
    if current_app.config["PORTAL_ENV"] == PRODUCTION:
        raise Refused("seed-scale refuses to run when PORTAL_ENV=production")
    schools = session.scalar(select(func.count(School.id)).where(School.urn >= FIRST_URN))
    if schools:
        raise Refused(
            f"seed-scale has already run on this database ({schools:,} generated schools) and "
            "refuses to run twice: to generate again, or at another factor, start from an "
            "empty database (db upgrade, seed-demo, seed-scale)."
        )


# --- schools, from the register's names ----------------------------------------------------

T = EstablishmentType


def _words(text: str) -> list[str]:
    return text.split()


# The words where a school's own name ends and its kind begins: "St Editha's" | "Church of
# England Primary School".
_KIND_WORDS = frozenset(
    _words(
        "primary junior juniors infant infants infants' nursery first middle high secondary "
        "grammar academy academies school college community church cofe c ce catholic roman rc "
        "methodist special free studio university sixth pupil upper technical sports leadership "
        "voluntary federated centre preparatory girls girls' boys boys' jewish islamic muslim sikh "
        "hindu christian e-act ormiston oasis harris co-op all-through learning specialist "
        "language arts science business enterprise international multi anglican endowed "
        "foundation parochial federation aided controlled unit pru alternative utc"
    )
)
_LEADING_WORDS = frozenset({"the", "ark", "e-act", "ormiston", "oasis", "harris", "co-op"})
_FAITH_WORDS = ("catholic", "church", "cofe", "c of e", "rc", "methodist", "christian", "ce ")
_SAINTLY = ("St ", "St. ", "Saint ", "Our Lady", "Holy ", "Sacred ", "All Saints", "Christ ")
_AP_TYPES = frozenset(
    {T.PUPIL_REFERRAL_UNIT, T.ACADEMY_AP_CONVERTER, T.ACADEMY_AP_SPONSOR_LED, T.FREE_SCHOOL_AP}
)
_SIXTEEN_TYPES = frozenset(
    {T.ACADEMY_16_19_CONVERTER, T.ACADEMY_16_19_SPONSOR_LED, T.FREE_SCHOOL_16_19}
)


@dataclass(frozen=True)
class RegisterName:
    """A real school's name, cut where its kind begins, with its type."""

    stem: str
    ending: str
    kind: EstablishmentType


def split_name(name: str) -> tuple[str, str] | None:
    """``("St Editha's", "Church of England Primary School")``; None when it cannot be cut."""
    words = name.split(",")[0].split()
    # "The", and a chain's name in front ("Ormiston Meridian Academy"), are not the school's.
    while words and words[0].lower() in _LEADING_WORDS:
        words = words[1:]
    # From the second word: "High Lawn Primary School" is High Lawn's primary school.
    cut = next((i for i, word in enumerate(words) if i and word.lower() in _KIND_WORDS), None)
    if cut is None or cut > 3 or len(words) - cut > 7:
        return None
    return " ".join(words[:cut]), " ".join(words[cut:])


@cache
def register_names() -> tuple[RegisterName, ...]:
    with REGISTER.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    names = []
    for row in rows:
        parts = split_name(row["School name"])
        # A chain's name stays with its real schools: "Parkwood E-ACT Academy" is left out.
        if parts is not None and not _LEADING_WORDS & set(parts[1].lower().split()):
            names.append(RegisterName(*parts, EstablishmentType(row["School type"])))
    return tuple(names)


@cache
def real_names() -> frozenset[str]:
    """Every real school's name in lower case, with and without what follows a comma
    ("Spa School, Camberwell" is Spa School)."""
    with REGISTER.open(newline="", encoding="utf-8") as file:
        names = [row["School name"].lower() for row in csv.DictReader(file)]
    return frozenset(names) | {name.split(",")[0].strip() for name in names}


def phase_for(ending: str, kind: EstablishmentType, rng: random.Random) -> Phase:
    """The phase of education a name's ending and a type imply, as the register records it."""
    words = f" {ending.lower()} "
    if kind in _AP_TYPES:
        return Phase.NOT_APPLICABLE
    if kind in _SIXTEEN_TYPES or "sixth form" in words:
        return Phase.SIXTEEN_PLUS
    if "all-through" in words or "all through" in words:
        return Phase.ALL_THROUGH
    if any(f" {w}" in words for w in ("primary", "infant", "junior", "first ")):
        return Phase.PRIMARY
    if " middle " in words:
        return Phase.MIDDLE_DEEMED_SECONDARY
    if " nursery school " in words:
        return Phase.NURSERY
    if "special" in kind.value.lower():
        # The register gives most special schools no phase.
        return Phase.NOT_APPLICABLE
    if any(f" {w}" in words for w in ("high", "secondary", "grammar", "college", "upper")):
        return Phase.SECONDARY
    # "Oakfield Academy", "Oakfield School": no telling from the name. Schools that call
    # themselves only an academy are more often secondary.
    return Phase.SECONDARY if rng.random() < 0.55 else Phase.PRIMARY


def pupils_for_new(kind: EstablishmentType, phase: Phase, ending: str, rng: random.Random) -> int:
    """Pupils on roll in the ranges the school census shows for each phase."""
    low, high, usual = 30, 250, 100
    if "special" in kind.value.lower():
        low, high, usual = 40, 320, 110
    elif kind in _AP_TYPES:
        low, high, usual = 8, 110, 40
    elif phase is Phase.NURSERY:
        low, high, usual = 40, 140, 85
    elif phase is Phase.PRIMARY:
        small = any(word in ending.lower() for word in ("infant", "junior"))
        low, high, usual = (90, 380, 210) if small else (40, 720, 270)
    elif phase is Phase.MIDDLE_DEEMED_SECONDARY:
        low, high, usual = 250, 850, 480
    elif phase is Phase.SECONDARY:
        low, high, usual = 520, 2_100, 1_050
    elif phase is Phase.ALL_THROUGH:
        low, high, usual = 700, 2_300, 1_350
    elif phase is Phase.SIXTEEN_PLUS:
        low, high, usual = 150, 900, 380
    return round(rng.triangular(low, high, usual))


# The demo's areas: roughly how the schools divide between them, and their postcode districts.
AREA_SHARES = {
    "north": 0.13,
    "nuneaton-bedworth": 0.20,
    "rugby": 0.20,
    "warwick": 0.22,
    "stratford": 0.25,
}
AREA_POSTCODES = {
    "north": ["CV9", "CV10", "B78", "B46", "CV7"],
    "nuneaton-bedworth": ["CV10", "CV11", "CV12"],
    "rugby": ["CV21", "CV22", "CV23", "CV8"],
    "warwick": ["CV31", "CV32", "CV34", "CV35", "CV8"],
    "stratford": ["CV37", "CV36", "CV47", "B49", "B50", "B95"],
}
AREA_TOWNS = {
    "north": ["Atherstone", "Coleshill", "Polesworth", "Kingsbury", "Hartshill"],
    "nuneaton-bedworth": ["Nuneaton", "Bedworth", "Bulkington", "Camp Hill"],
    "rugby": ["Rugby", "Brownsover", "Hillmorton", "Wolston", "Dunchurch"],
    "warwick": ["Warwick", "Leamington Spa", "Kenilworth", "Whitnash"],
    "stratford": ["Stratford-upon-Avon", "Alcester", "Shipston-on-Stour", "Southam"],
}
# The letters a postcode's inward part may use (the Royal Mail leaves out C, I, K, M, O, V).
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# The pupil premium list leaves out maintained nursery schools (no pupils of statutory age),
# which are about 2% of the register's schools: added by hand, named as the register names them.
NURSERY_SHARE = 0.02


@dataclass
class NewSchool:
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
    name: str
    group_uid: str
    companies_house_number: str
    size: int
    id: int = 0


def plan_schools(rng: random.Random, count: int) -> list[NewSchool]:
    """``count`` fictional schools: names, types and phases recombined from the register."""
    names = register_names()
    stems = [name.stem for name in names]
    real, used = real_names(), set()
    urns = rng.sample(range(FIRST_URN, LAST_URN + 1), count)
    areas, shares = list(AREA_SHARES), list(AREA_SHARES.values())
    schools = []
    for urn in urns:
        if rng.random() < NURSERY_SHARE:
            model = RegisterName("", "Nursery School", T.NURSERY)
        else:
            model = rng.choice(names)
        faith = any(word in f"{model.ending.lower()} " for word in _FAITH_WORDS)
        for _attempt in range(20):
            stem = rng.choice(stems)
            # A saint's name belongs to a church school; any place can have one.
            if stem.startswith(_SAINTLY) and not faith:
                continue
            name = f"{stem} {model.ending}"
            if name.lower() not in real and name not in used:
                break
        area = rng.choices(areas, shares)[0]
        if name in used:
            name = f"{name}, {rng.choice(AREA_TOWNS[area])}"
        used.add(name)
        phase = (
            Phase.NURSERY if model.kind is T.NURSERY else phase_for(model.ending, model.kind, rng)
        )
        outward = rng.choice(AREA_POSTCODES[area])
        inward = f"{rng.randint(0, 9)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
        schools.append(
            NewSchool(
                urn=urn,
                name=name,
                kind=model.kind,
                phase=phase,
                pupils=pupils_for_new(model.kind, phase, model.ending, rng),
                postcode=f"{outward} {inward}",
                area_code=area,
            )
        )
    return schools


# Academies outside any trust (single-academy trusts, which the portal does not model).
STANDALONE_ACADEMIES = 0.15
# Multi-academy trust sizes and how common each is: most are small, a few are large.
TRUST_SIZES = [(2, 10), (3, 12), (4, 12), (5, 11), (6, 9), (8, 9), (10, 8), (12, 7), (15, 7)]
TRUST_SIZES += [(20, 6), (25, 4), (30, 3), (40, 2)]
TRUST_WORDS = ["Learning Trust", "Academy Trust", "Multi-Academy Trust", "Education Trust"]
TRUST_WORDS += ["Schools Trust", "Learning Partnership", "Academies Trust", "Education Partnership"]


def plan_trusts(rng: random.Random, schools: Sequence[NewSchool]) -> list[NewTrust]:
    """Put most academies into multi-academy trusts of realistic sizes, mostly within an area."""
    academies = [s for s in schools if s.is_academy and rng.random() >= STANDALONE_ACADEMIES]
    # Neighbours join the same trust: by area, then at random within it.
    order = {code: index for index, code in enumerate(AREA_SHARES)}
    academies.sort(key=lambda s: (order[s.area_code], rng.random()))
    sizes, weights = zip(*TRUST_SIZES, strict=True)
    stems = [n.stem for n in register_names() if not n.stem.startswith(_SAINTLY)]
    trusts: list[NewTrust] = []
    used: set[str] = set()
    start = 0
    while start < len(academies):
        size = min(rng.choices(sizes, weights)[0], len(academies) - start)
        if size == 1 and trusts:
            trusts[-1].size += 1  # a lone academy left at the end joins the last trust
        else:
            name = f"{rng.choice(stems)} {rng.choice(TRUST_WORDS)}"
            while name in used:
                name = f"{rng.choice(stems)} {rng.choice(TRUST_WORDS)}"
            used.add(name)
            number = len(trusts) + 1
            # TR9xxxx: the register's own group codes are TR0xxxx. Companies House numbers
            # from 99000000 are far beyond any it has issued.
            trusts.append(NewTrust(name, f"TR9{number:04d}", f"{99_000_000 + number}", size))
        for school in academies[start : start + size]:
            school.trust = len(trusts) - 1
        start += size
    return trusts


# --- people ----------------------------------------------------------------------------------

_NAMES = read_json("scale_names.json")
FIRST_NAMES: list[str] = _NAMES["first_names"]
SURNAMES: list[str] = _NAMES["surnames"]


def _person(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    while last == first:  # James James
        last = rng.choice(SURNAMES)
    return first, last


def _local_part(first: str, last: str) -> str:
    return f"{first}.{last}".lower()


# --- services ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceIdea:
    """A service a council offers schools; ``basis`` is how a traded one is priced: 'school',
    'pupil', 'banded', 'flat' (plus per pupil) or the unit it is sold by."""

    category: str
    name: str
    kind: ServiceKind
    summary: str
    basis: str = ""
    eligible: tuple[str, ...] = ()
    vat: bool = False


SERVICE_IDEAS = [
    ServiceIdea(
        category,
        idea["name"],
        ServiceKind(idea["kind"]),
        idea["summary"],
        idea.get("basis", ""),
        tuple(idea.get("eligible", ())),
        idea.get("vat", False),
    )
    for category, ideas in read_json("scale_service_ideas.json").items()
    for idea in ideas
]

# A service offered again in a narrower form: the name's ending, eligibility and phases.
VARIANTS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("", (), ()),
    (" for primary schools", (), ("Primary", "Middle deemed primary")),
    (" for secondary schools", (), ("Secondary", "Middle deemed secondary", "All-through")),
    (" for special schools", ("special",), ()),
    (" for academies", ("academy", "free_school"), ()),
    (" for maintained schools", ("maintained",), ()),
    (": enhanced", (), ()),
    (": essentials", (), ()),
]
# Pence per unit: what councils' price lists charge, lowest and highest.
UNIT_PRICES = {
    "hour": (4_500, 9_500),
    "day": (40_000, 75_000),
    "session": (9_000, 26_000),
    "visit": (25_000, 90_000),
    "place": (2_500, 25_000),
    "meeting": (15_000, 32_000),
    "check": (3_500, 6_500),
    "advert": (15_000, 40_000),
    "employee": (500, 3_000),
    "post": (1_800, 3_200),
    "appeal": (20_000, 45_000),
    "inspection": (9_000, 22_000),
    "assessment": (30_000, 65_000),
    "referral": (8_000, 18_000),
    "repair": (4_500, 12_000),
    "teacher": (30_000, 60_000),
}
BAND_LIMITS = [
    [100, 250, 500],
    [50, 150, 300, 1_000],
    [210, 600],
    [200, 400, 800, 1_200],
]


def plan_services(rng: random.Random, count: int) -> list[tuple[ServiceIdea, str, list[str]]]:
    """``count`` services: (idea, name, phases), two in five free and the rest traded; an idea
    comes round again in a narrower form (for primary schools, for academies...)."""
    free = [idea for idea in SERVICE_IDEAS if idea.kind is not ServiceKind.TRADED]
    traded = [idea for idea in SERVICE_IDEAS if idea.kind is ServiceKind.TRADED]
    rng.shuffle(free)
    rng.shuffle(traded)
    turns = {"free": 0, "traded": 0}
    planned = []
    for index in range(count):
        pool, key = (free, "free") if index % 5 in (1, 3) else (traded, "traded")
        while True:
            turn = turns[key]
            turns[key] += 1
            idea = pool[turn % len(pool)]
            round_ = turn // len(pool)
            ending, eligible, phases = (
                VARIANTS[round_] if round_ < len(VARIANTS) else (f" (package {round_})", (), ())
            )
            both = set(idea.eligible) & set(eligible)
            if idea.eligible and eligible and not both:
                continue  # "for academies" of a service only maintained schools may buy
            break
        narrowed = both if idea.eligible and eligible else {*idea.eligible, *eligible}
        planned.append(
            (replace(idea, eligible=tuple(sorted(narrowed))), idea.name + ending, list(phases))
        )
    return planned


def _pounds(rng: random.Random, low: int, high: int) -> int:
    return rng.randint(low, high) * 100


def _hundreds(pence: float) -> int:
    """To the whole pound, as price lists are; always an int (pence are never float)."""
    return int(round(pence, -2))


def price_rules(rng: random.Random, idea: ServiceIdea) -> list[tuple[str, PriceRule]]:
    """A traded service's price options in its first year, as (name, rule)."""
    basis = idea.basis
    rules: list[tuple[str, PriceRule]]
    if basis == "school":
        amount = _pounds(rng, 250, 6_000)
        rules = [("Annual service", PriceRule(PricingBasis.PER_SCHOOL, amount_pence=amount))]
        if rng.random() < 0.3:
            enhanced = PriceRule(PricingBasis.PER_SCHOOL, amount_pence=_hundreds(amount * 2.2))
            rules.append(("Enhanced service", enhanced))
    elif basis == "pupil":
        rate = rng.randint(150, 1_200)
        by_phase = {Phase.SECONDARY.value: round(rate * 1.25)} if rng.random() < 0.4 else {}
        minimum = _pounds(rng, 300, 900) if rng.random() < 0.25 else None
        rule = PriceRule(
            PricingBasis.PER_PUPIL, per_pupil_pence=rate, by_phase=by_phase, minimum_pence=minimum
        )
        rules = [("Annual service", rule)]
    elif basis == "banded":
        limits = rng.choice(BAND_LIMITS)
        price, bands, start = _pounds(rng, 300, 2_500), [], 0
        for limit in [*limits, None]:
            bands.append(Band(start, limit, price))
            start, price = (limit or 0) + 1, _hundreds(price * rng.uniform(1.3, 1.6))
        rules = [("Annual subscription", PriceRule(PricingBasis.BANDED, bands=tuple(bands)))]
    elif basis == "flat":
        rule = PriceRule(
            PricingBasis.FLAT_PLUS_PER_PUPIL,
            amount_pence=_pounds(rng, 300, 1_500),
            per_pupil_pence=rng.randint(100, 600),
        )
        rules = [("Annual service", rule)]
    else:
        low, high = UNIT_PRICES[basis]
        amount = _hundreds(rng.randint(low, high))
        tiers: tuple[Tier, ...] = ()
        pack = None
        if rng.random() < 0.35:
            tiers = (Tier(rng.choice([5, 10]), round(amount * 0.9)),)
        elif rng.random() < 0.2:
            pack = rng.choice([5, 10, 20])
            amount = _hundreds(amount * pack * 0.95)
        minimum = _pounds(rng, 100, 400) if rng.random() < 0.15 else None
        rules = [
            (
                f"{basis.capitalize()}s" if pack is None else f"Packs of {pack} {basis}s",
                PriceRule(
                    PricingBasis.PER_UNIT,
                    amount_pence=amount,
                    unit=basis,
                    tiers=tiers,
                    pack_size=pack,
                    minimum_pence=minimum,
                ),
            )
        ]
        if basis == "day" and pack is None and rng.random() < 0.4:
            half = PriceRule(
                PricingBasis.PER_UNIT, amount_pence=round(amount * 0.55), unit="half day"
            )
            rules.append(("Half days", half))
    if not idea.eligible and len(rules) == 1 and rng.random() < 0.25:
        # A separate academy price, where VAT or overheads differ.
        name, rule = rules[0]
        academies = uplift_rule(rule, Decimal(rng.choice([5, 10, 15])))
        rules = [
            ("Maintained schools", _with_audience(rule, Audience.MAINTAINED)),
            ("Academies", _with_audience(academies, Audience.ACADEMIES)),
        ]
    for name, rule in rules:
        problems = validate(rule)
        if problems:
            raise AssertionError(
                f"seed-scale made a bad price for {idea.name} ({name}): {problems}"
            )
    return rules


def _with_audience(rule: PriceRule, audience: Audience) -> PriceRule:
    return replace(rule, audience=audience)


# --- support requests -------------------------------------------------------------------------

DETAILS = [
    "Attendance has fallen this term and the family have asked the school for help.",
    "Routines at home have been difficult since the baby arrived; the school nurse is involved.",
    "Behaviour in class has changed since the autumn; we would like advice on whether a CAF "
    "is right.",
    "The family have just moved into the area and need help finding local services.",
    "We have started an early help assessment and would like help to arrange the first TAF "
    "meeting.",
    "Staff would like training on completing early help assessments before the spring term.",
    "The young person is a carer for a parent and is struggling to keep up with homework.",
    None,
    None,
]
SHARED_NOTES = [
    "Thank you for the request: I will call you this week.",
    "Meeting arranged at school; the family have agreed to attend.",
    "I have sent the early help assessment form and guidance by e-mail.",
    "The Lead Professional will be the school's family support worker.",
    "Review meeting booked for six weeks' time.",
]
PRIVATE_NOTES = [
    "Checked the system: the family is not open to children's social care.",
    "Discussed with the early intervention operations manager.",
    "Family support worker to attend the TAF meeting.",
    "Left a message for the designated safeguarding lead.",
]
CONTACT_TIMES = ["Mornings before 10am", "After 3.30pm", "Any time on Tuesdays", None]
YEAR_GROUPS = {
    Phase.NURSERY: ["Nursery"],
    Phase.PRIMARY: ["Reception"] + [f"Year {n}" for n in range(1, 7)],
    Phase.MIDDLE_DEEMED_PRIMARY: [f"Year {n}" for n in range(4, 9)],
    Phase.MIDDLE_DEEMED_SECONDARY: [f"Year {n}" for n in range(5, 10)],
    Phase.SECONDARY: [f"Year {n}" for n in range(7, 14)],
    Phase.SIXTEEN_PLUS: ["Year 12", "Year 13"],
}
_ALL_YEAR_GROUPS = ["Reception"] + [f"Year {n}" for n in range(1, 12)]
_NEEDS = [
    "learning",
    "attendance",
    "behaviour",
    "emotional_health",
    "physical_health",
    "family_relationships",
    "parenting",
    "housing_money",
    "young_carer",
    "domestic_abuse",
    "substance_misuse",
]


# --- the run ------------------------------------------------------------------------------------


def _quiet(_message: str) -> None:
    return None


@dataclass
class _Run:
    """What one generation knows as it goes: the stages hand on ids through it."""

    session: Session
    rng: random.Random
    plan: Plan
    progress: Callable[[str], None]
    # Times are counted back from the start of the day the run began.
    today: datetime
    counts: Counter[str] = field(default_factory=Counter)
    areas: dict[str, Area] = field(default_factory=dict)
    schools: list[NewSchool] = field(default_factory=list)
    trusts: list[NewTrust] = field(default_factory=list)
    # user ids: a school's head teacher first, then its staff
    school_people: dict[int, list[int]] = field(default_factory=dict)
    trust_leads: dict[int, list[int]] = field(default_factory=dict)
    officers: dict[int, list[tuple[int, str, str]]] = field(default_factory=dict)
    publishers: list[int] = field(default_factory=list)
    generated_offers: set[int] = field(default_factory=set)
    started: float = field(default_factory=time.perf_counter)

    def insert(self, target: type[Base] | Table, rows: Iterable[dict[str, Any]]) -> int:
        """Insert the rows (dicts with the same keys); returns how many went in.

        Core, not the ORM's bulk insert: that would set every ``version`` column back to 1,
        and nothing here needs ORM events. On PostgreSQL through COPY, three to four times
        as fast as an executemany of INSERTs; elsewhere in executemany batches.
        """
        table = target if isinstance(target, Table) else target.__table__
        if self.session.get_bind().dialect.name == "postgresql":
            return self._copy(table, iter(rows))
        batch: list[dict[str, Any]] = []
        total = 0
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                self.session.execute(insert(table), batch)
                total += len(batch)
                batch = []
        if batch:
            self.session.execute(insert(table), batch)
            total += len(batch)
        return total

    def _copy(self, table: Table, rows: Iterator[dict[str, Any]]) -> int:
        first = next(rows, None)
        if first is None:
            return 0
        names = list(first)
        # COPY applies no Python-side defaults: every column that has one must be given.
        missing = [c.name for c in table.c if c.default is not None and c.name not in names]
        if missing:
            raise AssertionError(f"seed-scale gives no {missing} for {table.name}")
        connection = self.session.connection()
        dialect = connection.dialect
        # Each value as an INSERT would send it: enums as their values, JSON as JSON, times
        # in UTC.
        processors = [
            (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
        ]
        columns = ", ".join(names)
        cursor = connection.connection.dbapi_connection.cursor()
        total = 0
        with cursor, cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
            for row in chain([first], rows):
                copy.write_row(
                    [
                        row[name] if process is None else process(row[name])
                        for name, process in processors
                    ]
                )
                total += 1
        return total

    def next_id(self, model: type[Base]) -> int:
        return int(self.session.scalar(select(func.max(model.id))) or 0) + 1

    def done(self, stage: str, **counts: int) -> None:
        self.counts.update(counts)
        elapsed = time.perf_counter() - self.started
        self.progress(f"  {stage}: {describe(counts)} ({elapsed:.1f} s)")


def generate(
    factor: float, *, seed: int = SEED, progress: Callable[[str], None] = _quiet
) -> dict[str, int]:
    """Generate a large council on top of the demo; returns how many rows of each were added.

    Raises ``ValueError`` for a factor out of range, and ``Refused`` in production or when
    it has run on this database before.
    """
    plan = plan_for(factor)
    session = db.session
    _check_may_run(session)
    seed_demo()  # on top of the demo, whether or not seed-demo has run
    now = utcnow()
    run = _Run(
        session=session,
        # Repeatable invented data, not secrets: a seeded generator is the point.
        rng=random.Random(seed),  # noqa: S311
        plan=plan,
        progress=progress,
        today=datetime.combine(now.date(), clock(), tzinfo=UTC),
    )
    progress(
        f"Generating factor {factor:g}: {plan.schools:,} schools, about {plan.users:,} users, "
        f"{plan.contacts:,} contacts, {plan.services:,} services, "
        f"{plan.support_requests:,} support requests."
    )
    try:
        _schools(run)
        _people(run)
        _contacts(run)
        _services(run)
        _buyback(run)
        _support(run)
        _move_sequences_on(run)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    if session.get_bind().dialect.name == "postgresql":
        # The planner's statistics still describe the demo's few dozen rows per table.
        session.execute(text("ANALYZE"))
        session.commit()
        progress(f"  ANALYZE done ({time.perf_counter() - run.started:.1f} s)")
    return dict(run.counts)


def _schools(run: _Run) -> None:
    rng = run.rng
    run.areas = {area.code: area for area in run.session.scalars(select(Area))}
    run.schools = plan_schools(rng, run.plan.schools)
    run.trusts = plan_trusts(rng, run.schools)
    trust_id = run.next_id(Trust)
    for index, trust in enumerate(run.trusts):
        trust.id = trust_id + index
    school_id = run.next_id(School)
    for index, school in enumerate(run.schools):
        school.id = school_id + index
    la_code = current_app.config["COUNCIL_LA_CODES"][0]
    trusts = run.insert(
        Trust,
        (
            {
                "id": t.id,
                "name": t.name,
                "group_uid": t.group_uid,
                "companies_house_number": t.companies_house_number,
            }
            for t in run.trusts
        ),
    )
    schools = run.insert(
        School,
        (
            {
                "id": s.id,
                "urn": s.urn,
                "name": s.name,
                "establishment_type": s.kind,
                "phase": s.phase,
                "pupils_on_roll": s.pupils,
                "postcode": s.postcode,
                "status": SchoolStatus.OPEN,
                "la_code": la_code,
                "district": AREA_DISTRICTS[s.area_code][0],
                "area_id": run.areas[s.area_code].id,
                "trust_id": run.trusts[s.trust].id if s.trust is not None else None,
            }
            for s in run.schools
        ),
    )

    def rolls() -> Iterable[dict[str, Any]]:
        # The census before this year's: numbers drift by a few per cent a year.
        for school in run.schools:
            pupils = school.pupils
            for year in sorted(YEARS, reverse=True):
                yield {"school_id": school.id, "year": year, "pupils_on_roll": pupils}
                pupils = max(0, round(pupils * rng.uniform(0.95, 1.05)))

    run.done(
        "schools", schools=schools, trusts=trusts, school_rolls=run.insert(SchoolRoll, rolls())
    )


def _people(run: _Run) -> None:
    rng = run.rng
    password_hash = hash_password(DEMO_PASSWORD)
    per_area = Counter(school.area_code for school in run.schools)
    officers_per_area = {code: max(1, round(count / 100)) for code, count in per_area.items()}
    leads = sum(1 + (trust.size >= 10) for trust in run.trusts)
    publishers = max(1, round(run.plan.services / 25))
    fixed = len(run.schools) + leads + sum(officers_per_area.values()) + publishers
    staff = _shares(
        max(run.plan.users - fixed, len(run.schools)),
        [school.pupils**0.75 + 1 for school in run.schools],
    )
    next_user = run.next_id(User)
    users: list[dict[str, Any]] = []
    memberships: list[dict[str, Any]] = []

    def person(email: str, name: str, role: Role, **organisation: int) -> int:
        user_id = next_user + len(users)
        created = run.today - timedelta(days=rng.randint(30, 1_100))
        council = role.is_council
        signed_in = run.today - timedelta(minutes=rng.randint(60, 120 * 24 * 60))
        users.append(
            {
                "id": user_id,
                "email": email,
                "display_name": name,
                "password_hash": password_hash,
                # A few people have left and had their accounts closed.
                "is_active": council or role is Role.HEAD_TEACHER or rng.random() > 0.02,
                "session_version": 1,
                "created_at": created,
                "last_signed_in_at": signed_in if rng.random() < 0.75 else None,
                "password_changed_at": created,
                "failed_sign_ins": 0,
                # Council staff sign in with a second factor: the demo's shared secret.
                "totp_secret": DEMO_TOTP_SECRET if council else None,
                "totp_enabled_at": created if council else None,
                "recovery_codes": [],
            }
        )
        memberships.append(
            {"user_id": user_id, "role": role, "school_id": None, "trust_id": None, "area_id": None}
            | organisation
        )
        return user_id

    for school, count in zip(run.schools, staff, strict=True):
        domain = f"{school.urn}.schools.example"
        first, last = _person(rng)
        people = [
            person(f"head@{domain}", f"{first} {last}", Role.HEAD_TEACHER, school_id=school.id)
        ]
        taken: Counter[str] = Counter()
        for _ in range(count):
            first, last = _person(rng)
            local = _local_part(first, last)
            taken[local] += 1
            if taken[local] > 1:
                local += str(taken[local])
            people.append(
                person(
                    f"{local}@{domain}", f"{first} {last}", Role.SCHOOL_STAFF, school_id=school.id
                )
            )
        run.school_people[school.id] = people
    for trust in run.trusts:
        domain = f"{trust.group_uid.lower()}.trusts.example"
        run.trust_leads[trust.id] = []
        for number in range(1, 2 + (trust.size >= 10)):
            first, last = _person(rng)
            run.trust_leads[trust.id].append(
                person(
                    f"lead{number}@{domain}", f"{first} {last}", Role.TRUST_LEAD, trust_id=trust.id
                )
            )
    generated_officers: list[tuple[str, int, str, str]] = []
    for code, count in officers_per_area.items():
        for number in range(1, count + 1):
            first, last = _person(rng)
            email = f"caf.{code}.{number}@council.example"
            user_id = person(email, f"{first} {last}", Role.CAF_OFFICER, area_id=run.areas[code].id)
            generated_officers.append((code, user_id, f"{first} {last}", email))
    for number in range(1, publishers + 1):
        first, last = _person(rng)
        run.publishers.append(
            person(f"publisher.{number}@council.example", f"{first} {last}", Role.PUBLISHER)
        )
    count_users = run.insert(User, users)
    count_memberships = run.insert(Membership, memberships)
    for code, user_id, name, email in generated_officers:
        run.officers.setdefault(run.areas[code].id, []).append((user_id, name, email))
    run.done("people", users=count_users, memberships=count_memberships)


def _shares(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, every share at least 1, adding up exactly."""
    base = [1] * len(weights)
    left = total - len(weights)
    scale = sum(weights)
    exact = [left * w / scale for w in weights]
    shares = [b + math.floor(e) for b, e in zip(base, exact, strict=True)]
    remainders = sorted(range(len(weights)), key=lambda i: exact[i] - math.floor(exact[i]))
    for index in remainders[len(remainders) - (total - sum(shares)) :]:
        shares[index] += 1
    return shares


# Which roles the directory's people and teams have, and how often (after the CAF officers).
CONTACT_ROLES = [
    (ContactRole.FAMILY_SUPPORT, 20),
    (ContactRole.EDUCATION_SOCIAL_WORK, 16),
    (ContactRole.EARLY_INTERVENTION_PRIMARY, 5),
    (ContactRole.EARLY_INTERVENTION_SECONDARY, 5),
    (ContactRole.TARGETED_YOUTH_SUPPORT, 8),
    (ContactRole.CHILDRENS_TEAM, 8),
    (ContactRole.EDUCATIONAL_PSYCHOLOGY, 12),
    (ContactRole.SEN_TEAM, 12),
    (ContactRole.SPECIALIST, 14),
]
JOB_TITLES = {
    ContactRole.CAF_OFFICER: "CAF officer",
    ContactRole.FAMILY_SUPPORT: "Family support worker",
    ContactRole.EDUCATION_SOCIAL_WORK: "Education social worker",
    ContactRole.EARLY_INTERVENTION_PRIMARY: "Early intervention operations manager",
    ContactRole.EARLY_INTERVENTION_SECONDARY: "Early intervention operations manager",
    ContactRole.TARGETED_YOUTH_SUPPORT: "Youth worker",
    ContactRole.EDUCATIONAL_PSYCHOLOGY: "Educational psychologist",
    ContactRole.SEN_TEAM: "SEN casework officer",
    ContactRole.SPECIALIST: "Specialist teacher",
}
# Teams, not people: named after the town they work from.
TEAM_ROLES = {
    ContactRole.CHILDRENS_TEAM: "{town} Children's Team",
    ContactRole.TARGETED_YOUTH_SUPPORT: "{town} Youth Support Team",
}
COUNTYWIDE_ROLES = {
    ContactRole.EDUCATIONAL_PSYCHOLOGY,
    ContactRole.SEN_TEAM,
    ContactRole.SPECIALIST,
}
_HELP_WITH = {role: help_with for role, _n, _t, help_with, _o in AREA_CONTACTS}
_HELP_WITH |= {role: help_with for role, _n, _t, help_with, _o in COUNTYWIDE_CONTACTS[:2]}
_HELP_WITH[ContactRole.SPECIALIST] = "Specialist advice for pupils with additional needs"
# Ofcom's numbers for drama: none of them rings a real telephone.
DRAMA_NUMBERS = ["+441214960", "+441174960", "+441134960", "+447700900"]


def _contacts(run: _Run) -> None:
    rng = run.rng
    now = run.today
    codes = list(run.areas)
    next_contact = run.next_id(Contact)
    contacts: list[dict[str, Any]] = []
    areas: list[dict[str, Any]] = []
    roles, weights = zip(*CONTACT_ROLES, strict=True)
    emails: Counter[str] = Counter()

    def add(role: ContactRole, name: str, email: str, title: str | None, serves: list[str]) -> None:
        contact_id = next_contact + len(contacts)
        checked = now - timedelta(days=rng.randint(1, 480), minutes=rng.randint(0, 1_000))
        retired = rng.random() < 0.04 and role is not ContactRole.CAF_OFFICER
        contacts.append(
            {
                "id": contact_id,
                "name": name,
                "job_title": title,
                "role": role,
                "help_with": _HELP_WITH[role],
                "phone": f"{rng.choice(DRAMA_NUMBERS)}{rng.randint(0, 999):03d}",
                "email": email,
                "out_of_hours": EMERGENCY_DUTY_TEAM if role is ContactRole.CHILDRENS_TEAM else None,
                "countywide": not serves,
                "created_at": checked - timedelta(days=rng.randint(0, 700)),
                "last_checked_at": checked,
                "last_checked_by_id": rng.choice(run.publishers) if rng.random() < 0.5 else None,
                "retired_at": now - timedelta(days=rng.randint(1, 300)) if retired else None,
            }
        )
        areas.extend({"contact_id": contact_id, "area_id": run.areas[c].id} for c in serves)

    # Each generated CAF officer is in the directory for their area.
    officers = sorted(
        ((area_id, officer) for area_id, found in run.officers.items() for officer in found),
        key=lambda item: item[1][0],
    )
    by_id = {area.id: code for code, area in run.areas.items()}
    for area_id, (_user_id, name, email) in officers[: run.plan.contacts]:
        add(ContactRole.CAF_OFFICER, name, email, "CAF officer", [by_id[area_id]])
    while len(contacts) < run.plan.contacts:
        role = rng.choices(roles, weights)[0]
        serves = [] if role in COUNTYWIDE_ROLES and rng.random() < 0.8 else [rng.choice(codes)]
        if serves and rng.random() < 0.1:
            serves = sorted({serves[0], rng.choice(codes)})
        if role in TEAM_ROLES:  # never countywide: a team works from a town
            town = rng.choice(AREA_TOWNS[serves[0]])
            name = TEAM_ROLES[role].format(town=town)
            local, title = name.lower().replace("'", "").replace(" ", "."), None
        else:
            first, last = _person(rng)
            name, local, title = f"{first} {last}", _local_part(first, last), JOB_TITLES[role]
        emails[local] += 1
        if emails[local] > 1:
            local += str(emails[local])
        add(role, name, f"{local}@council.example", title, serves)
    run.done(
        "contacts",
        contacts=run.insert(Contact, contacts),
        contact_areas=run.insert(contact_area, areas),
    )


def _services(run: _Run) -> None:
    rng = run.rng
    categories = {c.name: c.id for c in run.session.scalars(select(ServiceCategory))}
    for name in sorted({idea.category for idea in SERVICE_IDEAS} - categories.keys()):
        category = ServiceCategory(
            name=name, public_id=str(uuid.UUID(int=rng.getrandbits(128), version=4))
        )
        run.session.add(category)
        run.session.flush()
        categories[name] = category.id
    next_service, next_offer, next_option = (
        run.next_id(m) for m in (Service, ServiceOffer, PriceOption)
    )
    services: list[dict[str, Any]] = []
    offers: list[dict[str, Any]] = []
    options: list[dict[str, Any]] = []

    def published(year: int) -> datetime:
        # Councils publish the next year's offer in the autumn.
        return datetime(year - 1, 10, rng.randint(1, 31), 9, tzinfo=LONDON).astimezone(UTC)

    for idea, name, phases in plan_services(rng, run.plan.services):
        service_id = next_service + len(services)
        slug = idea.category.lower().replace(" and ", ".").replace(" ", ".")
        services.append(
            {
                "id": service_id,
                "public_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "name": name,
                "category_id": categories[idea.category],
                "kind": idea.kind,
                "summary": idea.summary,
                "included": f"{idea.summary} Delivered by the council's {idea.category.lower()} "
                "team, with a named contact for your school.",
                "standards": "We answer enquiries within two working days.",
                "statutory_duties": "A duty of the council under education law."
                if idea.kind is ServiceKind.STATUTORY
                else None,
                "provider_team": f"{idea.category} team",
                "contact_email": f"{slug}@council.example",
                "contact_phone": f"+441214960{rng.randint(700, 999)}",
                "eligible": list(idea.eligible),
                "phases": phases,
                "created_at": published(YEARS[0]),
                "updated_at": published(YEARS[-1]),
            }
        )
        rules = price_rules(rng, idea) if idea.kind is ServiceKind.TRADED else []
        for year, status, decision, year_rules in _offer_years(rng, idea, rules):
            offer_id = next_offer + len(offers)
            offers.append(
                {
                    "id": offer_id,
                    "service_id": service_id,
                    "year": year,
                    "status": status,
                    "decision": decision,
                    "vat_applies": idea.vat,
                    "delivery_cost_pence": None,
                    "published_at": published(year) if status is not OfferStatus.DRAFT else None,
                    "updated_at": published(year),
                }
            )
            if idea.kind is ServiceKind.TRADED:
                run.generated_offers.add(offer_id)
            for position, (option_name, rule) in enumerate(year_rules):
                options.append(
                    {
                        "id": next_option + len(options),
                        "offer_id": offer_id,
                        "position": position,
                        "name": option_name,
                        "basis": rule.basis,
                        "audience": rule.audience,
                        "amount_pence": rule.amount_pence,
                        "per_pupil_pence": rule.per_pupil_pence,
                        "unit": rule.unit,
                        "minimum_pence": rule.minimum_pence,
                        "rates": rule.to_rates(),
                    }
                )
    run.done(
        "services",
        services=run.insert(Service, services),
        service_offers=run.insert(ServiceOffer, offers),
        price_options=run.insert(PriceOption, options),
    )


Rules = list[tuple[str, PriceRule]]


def _offer_years(
    rng: random.Random, idea: ServiceIdea, rules: Rules
) -> list[tuple[int, OfferStatus, TradingDecision, Rules]]:
    """A service's offers over the three years: most continue with a yearly uplift; some are
    new, some cease, some are withdrawn, and some next year's are still being drafted."""
    first, middle, last = YEARS
    lifecycle = rng.random() if idea.kind is ServiceKind.TRADED else 1.0
    years: list[tuple[int, OfferStatus, TradingDecision, Rules]] = []
    P, DR, W = OfferStatus.PUBLISHED, OfferStatus.DRAFT, OfferStatus.WITHDRAWN
    start = middle if 0.06 <= lifecycle < 0.12 else last if 0.12 <= lifecycle < 0.17 else first
    current = rules
    for year in YEARS:
        if year < start:
            continue
        if year > start:
            percent = Decimal(rng.choice(["0", "2", "2.5", "3", "3.5", "4", "5"]))
            current = [(name, uplift_rule(rule, percent)) for name, rule in current]
            decision = TradingDecision.REPRICED if percent else TradingDecision.CONTINUE
        else:
            decision = TradingDecision.NEW if year > first else TradingDecision.CONTINUE
        if year == last and lifecycle < 0.06:
            years.append((year, DR, TradingDecision.CEASED, []))
        elif year == last and 0.17 <= lifecycle < 0.20:
            years.append((year, DR, decision, current))  # the publisher is still at it
        elif year == middle and 0.20 <= lifecycle < 0.22:
            years.append((year, W, decision, current))
            break
        else:
            years.append((year, P, decision, current))
    return years


@dataclass
class _Offered:
    """A published traded offer as buy-back sees it, with its options' rules."""

    offer_id: int
    service_id: int
    service_name: str
    options: list[tuple[PriceOption, PriceRule]]
    take_up: float


def _buyback(run: _Run) -> None:
    rng = run.rng
    session = run.session
    _first_year_windows(run)
    windows = session.scalars(
        select(BuybackWindow).order_by(BuybackWindow.year, BuybackWindow.opens_at.desc())
    ).all()
    # The history written here is what the closed windows held when they closed: any figures
    # kept for them before it was written are worked out again when next asked for.
    session.execute(delete(BuybackWindowFigures))
    offers = session.scalars(
        select(ServiceOffer)
        .join(Service)
        .where(
            ServiceOffer.year.in_(YEARS),
            ServiceOffer.status == OfferStatus.PUBLISHED,
            Service.kind == ServiceKind.TRADED,
        )
        .order_by(Service.name, ServiceOffer.id)
    ).all()
    take_up = {offer.service_id: rng.uniform(0.15, 0.85) for offer in offers}
    by_year: dict[int, list[tuple[ServiceOffer, _Offered]]] = defaultdict(list)
    for offer in offers:
        rules = [(o, PriceRule.from_option(o, vat=offer.vat_applies)) for o in offer.options]
        by_year[offer.year].append(
            (
                offer,
                _Offered(
                    offer.id, offer.service_id, offer.service.name, rules, take_up[offer.service_id]
                ),
            )
        )
    available: dict[tuple[EstablishmentType, Phase, int], list[_Offered]] = {}

    def offered(school: NewSchool, year: int) -> list[_Offered]:
        # What portal.buyback.offered.offered_to lists, worked out once per type and phase.
        key = (school.kind, school.phase, year)
        if key not in available:
            model = School(establishment_type=school.kind, phase=school.phase)
            available[key] = [
                _Offered(
                    item.offer_id,
                    item.service_id,
                    item.service_name,
                    [
                        (o, r)
                        for o, r in item.options
                        if applies_to(r, is_academy=school.is_academy)
                    ],
                    item.take_up,
                )
                for offer, item in by_year[year]
                if offer.service.is_available_to(model)
            ]
            available[key] = [item for item in available[key] if item.options]
        return available[key]

    rolls = {
        (school_id, year): pupils
        for school_id, year, pupils in session.execute(
            select(SchoolRoll.school_id, SchoolRoll.year, SchoolRoll.pupils_on_roll).where(
                SchoolRoll.school_id >= run.schools[0].id
            )
        )
    }
    quotes: dict[tuple[Any, ...], Any] = {}

    def price(
        option: PriceOption, rule: PriceRule, pupils: int, phase: Phase, quantity: int
    ) -> Any:
        # Most prices do not depend on the school: work each out once.
        key: tuple[Any, ...] = (option.id, quantity)
        if rule.basis in (PricingBasis.PER_PUPIL, PricingBasis.FLAT_PLUS_PER_PUPIL):
            key += (pupils, phase)
        elif rule.basis is PricingBasis.BANDED:
            key += (pupils,)
        if key not in quotes:
            try:
                quotes[key] = quote(rule, pupils=pupils, phase=phase.value, quantity=quantity)
            except (NoPrice, ValueError):
                quotes[key] = None
        return quotes[key]

    now = run.today
    next_choice = run.next_id(BuybackChoice)
    next_submission = run.next_id(BuybackSubmission)
    income: Counter[int] = Counter()
    choices: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    submissions: list[dict[str, Any]] = []
    # Each submission's answers as rows, as the portal writes them with a submission.
    answers: list[dict[str, Any]] = []
    totals: Counter[str] = Counter()

    def flush() -> None:
        totals["buyback_choices"] += run.insert(BuybackChoice, choices)
        totals["buyback_lines"] += run.insert(BuybackLine, lines)
        totals["buyback_submissions"] += run.insert(BuybackSubmission, submissions)
        run.insert(BuybackSubmissionAnswer, answers)
        choices.clear()
        lines.clear()
        submissions.clear()
        answers.clear()

    for school in run.schools:
        people = run.school_people[school.id]
        leads = (
            run.trust_leads.get(run.trusts[school.trust].id, []) if school.trust is not None else []
        )
        bought_before: dict[int, bool] = {}
        model = School(establishment_type=school.kind, phase=school.phase)
        for year in YEARS:
            window = next((w for w in windows if w.year == year and w.cohort.includes(model)), None)
            if window is None or window.state(now) == "upcoming":
                continue  # nobody can choose before a window opens
            is_open = window.state(now) == "open"
            submitted = rng.random() < (0.35 if is_open else 0.9)
            items = offered(school, year)
            if not submitted:
                # A draft: some of the services answered so far.
                share = rng.uniform(0.3, 1.0)
                items = [item for item in items if rng.random() < share]
            pupils = rolls[(school.id, year)]
            choice_id = next_choice + len(choices) + totals["buyback_choices"]
            end = min(window.closes_at, now)
            # Most schools answer in the last weeks before the deadline.
            moment = window.opens_at + (end - window.opens_at) * rng.betavariate(3, 1.2)
            frozen = []
            for item in sorted(items, key=lambda i: i.service_name):
                chance = item.take_up
                if item.service_id in bought_before:
                    chance = 0.9 if bought_before[item.service_id] else chance * 0.4
                buying = rng.random() < chance
                option, rule, priced, quantity = None, None, None, 1
                if buying:
                    option, rule = rng.choice(item.options)
                    if rule.basis is PricingBasis.PER_UNIT:
                        quantity = _quantity(rng, rule, pupils)
                    priced = price(option, rule, pupils, school.phase, quantity)
                    buying = priced is not None
                bought_before[item.service_id] = buying
                line = {
                    "choice_id": choice_id,
                    "service_id": item.service_id,
                    "buying": buying,
                    "option_id": option.id if buying and option else None,
                    "quantity": quantity,
                    "net_pence": priced.net_pence if buying else None,
                    "vat_pence": priced.vat_pence if buying else None,
                }
                lines.append(line)
                frozen.append(
                    {
                        "service_id": item.service_id,
                        "service": item.service_name,
                        "buying": buying,
                        "option_id": line["option_id"],
                        "option": option.name if buying and option else None,
                        "unit": option.unit if buying and option else None,
                        "quantity": quantity,
                        "net_pence": line["net_pence"] or 0,
                        "vat_pence": line["vat_pence"] or 0,
                    }
                )
                if submitted and buying:
                    income[item.offer_id] += priced.net_pence
            submitter = rng.choice(leads) if leads and rng.random() < 0.3 else people[0]
            editor = people[0] if submitted or rng.random() < 0.6 else rng.choice(people)
            purchase_order = (
                f"PO{rng.randint(100_000, 999_999)}" if submitted and rng.random() < 0.4 else None
            )
            number = 2 if submitted and rng.random() < 0.2 else 1
            choices.append(
                {
                    "id": choice_id,
                    "school_id": school.id,
                    "window_id": window.id,
                    "status": ChoiceStatus.SUBMITTED if submitted else ChoiceStatus.DRAFT,
                    "purchase_order": purchase_order,
                    "updated_at": moment,
                    "updated_by_id": submitter if submitted else editor,
                    "submitted_at": moment if submitted else None,
                    "version": number + rng.randint(0, 2) if submitted else rng.randint(1, 4),
                }
            )
            if submitted:
                for version in range(1, number + 1):
                    # A resubmission: the school changed its mind about one service.
                    kept = frozen if version == number else _one_fewer(frozen)
                    submission_id = (
                        next_submission + len(submissions) + totals["buyback_submissions"]
                    )
                    answers.extend(submission_answers(submission_id, kept))
                    submissions.append(
                        {
                            "id": submission_id,
                            "choice_id": choice_id,
                            "number": version,
                            "submission_key": f"scale-{choice_id}-{version}",
                            "submitted_at": moment - timedelta(days=number - version),
                            "submitted_by_id": submitter,
                            "purchase_order": purchase_order,
                            "lines": kept,
                            "net_pence": sum(line["net_pence"] for line in kept),
                            "vat_pence": sum(line["vat_pence"] for line in kept),
                        }
                    )
        if len(lines) >= BATCH * 4:
            flush()
    flush()
    # What each generated traded service costs to deliver: most pay their way, some do not.
    # At ten times the largest council a service can take more than the column holds.
    costs = [
        {
            "id": offer.id,
            "delivery_cost_pence": min(
                round(max(income[offer.id], 500_000) * rng.uniform(0.75, 1.3)), MAX_PENCE
            ),
        }
        for offer in offers
        if offer.id in run.generated_offers
    ]
    if costs:
        session.execute(update(ServiceOffer), costs)
    run.done("buy-back", **totals)


def _quantity(rng: random.Random, rule: PriceRule, pupils: int) -> int:
    if rule.pack_size is not None:
        return rng.randint(1, 3)
    if rule.unit in ("employee", "post"):
        return max(5, pupils // rng.randint(10, 16))  # roughly the school's staff
    return rng.choice([1, 1, 2, 3, 4, 5, 6, 8, 10, 12])


def _one_fewer(frozen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines as first submitted: one service bought that the school later dropped, or
    the other way round."""
    if not frozen:
        return frozen
    earlier = [dict(line) for line in frozen]
    changed = earlier[len(earlier) // 2]
    if changed["buying"]:
        changed.update(buying=False, option_id=None, option=None, unit=None)
        changed.update(net_pence=0, vat_pence=0)
    return earlier


def _first_year_windows(run: _Run) -> None:
    """The year before the demo's: both cohorts' windows, long closed."""
    year = YEARS[0]
    if run.session.scalar(select(func.count(BuybackWindow.id)).where(BuybackWindow.year == year)):
        return

    def at(*parts: int) -> datetime:
        return datetime(*parts, tzinfo=LONDON)

    run.session.add_all(
        [
            BuybackWindow(
                year=year,
                cohort=Cohort.MAINTAINED,
                opens_at=at(year - 1, 1, 6, 9),
                closes_at=at(year - 1, 3, 3, 17),
                created_at=at(year - 2, 12, 1, 9),
            ),
            BuybackWindow(
                year=year,
                cohort=Cohort.ACADEMIES,
                opens_at=at(year - 1, 5, 1, 9),
                closes_at=at(year - 1, 6, 30, 17),
                created_at=at(year - 2, 12, 1, 9),
            ),
        ]
    )
    run.session.flush()


def _support(run: _Run) -> None:
    rng = run.rng
    session = run.session
    officers: dict[int, list[int]] = defaultdict(list)
    for user_id, area_id in session.execute(
        select(Membership.user_id, Membership.area_id)
        .where(Membership.role == Role.CAF_OFFICER)
        .order_by(Membership.user_id)
    ):
        officers[area_id].append(user_id)
    targets = {urgency: response_target_days(urgency) for urgency in Urgency}
    retention = months_before(run.today, current_app.config["SUPPORT_RETENTION_MONTHS"])
    # Bigger schools ask more often, though not in proportion.
    weights = [school.pupils**0.5 for school in run.schools]
    next_request = run.next_id(SupportRequest)
    requests: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    totals: Counter[str] = Counter()
    kinds, kind_weights = zip(
        (SupportKind.ADVICE, 35),
        (SupportKind.COMPLETING, 30),
        (SupportKind.TEAM_AROUND_THE_FAMILY, 15),
        (SupportKind.LEAD_PROFESSIONAL, 12),
        (SupportKind.TRAINING, 8),
        strict=True,
    )
    for school in rng.choices(run.schools, weights, k=run.plan.support_requests):
        request_id = next_request + len(requests) + totals["support_requests"]
        area_id = run.areas[school.area_code].id
        people = run.school_people[school.id]
        leads = (
            run.trust_leads.get(run.trusts[school.trust].id, []) if school.trust is not None else []
        )
        requester = rng.choice(leads) if leads and rng.random() < 0.05 else rng.choice(people)
        submitted = _working_moment(rng, run.today)
        local = submitted.astimezone(LONDON)
        urgency = rng.choices(list(Urgency), [60, 30, 10])[0]
        consent = rng.random() < 0.9
        kind = rng.choices(kinds, kind_weights)[0]
        if not consent and kind not in (SupportKind.ADVICE, SupportKind.TRAINING):
            kind = SupportKind.ADVICE
        about_a_child = kind is not SupportKind.TRAINING
        by_phone = rng.random() < 0.3
        row: dict[str, Any] = {
            "id": request_id,
            "reference": f"CAF-{local.year}-{request_id:06d}",
            "submission_key": f"scale-{request_id}",
            "school_id": school.id,
            "area_id": area_id,
            "requester_id": requester,
            "kind": kind,
            "consent": consent,
            "child_initials": "".join(rng.choices("ABCDEFGHJKLMNPRSTW", k=2))
            if consent and about_a_child
            else None,
            "child_year_group": rng.choice(YEAR_GROUPS.get(school.phase, _ALL_YEAR_GROUPS))
            if about_a_child
            else None,
            "level_of_need": rng.choice(list(LevelOfNeed)) if about_a_child else None,
            "needs": sorted(rng.sample(_NEEDS, rng.randint(1, 3))) if about_a_child else [],
            "urgency": urgency,
            "contact_by": "phone" if by_phone else "email",
            "contact_phone": f"+447700900{rng.randint(0, 999):03d}" if by_phone else None,
            "contact_times": rng.choice(CONTACT_TIMES) if by_phone else None,
            "details": rng.choice(DETAILS),
            "submitted_at": submitted,
            "respond_by": add_working_days(local.date(), targets[urgency]),
            "anonymised_at": None,
        }
        timeline = _timeline(rng, kind, urgency, submitted, run.today)
        officer = rng.choice(officers[area_id])
        status = SupportStatus.NEW
        first_response = None
        events.append(_event(request_id, submitted, requester, None, SupportStatus.NEW, None, True))
        for moment, to_status, note, shared in timeline:
            events.append(
                _event(
                    request_id,
                    moment,
                    officer,
                    status if to_status else None,
                    to_status,
                    note,
                    shared,
                )
            )
            if first_response is None and (to_status is not None or shared):
                first_response = moment
            if to_status is not None:
                if to_status is SupportStatus.IN_PROGRESS:
                    row["meeting_on"] = (moment + timedelta(days=rng.randint(3, 15))).date()
                elif to_status is SupportStatus.CLOSED:
                    row["outcome"] = _outcome(rng, kind)
                elif to_status is SupportStatus.REDIRECTED:
                    row["redirect_reason"] = rng.choice(list(RedirectReason))
                status = to_status
        updated = timeline[-1][0] if timeline else submitted
        row |= {
            "status": status,
            "assigned_officer_id": officer if timeline else None,
            "first_response_at": first_response,
            "updated_at": updated,
            "version": 1 + len(timeline),
        }
        for name in ("meeting_on", "outcome", "redirect_reason"):
            row.setdefault(name, None)
        if not status.is_open and updated < retention:
            # What `flask support anonymise` would already have done to it.
            row |= {
                "child_initials": None,
                "child_year_group": None,
                "needs": [],
                "details": None,
                "contact_phone": None,
                "contact_times": None,
                "anonymised_at": updated,
            }
            for event in events[len(events) - len(timeline) :]:
                event["note"] = None
        requests.append(row)
        if len(requests) == BATCH:
            totals["support_requests"] += run.insert(SupportRequest, requests)
            totals["support_events"] += run.insert(SupportEvent, events)
            requests.clear()
            events.clear()
    totals["support_requests"] += run.insert(SupportRequest, requests)
    totals["support_events"] += run.insert(SupportEvent, events)
    run.done("support", **totals)


def _working_moment(rng: random.Random, today: datetime) -> datetime:
    """A time in school hours on a weekday within the last two years."""
    day = today.date() - timedelta(days=rng.randint(1, 730))
    if day.weekday() >= 5:
        day -= timedelta(days=day.weekday() - 4)
    moment = datetime.combine(day, clock(rng.randint(8, 16), rng.randint(0, 59)), tzinfo=LONDON)
    return moment.astimezone(UTC)


def _timeline(
    rng: random.Random, kind: SupportKind, urgency: Urgency, start: datetime, today: datetime
) -> list[tuple[datetime, SupportStatus | None, str | None, bool]]:
    """What the officer did, in order, as far as it has got by today."""
    A, IP, C, R = (
        SupportStatus.ACKNOWLEDGED,
        SupportStatus.IN_PROGRESS,
        SupportStatus.CLOSED,
        SupportStatus.REDIRECTED,
    )
    hours = {Urgency.URGENT: (1, 30), Urgency.SOON: (2, 72), Urgency.ROUTINE: (4, 200)}[urgency]
    if rng.random() < 0.03:
        hours = (300, 600)  # the one that slipped through: overdue in the queue
    path: list[tuple[float, SupportStatus | None]] = [(rng.uniform(*hours), A)]
    fate = rng.random()
    if fate < 0.1:
        path.append((rng.uniform(2, 72), R))
    elif fate < 0.3 or kind in (SupportKind.ADVICE, SupportKind.TRAINING):
        path.append((rng.uniform(24, 500), C))
    else:
        path.append((rng.uniform(48, 480), IP))
        if rng.random() < 0.5:
            path.append((rng.uniform(24, 240), None))  # a note on the way
        path.append((rng.uniform(240, 1_900), C))
    timeline = []
    moment = start
    for delay, status in path:
        moment += timedelta(hours=delay)
        if moment >= today:
            break
        shared = status is not None or rng.random() < 0.5
        note = None
        if status is None or rng.random() < 0.4:
            note = rng.choice(SHARED_NOTES if shared else PRIVATE_NOTES)
        timeline.append((moment, status, note, shared))
    return timeline


def _event(
    request_id: int,
    moment: datetime,
    actor: int,
    from_status: SupportStatus | None,
    to_status: SupportStatus | None,
    note: str | None,
    shared: bool,
) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "occurred_at": moment,
        "actor_id": actor,
        "from_status": from_status,
        "to_status": to_status,
        "note": note,
        "shared_with_school": shared,
        # Generated requests are worked by the officer they were routed to: no hand-overs.
        "assignment": False,
    }


def _outcome(rng: random.Random, kind: SupportKind) -> SupportOutcome:
    if kind in (SupportKind.ADVICE, SupportKind.TRAINING):
        return rng.choices(
            [SupportOutcome.ADVICE_GIVEN, SupportOutcome.NO_FURTHER_ACTION], [80, 20]
        )[0]
    return rng.choices(list(SupportOutcome), [55, 20, 10, 15])[0]


# Tables given ids worked out here rather than by the database.
_ID_TABLES = (Trust, School, User, Contact, Service, ServiceOffer, PriceOption)
_ID_TABLES += (BuybackChoice, BuybackSubmission, SupportRequest)


def _move_sequences_on(run: _Run) -> None:
    """On PostgreSQL, move each id sequence past the ids written here, so that the next row
    the portal adds does not reuse one. (SQLite takes the largest id plus one anyway.)"""
    if run.session.get_bind().dialect.name != "postgresql":
        return
    for model in _ID_TABLES:
        table = model.__tablename__
        run.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        )


def describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in counts.items())
