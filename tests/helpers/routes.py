"""The access matrix's paths (tests/access/test_access_matrix.py) made real: each
``{kind:key}`` in a path, like ``/schools/{school:125601}``, becomes that demo record's id.
The access matrix, the query budget, the weight budget and the security checks ask for the
same pages this way."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import (
    Area,
    BuybackWindow,
    Contact,
    School,
    Service,
    ServiceCategory,
    SupportRequest,
    User,
)


def id_of(session: Session, kind: str, key: str) -> int | str:
    queries = {
        "school": lambda: select(School.id).where(School.urn == int(key)),
        "area": lambda: select(Area.id).where(Area.code == key),
        "contact": lambda: select(Contact.id).where(Contact.name == key),
        # A demo support request, by its fixed submission key.
        "support": lambda: select(SupportRequest.id).where(SupportRequest.submission_key == key),
        # Services by name: their id, or the public UUID the Open Referral API uses.
        "service": lambda: select(Service.id).where(Service.name == key),
        "public": lambda: select(Service.public_id).where(Service.name == key),
        "category": lambda: select(ServiceCategory.id).where(ServiceCategory.name == key),
        # A buy-back window by year and cohort, like 2027-maintained.
        "user": lambda: select(User.id).where(User.email == key),
        "window": lambda: select(BuybackWindow.id).where(
            BuybackWindow.year == int(key.split("-")[0]),
            BuybackWindow.cohort == key.split("-")[1],
        ),
    }
    found = session.scalar(queries[kind]())
    assert found is not None, f"no demo {kind} {key}"
    return found


def resolve(session: Session, path: str) -> str:
    """``path`` with each ``{kind:key}`` replaced by that demo record's id."""
    return re.sub(r"\{(\w+):([^}]+)\}", lambda m: str(id_of(session, m.group(1), m.group(2))), path)
