"""The access matrix's case: a route, the roles it admits and the answers each must get.

Shared by tests/access/test_access_matrix.py and the lists of cases beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.conftest import ROLE_ACCOUNTS

ROLES = ["anonymous", *ROLE_ACCOUNTS]
SIGNED_IN = list(ROLE_ACCOUNTS)
# The council's roles that see every school, and all the council's roles (every one of them
# signs in with a second factor).
COUNCIL_WIDE = ["la_admin", "publisher", "training_coordinator"]
COUNCIL = ("la_admin", "publisher", "caf_officer", "training_coordinator")
# The council staff who work with the contacts directory: they download it, and print every
# school's letter they serve (Capability.EXPORT_CONTACTS, PRINT_CONTACT_LETTERS).
CONTACTS_STAFF = ("la_admin", "publisher", "caf_officer")
EDITORS = ("la_admin", "publisher")
SUPPORT_VIEWERS = (
    "school_staff",
    "head_teacher",
    "academy_head",
    "trust_lead",
    "caf_officer",
    "la_admin",
)
RAISERS = ("school_staff", "head_teacher", "academy_head", "trust_lead")
ACTIVE_CONTACT = "Educational Psychology Service"
RETIRED_CONTACT = "Behaviour Support Outreach Team"
OAKFIELD_USERS = ["head_teacher", "school_staff"]
NO_RECORD = "00000000-0000-0000-0000-000000000000"
# Shaped like an e-mailed link's token (secrets.token_urlsafe(32)), but never issued.
NO_TOKEN = "A" * 43
MANAGERS = ("la_admin", "head_teacher", "academy_head", "trust_lead")
SCHOOL_LEADERS = ("head_teacher", "academy_head", "trust_lead")
# Council roles without buy-back (Capability.VIEW_BUYBACK): a school's buy-back is refused
# them (403) before any school is looked for.
NO_BUYBACK = ("caf_officer", "training_coordinator")


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # {school:URN}, {area:code}, {contact:name} become that record's id
    rule: str  # the Flask URL rule this case exercises
    allowed: tuple[str, ...]  # roles that get ``ok``
    ok: int = 200
    denied: int = 404  # what a signed-in role outside ``allowed`` gets
    anonymous: int = 302  # what nobody-signed-in gets
    htmx: bool = False
    # Roles whose answer is neither ``ok`` nor ``denied`` (e.g. 403 in scope, 404 outside).
    exceptions: tuple[tuple[str, int], ...] = ()

    def expected(self, role: str) -> int:
        if role in dict(self.exceptions):
            return dict(self.exceptions)[role]
        if role == "anonymous":
            return self.ok if "anonymous" in self.allowed else self.anonymous
        return self.ok if role in self.allowed else self.denied


EVERYONE = tuple(ROLES)
ALL_SIGNED_IN = tuple(SIGNED_IN)


def school(urn: int, *roles: str) -> tuple[str, ...]:
    return (*COUNCIL_WIDE, *roles)


def refused(*roles: str) -> tuple[tuple[str, int], ...]:
    """Exceptions for ``roles`` that may not use the page at all: 403, wherever it is."""
    return tuple((role, 403) for role in roles)
