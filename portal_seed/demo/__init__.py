"""Demo data: a fictional county council, its areas, schools, trusts and demo accounts.

Every person here is invented and every e-mail address is on a reserved ``.example`` domain.
The structure (areas, school types and phases, trusts, roles) is the real one. Running the
seed again changes nothing that is already there.

``run.seed`` seeds it all, in order: ``council`` (areas, trusts, schools and accounts),
``contacts`` (the directory), ``support`` (requests and an area's caseload), the offer to
schools (``portal_seed.services``), ``buyback`` (the season under way) and ``training``
(courses, sessions, bookings and a supply-cover fund). The data is in
``portal_seed/data/``. What other code imports is re-exported here.
"""

from __future__ import annotations

from portal.auth.two_factor import DEMO_TOTP_SECRET
from portal_seed.demo.contacts import (
    AREA_CONTACTS,
    AREA_FIRST_NAMES,
    COUNTYWIDE_CONTACTS,
    EMERGENCY_DUTY_TEAM,
)
from portal_seed.demo.council import (
    ACCOUNTS,
    AREA_DISTRICTS,
    AREAS,
    DEMO_PASSWORD,
    SCHOOLS,
    TRUSTS,
    DemoAccount,
)
from portal_seed.demo.run import seed

__all__ = [
    "ACCOUNTS",
    "AREAS",
    "AREA_CONTACTS",
    "AREA_DISTRICTS",
    "AREA_FIRST_NAMES",
    "COUNTYWIDE_CONTACTS",
    "DEMO_PASSWORD",
    "DEMO_TOTP_SECRET",
    "EMERGENCY_DUTY_TEAM",
    "SCHOOLS",
    "TRUSTS",
    "DemoAccount",
    "seed",
]
