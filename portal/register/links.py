"""GIAS's links file: which establishment took over from which.

Each row links a URN to another (LinkURN) and says how (LinkType). A school that converts
to an academy closes, and the academy opens under a new URN: the old URN's row says
"Successor" and the new one's says "Predecessor" (or "... - merged", "... - amalgamated",
"... - Split School"). Sixth-form and other links are not about succession and are ignored.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from portal.register.extract import read_table

URN = "URN"
LINK_URN = "LinkURN"
LINK_NAME = "LinkName"
LINK_TYPE = "LinkType"
COLUMNS = (URN, LINK_URN, LINK_TYPE)


@dataclass(frozen=True)
class Link:
    urn: int
    name: str | None


@dataclass
class Succession:
    """Successors and predecessors by URN, from either side of each pair of rows."""

    successors: dict[int, list[Link]] = field(default_factory=lambda: defaultdict(list))
    predecessors: dict[int, list[Link]] = field(default_factory=lambda: defaultdict(list))

    def add(self, old: Link, new: Link) -> None:
        _merge(self.successors[old.urn], new)
        _merge(self.predecessors[new.urn], old)

    def successors_of(self, urn: int) -> list[Link]:
        return list(self.successors.get(urn, []))

    def predecessors_of(self, urn: int) -> list[Link]:
        return list(self.predecessors.get(urn, []))


def _merge(links: list[Link], link: Link) -> None:
    """Each URN once; a name learnt from the other side of the pair is kept."""
    for index, known in enumerate(links):
        if known.urn == link.urn:
            if known.name is None and link.name is not None:
                links[index] = link
            return
    links.append(link)


def read_links(raw: bytes) -> Succession:
    """The successions in a links file. Raises ``MalformedFile`` for a file that is not one."""
    table = read_table(raw, COLUMNS, what="GIAS links file")
    succession = Succession()
    for row in table.rows:
        urn, linked = _urn(row.get(URN)), _urn(row.get(LINK_URN))
        kind = (row.get(LINK_TYPE) or "").casefold()
        if urn is None or linked is None:
            continue
        # The name on a row is the *linked* establishment's.
        other = Link(linked, row.get(LINK_NAME) or None)
        if kind.startswith("successor"):
            succession.add(Link(urn, None), other)
        elif kind.startswith("predecessor"):
            succession.add(other, Link(urn, None))
    return succession


def _urn(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) == 6 else None
