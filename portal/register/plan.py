"""What an import of the register would change, worked out without touching the database.

The plan is a pure function of the file and a snapshot of the portal's records, so a dry run
and the real import compute exactly the same thing: the real import applies the plan that
its own dry run would have shown.

Rules, from the council's point of view:

* only rows of the council's LA codes are taken; the rest of England is counted and left;
* a school is matched by its URN; a URN the portal does not hold is added, if it is open;
* a closed school is retired (status and date), never deleted; a closure is flagged for
  review when the school has a successor or still has users, whose access is never moved
  by an import;
* a row that cannot be applied (a phase the DfE does not use, a district in no area...) is
  rejected, with its row number and why, and nothing in that row is applied;
* a blank number of pupils, postcode or district keeps what the portal has.

A little over 400 lines: the plan's record types and the rules above are read together, and
splitting them would send a reader of one rule to and fro between files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from portal.models import EstablishmentType, Phase, SchoolStatus
from portal.register.extract import Row, Table
from portal.register.links import Link, Succession
from portal.register.values import (
    CLOSE_DATE,
    CLOSED_STATUSES,
    DISTRICT,
    LA_CODE,
    LA_NAME,
    NAME,
    NOT_YET_OPEN,
    OPEN_STATUSES,
    OPTIONAL_COLUMNS,
    PHASE,
    POSTCODE,
    PUPILS,
    STATUS,
    TRUST_CODE,
    TRUST_NAME,
    TYPE,
    URN,
    RowRejected,
    district_key,
    long_date,
    name_key,
    read_choice,
    read_date,
    read_postcode,
    read_pupils,
    read_urn,
)

NOTE_LENGTH = 300

FIELD_LABELS = {
    "name": "Name",
    "establishment_type": "Type",
    "phase": "Phase",
    "pupils_on_roll": "Pupils on roll",
    "postcode": "Postcode",
    "status": "Status",
    "closed_on": "Closed on",
    "la_code": "LA code",
    "district": "District",
    "area_id": "Area",
    "trust_uid": "Trust",
}


@dataclass(frozen=True)
class KnownSchool:
    """A school as the portal holds it, as far as the register is concerned."""

    id: int
    urn: int
    name: str
    establishment_type: EstablishmentType
    phase: Phase
    pupils_on_roll: int
    postcode: str
    status: SchoolStatus
    closed_on: date | None
    la_code: str | None
    district: str | None
    area_id: int
    trust_uid: str | None
    members: int = 0


@dataclass(frozen=True)
class Snapshot:
    """What the plan needs to know of the portal: its schools, areas and trusts."""

    schools: Mapping[int, KnownSchool]
    area_names: Mapping[int, str]
    area_by_district: Mapping[str, int]
    trusts: Mapping[str, str]
    la_codes: frozenset[str]


@dataclass(frozen=True)
class Addition:
    row: int
    urn: int
    values: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.values["name"])


@dataclass(frozen=True)
class Change:
    row: int
    urn: int
    school_id: int
    name: str
    fields: dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class Closure:
    row: int
    urn: int
    school_id: int
    name: str
    closed_on: date | None
    members: int


@dataclass(frozen=True)
class Review:
    urn: int
    school_id: int | None  # None: a school this import adds
    name: str
    note: str


@dataclass(frozen=True)
class Rejected:
    row: int
    urn: str
    reason: str


@dataclass(frozen=True)
class Skipped:
    row: int
    urn: str
    name: str
    reason: str


@dataclass
class Authority:
    """A local authority with rows in the file that are not the council's."""

    code: str
    name: str  # as the file names it; empty if it has no LA (name) column
    rows: int = 0


@dataclass
class Plan:
    encoding: str
    rows: int = 0
    other_la: int = 0
    # The other local authorities' rows, by LA code, in the order the file first has them.
    other_authorities: dict[str, Authority] = field(default_factory=dict)
    closed_elsewhere: int = 0
    unchanged: int = 0
    absent_columns: list[str] = field(default_factory=list)
    additions: list[Addition] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    closures: list[Closure] = field(default_factory=list)
    reviews: dict[int, Review] = field(default_factory=dict)
    new_trusts: dict[str, str] = field(default_factory=dict)
    renamed_trusts: dict[str, tuple[str, str]] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    missing: list[tuple[int, str]] = field(default_factory=list)

    @property
    def council_rows(self) -> int:
        """The rows for the council's own local authority."""
        return self.rows - self.other_la

    @property
    def has_work(self) -> bool:
        return bool(
            self.additions
            or self.changes
            or self.closures
            or self.reviews
            or self.new_trusts
            or self.renamed_trusts
        )


def plan_import(
    table: Table,
    snapshot: Snapshot,
    succession: Succession | None = None,
    progress: Callable[[int], None] | None = None,
) -> Plan:
    plan = Plan(
        encoding=table.encoding,
        rows=len(table.rows),
        absent_columns=[name for name in OPTIONAL_COLUMNS if not table.has(name)],
    )
    seen: dict[int, int] = {}  # URN -> the row it was first on
    for done, row in enumerate(table.rows, start=1):
        code = row.get(LA_CODE) or ""
        if code in snapshot.la_codes:
            _plan_row(plan, snapshot, row, seen)
        else:
            plan.other_la += 1
            authority = plan.other_authorities.setdefault(
                code, Authority(code, row.get(LA_NAME) or "")
            )
            authority.rows += 1
        if progress is not None:
            progress(done)
    _flag_successions(plan, snapshot, succession)
    plan.missing = sorted(
        (school.urn, school.name)
        for school in snapshot.schools.values()
        if school.status is SchoolStatus.OPEN
        and (school.la_code is None or school.la_code in snapshot.la_codes)
        and school.urn not in seen
    )
    return plan


def _plan_row(plan: Plan, snapshot: Snapshot, row: Row, seen: dict[int, int]) -> None:
    urn_text = row.get(URN) or ""
    try:
        urn = read_urn(urn_text)
        if urn in seen:
            raise RowRejected(f"URN {urn} is also on row {seen[urn]}: each school once")
        seen[urn] = row.number
        _plan_school(plan, snapshot, row, urn)
    except RowRejected as rejection:
        plan.rejected.append(Rejected(row.number, urn_text, str(rejection)))


def _plan_school(plan: Plan, snapshot: Snapshot, row: Row, urn: int) -> None:
    known = snapshot.schools.get(urn)
    status = (row.get(STATUS) or "").casefold()
    name = row.get(NAME) or ""
    if status in NOT_YET_OPEN:
        plan.skipped.append(
            Skipped(row.number, str(urn), name, "proposed to open: added once it opens")
        )
        return
    if status in CLOSED_STATUSES:
        _plan_closed(plan, row, urn, known)
        return
    if status not in OPEN_STATUSES:
        raise RowRejected(f"status “{row.get(STATUS)}” is not one GIAS uses")

    kind = read_choice(EstablishmentType, row.get(TYPE))
    if kind is None:
        if known is not None:
            raise RowRejected(f"type “{row.get(TYPE)}” is not a kind of school the portal covers")
        plan.skipped.append(
            Skipped(row.number, str(urn), name, f"{row.get(TYPE) or 'no type'}: not covered")
        )
        return
    phase = read_choice(Phase, row.get(PHASE))
    if phase is None:
        raise RowRejected(f"phase “{row.get(PHASE)}” is not one GIAS uses")
    if not name:
        raise RowRejected("no establishment name")
    if len(name) > 200:
        raise RowRejected("establishment name is longer than 200 characters")
    pupils = read_pupils(row.get(PUPILS))
    postcode = read_postcode(row.get(POSTCODE))
    if known is None and postcode is None:
        raise RowRejected("no postcode")
    district = row.get(DISTRICT) or None
    if district is not None and len(district) > 100:
        raise RowRejected("district is longer than 100 characters")
    if district is not None:
        area_id = snapshot.area_by_district.get(district_key(district))
        if area_id is None:
            raise RowRejected(f"no area for district {district}: map the district to an area first")
    elif known is not None:
        area_id, district = known.area_id, known.district
    else:
        raise RowRejected("no district (DistrictAdministrative), so no area to place it in")
    trust_uid = _trust(plan, snapshot, row, known)

    values: dict[str, Any] = {
        "name": name,
        "establishment_type": kind,
        "phase": phase,
        "pupils_on_roll": pupils if pupils is not None else (known.pupils_on_roll if known else 0),
        "postcode": postcode or (known.postcode if known else ""),
        "status": SchoolStatus.OPEN,
        "closed_on": None,
        "la_code": row.get(LA_CODE),
        "district": district,
        "area_id": area_id,
        "trust_uid": trust_uid,
    }
    if known is None:
        plan.additions.append(Addition(row.number, urn, values))
        return
    changed = {
        key: (getattr(known, key), value)
        for key, value in values.items()
        if getattr(known, key) != value
    }
    if changed:
        plan.changes.append(Change(row.number, urn, known.id, known.name, changed))
    else:
        plan.unchanged += 1


def _plan_closed(plan: Plan, row: Row, urn: int, known: KnownSchool | None) -> None:
    if known is None:
        # Long-closed schools fill the register; the portal never held this one.
        plan.closed_elsewhere += 1
        return
    closed_on = read_date(row.get(CLOSE_DATE))
    if known.status is SchoolStatus.OPEN:
        plan.closures.append(
            Closure(row.number, urn, known.id, known.name, closed_on, known.members)
        )
    elif closed_on is not None and known.closed_on != closed_on:
        plan.changes.append(
            Change(
                row.number, urn, known.id, known.name, {"closed_on": (known.closed_on, closed_on)}
            )
        )
    else:
        plan.unchanged += 1


def _trust(plan: Plan, snapshot: Snapshot, row: Row, known: KnownSchool | None) -> str | None:
    code = row.get(TRUST_CODE)
    if code is None:  # no such column: the portal's trust stands
        return known.trust_uid if known else None
    if not code:
        return None
    name = row.get(TRUST_NAME) or snapshot.trusts.get(code) or f"Trust {code}"
    if len(code) > 20 or len(name) > 200:
        raise RowRejected("the trust's code or name is too long")
    # Only now that the row is accepted does its trust count.
    if code not in snapshot.trusts:
        plan.new_trusts.setdefault(code, name)
    elif name != snapshot.trusts[code] and code not in plan.renamed_trusts:
        plan.renamed_trusts[code] = (snapshot.trusts[code], name)
    return code


def _flag_successions(plan: Plan, snapshot: Snapshot, succession: Succession | None) -> None:
    """Closed schools with successors or users, and the successors, for a person to review.

    Memberships are never moved: whether the old school's staff should see the new one is
    a decision for a person, not an import (a trust may not want them to).
    """
    by_name = {name_key(a.name): a for a in plan.additions}
    names = {a.urn: a.name for a in plan.additions} | {
        s.urn: s.name for s in snapshot.schools.values()
    }
    for closure in plan.closures:
        links = succession.successors_of(closure.urn) if succession else []
        guessed = False
        if not links and name_key(closure.name) in by_name:
            match = by_name[name_key(closure.name)]
            links, guessed = [Link(match.urn, match.name)], True
        when = long_date(closure.closed_on)
        if links:
            who = ", ".join(
                f"URN {link.urn} {names.get(link.urn) or link.name or ''}".strip() for link in links
            )
            note = (
                f"Closed {when}; successor {who}"
                + (" (same name: likely, not confirmed by a links file)" if guessed else "")
                + ". Its users were not moved: give them access to the successor if they"
                " should have it."
            )
            _review(plan, closure.urn, closure.school_id, closure.name, note)
            for link in links:
                _review_successor(plan, snapshot, link.urn, closure.urn, closure.name, when)
        elif closure.members:
            users = f"{closure.members} user{'s' if closure.members != 1 else ''}"
            note = f"Closed {when}; {users} still belong to it: review their access."
            _review(plan, closure.urn, closure.school_id, closure.name, note)
    if succession is None:
        return
    closing = {c.urn for c in plan.closures}
    for addition in plan.additions:
        for link in succession.predecessors_of(addition.urn):
            old = snapshot.schools.get(link.urn)
            if old is not None and old.urn not in closing:
                _review_successor(plan, snapshot, addition.urn, old.urn, old.name, None)


def _review_successor(
    plan: Plan, snapshot: Snapshot, urn: int, old_urn: int, old_name: str, when: str | None
) -> None:
    note = (
        f"Successor of URN {old_urn} {old_name}"
        + (f" (closed {when})" if when else "")
        + ". Its users were not moved here: invite them if they should have access."
    )
    added = next((a for a in plan.additions if a.urn == urn), None)
    if added is not None:
        _review(plan, urn, None, added.name, note)
    elif urn in snapshot.schools:
        known = snapshot.schools[urn]
        _review(plan, urn, known.id, known.name, note)


def _review(plan: Plan, urn: int, school_id: int | None, name: str, note: str) -> None:
    if urn in plan.reviews:
        note = f"{plan.reviews[urn].note} {note}"
    if len(note) > NOTE_LENGTH:
        note = note[: NOTE_LENGTH - 1] + "…"
    plan.reviews[urn] = Review(urn, school_id, name, note)
