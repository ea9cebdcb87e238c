"""The directory's contacts: people and teams for each area, and some for the whole county."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from portal.models import Contact, ContactRole, contact_area
from portal_seed.data_files import read_json
from portal_seed.demo import AREA_CONTACTS, COUNTYWIDE_CONTACTS, EMERGENCY_DUTY_TEAM
from portal_seed.scale.bulk import Run
from portal_seed.scale.people import invented_name, local_part
from portal_seed.scale.schools import AREA_TOWNS

_TABLES = read_json("scale_tables.json")
CONTACT_ROLES = [(ContactRole(role), count) for role, count in _TABLES["contact_roles"]]
JOB_TITLES = {ContactRole(role): title for role, title in _TABLES["job_titles"].items()}
# Teams, not people: named after the town they work from.
TEAM_ROLES = {ContactRole(role): name for role, name in _TABLES["team_roles"].items()}
COUNTYWIDE_ROLES = {
    ContactRole.EDUCATIONAL_PSYCHOLOGY,
    ContactRole.SEN_TEAM,
    ContactRole.SPECIALIST,
}
_HELP_WITH = {role: help_with for role, _n, _t, help_with, _o in AREA_CONTACTS}
_HELP_WITH |= {role: help_with for role, _n, _t, help_with, _o in COUNTYWIDE_CONTACTS[:2]}
_HELP_WITH[ContactRole.SPECIALIST] = "Specialist advice for pupils with additional needs"
# Ofcom's numbers for drama: none of them rings a real telephone.
DRAMA_NUMBERS: list[str] = _TABLES["drama_numbers"]


def add_contacts(run: Run) -> None:
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
            first, last = invented_name(rng)
            name, local, title = f"{first} {last}", local_part(first, last), JOB_TITLES[role]
        emails[local] += 1
        if emails[local] > 1:
            local += str(emails[local])
        add(role, name, f"{local}@council.example", title, serves)
    run.done(
        "contacts",
        contacts=run.insert(Contact, contacts),
        contact_areas=run.insert(contact_area, areas),
    )
