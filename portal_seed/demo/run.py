"""Seeding the whole demo, in order, each part skipping what is already there."""

from __future__ import annotations

from sqlalchemy import select

from portal.db import db
from portal.models import School, SchoolStatus
from portal_seed.demo.buyback import add_buyback_season
from portal_seed.demo.contacts import add_contacts
from portal_seed.demo.council import (
    ACCOUNTS,
    AREAS,
    SCHOOLS,
    TRUSTS,
    add_account,
    add_area,
    add_people_to_see_to,
    add_trust,
    lock_account,
)
from portal_seed.demo.support import add_caseload, add_support_requests
from portal_seed.demo.training import add_training
from portal_seed.services import seed_buyback, seed_services


def seed() -> dict[str, int]:
    """Create whatever of the demo data is missing; returns how many of each there are."""
    session = db.session
    areas = {code: add_area(code, name) for code, name in AREAS}
    trusts = {uid: add_trust(uid, name, number) for uid, name, number in TRUSTS}
    session.flush()
    schools = {}
    for name, urn, kind, phase, pupils, postcode, area_code, trust_uid in SCHOOLS:
        school = session.scalars(select(School).where(School.urn == urn)).one_or_none()
        if school is None:
            school = School(
                urn=urn,
                name=name,
                establishment_type=kind,
                phase=phase,
                pupils_on_roll=pupils,
                postcode=postcode,
                status=SchoolStatus.OPEN,
                area=areas[area_code],
                trust=trusts[trust_uid] if trust_uid else None,
            )
            session.add(school)
        schools[urn] = school
    session.flush()
    for account in ACCOUNTS:
        add_account(account, schools, trusts, areas)
    lock_account(schools)
    contacts = add_contacts(areas)
    session.commit()
    requests = add_support_requests(schools)
    requests += add_caseload(schools)

    services = seed_services(schools)
    windows = seed_buyback(schools)
    add_buyback_season(schools, trusts, areas)
    add_people_to_see_to(schools)
    training = add_training(schools)
    return {
        "areas": len(areas),
        "trusts": len(trusts),
        "schools": len(schools),
        "demo accounts": len(ACCOUNTS),
        "contacts": contacts,
        "support requests": requests,
        "services": services,
        "buy-back windows": windows,
        **training,
    }
