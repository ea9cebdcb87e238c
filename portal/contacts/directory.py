"""Finding contacts in the directory: a search as someone types, and the directory page as a
person opens it (their own areas' key contacts, or the matching contacts, a page at a time).

A search reads the whole directory once per version of it (cards.cards_cache) and searches
it here, exactly as the database would (tests compare them).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from sqlalchemy import String, bindparam, func, select

from portal.access import (
    Capability,
    Principal,
    visible_area_ids,
    visible_school_names,
)
from portal.contacts.cards import (
    CARD_COLUMNS,
    AreaName,
    ContactCard,
    area_names,
    cards_cache,
    cards_of,
    directory_version,
)
from portal.contacts.key_contacts import PAGE_PER_ROLE, ContactGroupView, key_contacts
from portal.db import db, driver_rows
from portal.models import (
    CONTACT_ROLE_LABELS,
    Area,
    Contact,
    ContactRole,
    contact_area,
    contact_directory,
)
from portal.numbers import record_id
from portal.pagination import Page, page_of

PAGE_SIZE = 20
COUNTYWIDE = "countywide"


@dataclass(frozen=True)
class ContactSearch:
    """What someone asked the directory for: words, a role, an area (or 'countywide')."""

    query: str = ""
    role: ContactRole | None = None
    area: int | str | None = None
    page: int = 1
    # Only those who may see retired contacts may ask for them (see browse).
    include_retired: bool = False

    @property
    def is_active(self) -> bool:
        return bool(self.query or self.role or self.area or self.include_retired)

    @classmethod
    def from_args(cls, args: Any) -> ContactSearch:
        role_value = args.get("role", "")
        area_value = args.get("area", "")
        role = ContactRole(role_value) if role_value in ContactRole._value2member_map_ else None
        area: int | str | None = None
        if area_value == COUNTYWIDE:
            area = COUNTYWIDE
        elif (area_id := record_id(area_value)) is not None:
            area = area_id
        return cls(
            # Spaces made single: a search for words, never for a line break (which
            # Contact.search_text puts between the parts it searches).
            query=" ".join(args.get("q", "").split())[:100],
            role=role,
            area=area,
            page=args.get("page", 1, type=int) or 1,
            include_retired=args.get("retired") == "1",
        )


def _roles_matching(words: str) -> list[ContactRole]:
    lowered = words.lower()
    return [role for role, (label, _) in CONTACT_ROLE_LABELS.items() if lowered in label.lower()]


_NONE: frozenset[int] = frozenset()


@dataclass(frozen=True)
class _Listing:
    """Contacts in the order a search lists them (the database's order of role, name and
    id), and what a search finds them by, as positions in that order: each one's stored
    search text (Contact.search_text, its parts as the database lower-cases them), and
    those of each role, of each area, and the countywide ones."""

    cards: tuple[ContactCard, ...]
    texts: tuple[str, ...]
    by_role: dict[ContactRole, frozenset[int]]
    by_area: dict[int, frozenset[int]]
    countywide: frozenset[int]

    @classmethod
    def of(cls, contacts: list[tuple[ContactCard, str, frozenset[int], bool]]) -> _Listing:
        by_role: dict[ContactRole, set[int]] = {}
        by_area: dict[int, set[int]] = {}
        countywide = set()
        for position, (card, _, area_ids, is_countywide) in enumerate(contacts):
            by_role.setdefault(card.role, set()).add(position)
            for area_id in area_ids:
                by_area.setdefault(area_id, set()).add(position)
            if is_countywide:
                countywide.add(position)
        return cls(
            tuple(card for card, *_ in contacts),
            tuple(text for _, text, *_ in contacts),
            {role: frozenset(found) for role, found in by_role.items()},
            {area_id: frozenset(found) for area_id, found in by_area.items()},
            frozenset(countywide),
        )


class _Directory(NamedTuple):
    """Every contact, and those not retired, as searches list them; the areas' names as the
    database lower-cases them."""

    version: int | None
    everyone: _Listing
    active: _Listing
    area_names: tuple[tuple[int, str], ...]


def _directory(version: int | None) -> _Directory:
    """The directory as it is at ``version`` (or, should it have changed since, as it is
    now: kept under the version read with it, in the same statement, so never stale)."""
    held: _Directory | None = cards_cache.get("directory")
    if held is not None and held.version == version:
        return held
    rows = db.session.execute(_DIRECTORY_QUERY).all()
    if rows:
        version = rows[0].version
    # Each contact's rows (one per area it serves) come together, in the listing's order.
    cards = cards_of(rows)
    areas: dict[int, set[int]] = {contact_id: set() for contact_id in cards}
    lowered: dict[int, str] = {}
    for row in rows:
        if row.area_id is not None:
            areas[row.id].add(row.area_id)
            lowered[row.area_id] = row.area_lowered
    contacts = [
        (card, row.search_text, frozenset(areas[card.id]), row.countywide)
        for card, row in cards.values()
    ]
    found = _Directory(
        version,
        _Listing.of(contacts),
        _Listing.of([contact for contact in contacts if not contact[0].is_retired]),
        tuple(sorted(lowered.items())),
    )
    # One directory kept, the newest asked for: at a large council's scale a few megabytes
    # a process, replaced (not added to) when the directory changes. Not without a
    # version (a database without the directory's number) to keep it under.
    if version is not None:
        cards_cache.put("directory", found)
    return found


_DIRECTORY_QUERY = (
    select(
        *CARD_COLUMNS,
        Contact.search_text,
        contact_area.c.area_id,
        Area.name.label("area_name"),
        func.lower(Area.name).label("area_lowered"),
        # Read in the same statement as the rows, so what is kept under it is what the
        # directory held at it.
        select(contact_directory.c.version).scalar_subquery().label("version"),
    )
    .outerjoin(contact_area, contact_area.c.contact_id == Contact.id)
    .outerjoin(Area, Area.id == contact_area.c.area_id)
    .order_by(Contact.role, Contact.name, Contact.id)
)

# The directory's version now, and the words searched for as the database lower-cases them
# (as it lower-cased Contact.search_text and lower-cases the areas' names for ILIKE).
_VERSION_AND_WORDS = select(
    select(contact_directory.c.version).scalar_subquery(),
    func.lower(bindparam("words", type_=String)),
)


@dataclass(frozen=True)
class Found:
    """A page of a search's cards, and the version of the directory they were found in."""

    page: Page[ContactCard]
    version: int  # as directory_version() gives it


def search(criteria: ContactSearch) -> Found:
    """The contacts that match every part of ``criteria``, a page of cards at a time.

    Asked for while someone types, so it costs one small statement: the directory's version
    (and the words lower-cased by the database). The directory itself is read once per
    version and searched here, exactly as the database would search it (tests compare them):
    the words in any of the contact's name, job title, what they help with or e-mail address
    (Contact.search_text, as LIKE finds them), in the name of an area it serves (as ILIKE),
    in its role's label, or "countywide" for the countywide ones.
    """
    ((version, words),) = driver_rows(_VERSION_AND_WORDS, {"words": criteria.query})
    directory = _directory(version)
    listing = directory.everyone if criteria.include_retired else directory.active
    # The positions chosen so far; None for every one.
    chosen: frozenset[int] | set[int] | None = None
    if criteria.query:
        chosen = {position for position, text in enumerate(listing.texts) if words in text}
        for role in _roles_matching(criteria.query):
            chosen |= listing.by_role.get(role, _NONE)
        if len(criteria.query) >= 4 and "countywide".startswith(criteria.query.lower()):
            chosen |= listing.countywide
        for area_id, name in directory.area_names:
            if words in name:
                chosen |= listing.by_area.get(area_id, _NONE)

    def narrowed(to: frozenset[int]) -> frozenset[int] | set[int]:
        return to if chosen is None else chosen & to

    if criteria.role is not None:
        chosen = narrowed(listing.by_role.get(criteria.role, _NONE))
    if criteria.area == COUNTYWIDE:
        chosen = narrowed(listing.countywide)
    elif isinstance(criteria.area, int):
        chosen = narrowed(listing.by_area.get(criteria.area, _NONE))
    positions = range(len(listing.cards)) if chosen is None else sorted(chosen)
    found = page_of(positions, criteria.page, PAGE_SIZE)
    cards = [listing.cards[position] for position in found.items]
    return Found(replace(found, items=cards), int(directory.version or 0))


@dataclass(frozen=True)
class Browse:
    """The directory page as ``browse`` found it for someone."""

    criteria: ContactSearch
    # With nothing searched for, a person with areas sees their own contacts, grouped.
    show_mine: bool
    # Otherwise a page of the matching contacts.
    page: Page[ContactCard] | None = None
    # Every area, for the filters (None for a search's results alone), and the person's own.
    areas: list[AreaName] | None = None
    my_areas: list[AreaName] = field(default_factory=list)
    # Their own areas' key contacts, and the names of their own schools (none for council
    # staff), when show_mine.
    groups: list[ContactGroupView] = field(default_factory=list)
    my_schools: list[str] = field(default_factory=list)


def browse(who: Principal, criteria: ContactSearch, *, results_only: bool) -> Browse:
    """The directory as ``who`` opens it, searching for ``criteria`` (retired contacts only
    for those who may see them). With nothing searched for, a person with areas sees their
    own contacts, grouped; council-wide staff, and anyone searching, see the matching
    directory, paged (their areas play no part in it). A search as someone types
    (``results_only``) asks for its results alone: no filters, no areas to name."""
    if not who.can(Capability.VIEW_RETIRED_CONTACTS):
        criteria = replace(criteria, include_retired=False)
    my_area_ids = frozenset() if criteria.is_active else visible_area_ids(who) or frozenset()
    show_mine = bool(my_area_ids)
    page = None
    if show_mine:
        version = directory_version()
    else:
        found = search(criteria)
        page = found.page
        version = found.version
    if not show_mine and results_only:
        return Browse(criteria, show_mine, page)
    areas = area_names(version)
    my_areas = [area for area in areas if area.id in my_area_ids]
    if not show_mine:
        return Browse(criteria, show_mine, page, areas, my_areas)
    return Browse(
        criteria,
        show_mine,
        page,
        areas,
        my_areas,
        groups=key_contacts(my_area_ids, PAGE_PER_ROLE, version),
        my_schools=[] if who.has_council_view else visible_school_names(who),
    )
