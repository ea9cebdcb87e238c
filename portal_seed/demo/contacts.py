"""The demo directory: a full set of contacts for every area, and the countywide services."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.clock import utcnow
from portal.db import db
from portal.models import Area, Contact, ContactRole, User
from portal_seed.data_files import read_csv
from portal_seed.demo.council import ACCOUNTS, AREA_ROWS

EMERGENCY_DUTY_TEAM = "Emergency Duty Team (evenings, weekends, bank holidays): 0121 496 0999"


def _contacts_serving(serves: str) -> list[tuple[ContactRole, str, str | None, str, str | None]]:
    """The demo's contacts that serve ``serves`` ("each area", or "countywide"): an area's
    names have ``{first}`` in them, for the area's own first names (AREA_FIRST_NAMES)."""
    return [
        (
            ContactRole(row["role"]),
            row["name"],
            row["job_title"] or None,
            row["help_with"],
            row["out_of_hours"].format(emergency_duty_team=EMERGENCY_DUTY_TEAM) or None,
        )
        for row in read_csv("demo_contacts.csv")
        if row["serves"] == serves
    ]


# Per area: role, name, job title, what to contact them about, out-of-hours alternative.
AREA_CONTACTS = _contacts_serving("each area")

AREA_FIRST_NAMES: dict[str, list[str]] = {area["code"]: area["first_names"] for area in AREA_ROWS}

# Drama numbers from Ofcom's ranges, so no real telephone rings: 0121 496 0000-0999.
AREA_PHONE_BASE: dict[str, int] = {area["code"]: area["phone_base"] for area in AREA_ROWS}

COUNTYWIDE_CONTACTS = _contacts_serving("countywide")


def add_contacts(areas: dict[str, Area]) -> int:
    """The demo directory: a full set for every area, and the countywide services."""
    if db.session.scalar(select(func.count(Contact.id))):
        return int(db.session.scalar(select(func.count(Contact.id))) or 0)
    now = utcnow()
    # Each contact records who last checked it: in the demo, the service publisher.
    checker = db.session.scalars(
        select(User).where(User.email == "publisher@council.example")
    ).one_or_none()
    count = 0
    for code, area in areas.items():
        for index, (role, name, title, help_with, out_of_hours) in enumerate(AREA_CONTACTS):
            first = AREA_FIRST_NAMES[code][index]
            person = name.format(first=first, area=area.name)
            email = person.lower().replace(" ", ".").replace("'", "") + "@council.example"
            if role is ContactRole.CAF_OFFICER:
                # The area's CAF officer is the demo CAF officer who signs in for that area.
                officer = next(a for a in ACCOUNTS if a.area_code == code)
                person, email = officer.display_name, officer.email
            contact = Contact(
                name=person,
                job_title=title,
                role=role,
                help_with=help_with,
                phone=f"+44121496{AREA_PHONE_BASE[code] + index:04d}",
                email=email,
                out_of_hours=out_of_hours,
                areas=[area],
                # A few not checked for over a year, so the "needs checking" list has work.
                last_checked_at=now - timedelta(days=400 if index == 4 else 30 + index),
                last_checked_by=checker,
            )
            db.session.add(contact)
            count += 1
    for index, (role, name, _title, help_with, out_of_hours) in enumerate(COUNTYWIDE_CONTACTS):
        mailbox = name.split(" (")[0].lower().replace(",", "").replace(" ", ".")
        db.session.add(
            Contact(
                name=name,
                role=role,
                help_with=help_with,
                phone=f"+44117496{600 + index:04d}",
                email=f"{mailbox}@council.example",
                out_of_hours=out_of_hours,
                countywide=True,
                last_checked_at=now - timedelta(days=60 + index),
                last_checked_by=checker,
            )
        )
        count += 1
    # A service that has closed: retired, so schools no longer see it, but kept in history.
    db.session.add(
        Contact(
            name="Behaviour Support Outreach Team",
            role=ContactRole.SPECIALIST,
            help_with="Outreach support for pupils at risk of exclusion (service closed)",
            phone="+441174960690",
            email="behaviour.support@council.example",
            countywide=True,
            last_checked_at=now - timedelta(days=500),
            last_checked_by=checker,
            retired_at=now - timedelta(days=90),
        )
    )
    return count + 1
