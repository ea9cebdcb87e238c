"""Schools, trusts and their rolls: invented from the DfE register's names."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import select

from portal.models import Area, EstablishmentType, Phase, School, SchoolRoll, SchoolStatus, Trust
from portal_seed.data_files import read_json
from portal_seed.demo import AREA_DISTRICTS
from portal_seed.scale.bulk import Run
from portal_seed.scale.plan import FIRST_URN, LAST_URN, REGISTER, YEARS, NewSchool, NewTrust

T = EstablishmentType
_TABLES = read_json("scale_tables.json")


# The words where a school's own name ends and its kind begins: "St Editha's" | "Church of
# England Primary School".
_KIND_WORDS = frozenset(_TABLES["kind_words"])
_LEADING_WORDS = frozenset(_TABLES["leading_words"])
_FAITH_WORDS = tuple(_TABLES["faith_words"])
_SAINTLY = tuple(_TABLES["saintly"])
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
AREA_SHARES: dict[str, float] = _TABLES["area_shares"]
AREA_POSTCODES: dict[str, list[str]] = _TABLES["area_postcodes"]
AREA_TOWNS: dict[str, list[str]] = _TABLES["area_towns"]
# The letters a postcode's inward part may use (the Royal Mail leaves out C, I, K, M, O, V).
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# The pupil premium list leaves out maintained nursery schools (no pupils of statutory age),
# which are about 2% of the register's schools: added by hand, named as the register names them.
NURSERY_SHARE = 0.02


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
TRUST_SIZES = [(size, weight) for size, weight in _TABLES["trust_sizes"]]
TRUST_WORDS: list[str] = _TABLES["trust_words"]


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


def add_schools(run: Run) -> None:
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
