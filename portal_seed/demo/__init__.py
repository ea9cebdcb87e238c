"""Demo data: a fictional county council, its areas, schools, trusts and demo accounts.

Every person here is invented and every e-mail address is on a reserved ``.example`` domain.
The structure (areas, school types and phases, trusts, roles) is the real one. Running the
seed again changes nothing that is already there.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from portal.accounts.tokens import add_token
from portal.auth.two_factor import DEMO_TOTP_SECRET
from portal.buyback.answers import Answer, current_answers, read_answers, read_seen, seen_text
from portal.buyback.choices import get_choice, save
from portal.buyback.choices import submit as submit_choice
from portal.buyback.offered import offered_to
from portal.clock import LONDON, today_in_london, utcnow
from portal.db import db
from portal.models import (
    Area,
    BuybackWindow,
    Cohort,
    Contact,
    ContactRole,
    EstablishmentType,
    Membership,
    MembershipInvitation,
    Phase,
    Role,
    School,
    SchoolStatus,
    SupportRequest,
    SupportStatus,
    TokenPurpose,
    Trust,
    User,
)
from portal.passwords import hash_password
from portal.support.assignment import assign
from portal.support.dates import response_target_days
from portal.support.submission import submit
from portal.support.updates import Update, update
from portal.workdays import add_working_days, is_working_day
from portal_seed.data_files import read_csv, read_json
from portal_seed.services import seed_buyback, seed_services

DEMO_PASSWORD = "portal-demo-2026"

# Each area: its code and name, the register's districts it takes, the first names of its
# contacts and the start of their telephone numbers (demo_areas.json).
_AREAS = read_json("demo_areas.json")
AREAS = [(area["code"], area["name"]) for area in _AREAS]

TRUSTS = [
    (row["group_uid"], row["name"], row["companies_house_number"])
    for row in read_csv("demo_trusts.csv")
]


# name, URN, type, phase, pupils on roll, postcode, area code, trust group UID
SCHOOLS: list[tuple[str, int, EstablishmentType, Phase, int, str, str, str | None]] = [
    (
        row["name"],
        int(row["urn"]),
        EstablishmentType(row["establishment_type"]),
        Phase(row["phase"]),
        int(row["pupils_on_roll"]),
        row["postcode"],
        row["area"],
        row["trust"] or None,
    )
    for row in read_csv("demo_schools.csv")
]


@dataclass(frozen=True)
class DemoAccount:
    email: str
    display_name: str
    role: Role
    school_urn: int | None = None
    trust_uid: str | None = None
    area_code: str | None = None


def _accounts(kind: str) -> list[DemoAccount]:
    """The demo accounts of one kind in ``demo_accounts.csv``: "demo" (those the README and
    the tests sign in as; North has two CAF officers, to share its queue: see _caseload),
    "locked", "buyback season" and "locked staff" (each used below)."""
    return [
        DemoAccount(
            row["email"],
            row["display_name"],
            Role(row["role"]),
            school_urn=int(row["school_urn"]) if row["school_urn"] else None,
            trust_uid=row["trust_uid"] or None,
            area_code=row["area_code"] or None,
        )
        for row in read_csv("demo_accounts.csv")
        if row["kind"] == kind
    ]


ACCOUNTS = _accounts("demo")


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

AREA_FIRST_NAMES: dict[str, list[str]] = {area["code"]: area["first_names"] for area in _AREAS}

# Drama numbers from Ofcom's ranges, so no real telephone rings: 0121 496 0000-0999.
AREA_PHONE_BASE: dict[str, int] = {area["code"]: area["phone_base"] for area in _AREAS}

COUNTYWIDE_CONTACTS = _contacts_serving("countywide")


def seed() -> dict[str, int]:
    """Create whatever of the demo data is missing; returns how many of each there are."""
    session = db.session
    areas = {code: _area(code, name) for code, name in AREAS}
    trusts = {uid: _trust(uid, name, number) for uid, name, number in TRUSTS}
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
        _account(account, schools, trusts, areas)
    _locked_account(schools)
    contacts = _contacts(areas)
    session.commit()
    requests = _support_requests(schools)
    requests += _caseload(schools)

    services = seed_services(schools)
    windows = seed_buyback(schools)
    _buyback_season(schools, trusts, areas)
    _people_to_see_to(schools)
    return {
        "areas": len(areas),
        "trusts": len(trusts),
        "schools": len(schools),
        "demo accounts": len(ACCOUNTS),
        "contacts": contacts,
        "support requests": requests,
        "services": services,
        "buy-back windows": windows,
    }


def _contacts(areas: dict[str, Area]) -> int:
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


# The register's administrative districts each demo area takes (Warwickshire's real ones).
AREA_DISTRICTS: dict[str, list[str]] = {area["code"]: area["districts"] for area in _AREAS}


def _area(code: str, name: str) -> Area:
    area = db.session.scalars(select(Area).where(Area.code == code)).one_or_none()
    if area is None:
        area = Area(code=code, name=name, districts=AREA_DISTRICTS[code])
        db.session.add(area)
    return area


def _trust(uid: str, name: str, number: str) -> Trust:
    trust = db.session.scalars(select(Trust).where(Trust.group_uid == uid)).one_or_none()
    if trust is None:
        trust = Trust(group_uid=uid, name=name, companies_house_number=number)
        db.session.add(trust)
    return trust


def _account(
    account: DemoAccount,
    schools: dict[int, School],
    trusts: dict[str, Trust],
    areas: dict[str, Area],
) -> None:
    user = db.session.scalars(
        select(User).where(func.lower(User.email) == account.email)
    ).one_or_none()
    if user is None:
        user = User(
            email=account.email,
            display_name=account.display_name,
            password_hash=hash_password(DEMO_PASSWORD),
        )
        db.session.add(user)
    if account.role.is_council and user.totp_enabled_at is None:
        user.totp_secret = DEMO_TOTP_SECRET
        user.totp_enabled_at = utcnow()
    school = schools[account.school_urn] if account.school_urn else None
    trust = trusts[account.trust_uid] if account.trust_uid else None
    area = areas[account.area_code] if account.area_code else None
    for membership in user.memberships:
        if (membership.role, membership.school, membership.trust, membership.area) == (
            account.role,
            school,
            trust,
            area,
        ):
            return
    user.memberships.append(Membership(role=account.role, school=school, trust=trust, area=area))


# Someone a stranger has been guessing at: failed sign-ins have locked the browsers the account
# does not know out of it, so the users list shows "Locked" and the council can unlock it.
(LOCKED_ACCOUNT,) = _accounts("locked")


def _locked_account(schools: dict[int, School], account: DemoAccount = LOCKED_ACCOUNT) -> None:
    """The locked demo account, locked again (for the longest a lock lasts) each time the
    demo is seeded, so that the state can be seen whenever the demo is."""
    _account(account, schools, {}, {})
    db.session.flush()
    user = db.session.scalars(select(User).where(User.email == account.email)).one()
    now = utcnow()
    if user.locked_until is None or user.locked_until <= now:
        config = current_app.config
        user.failed_sign_ins = config["LOCKOUT_THRESHOLD"]
        user.locked_until = now + timedelta(minutes=config["LOCKOUT_MAX_MINUTES"])


# A few requests for CAF officer support, so the queue and the statistics have something in
# them. Submitted through the real workflow; their fixed keys make seeding again a no-op.
_SUPPORT_REQUESTS = read_json("demo_support_requests.json")
DEMO_REQUESTS: list[tuple[str, int, str, dict[str, Any]]] = [
    (request["key"], request["urn"], request["requester"], request["answers"])
    for request in _SUPPORT_REQUESTS["requests"]
]


def _support_requests(schools: dict[int, School]) -> int:
    for key, urn, email, answers in DEMO_REQUESTS:
        requester = db.session.scalars(select(User).where(User.email == email)).one()
        request = submit(
            {"consent": "yes", "contact_by": "email", **answers}, schools[urn], requester, key
        )
        if key == "demo-request-1" and request.status is SupportStatus.NEW:
            officer = db.session.scalars(
                select(User).where(User.email == "caf.north@council.example")
            ).one()
            update(
                request,
                Update(to_status=SupportStatus.ACKNOWLEDGED, note="I will call you on Monday."),
                officer,
                request.version,
            )
    return len(DEMO_REQUESTS)


# The North area's queue as two officers share it: requests overdue and due today, given to
# one officer or the other or to nobody yet, and one with its meeting arranged. Dates are set
# back from the day of seeding, with the council's response targets in working days.
# (key, school URN, requester, answers, working days past its respond-by date, whose)
CASELOAD: list[tuple[str, int, str, dict[str, Any], int | None, str | None]] = [
    (
        request["key"],
        request["urn"],
        request["requester"],
        request["answers"],
        request["working_days_late"],
        request["assigned_to"],
    )
    for request in _SUPPORT_REQUESTS["caseload"]
]


def _caseload(schools: dict[int, School]) -> int:
    people = {
        user.email: user
        for user in db.session.scalars(
            select(User).where(
                User.email.in_(
                    [
                        "caf.north@council.example",
                        "caf2.north@council.example",
                        "head@oakfield.example",
                        "trust@meadowtrust.example",
                    ]
                )
            )
        )
    }
    lead = people["caf.north@council.example"]
    today = today_in_london()
    for key, urn, email, answers, late, whose in CASELOAD:
        fresh = (
            db.session.scalar(select(SupportRequest.id).where(SupportRequest.submission_key == key))
            is None
        )
        base = {"consent": "yes", "contact_by": "email", "level": "2a", "needs": ["attendance"]}
        request = submit({**base, **answers}, schools[urn], people[email], key)
        if not fresh:
            continue
        if late is not None:
            # Submitted so that its response target in working days falls ``late`` working
            # days before today (today itself: due today).
            respond_by = today
            for _ in range(late):
                respond_by -= timedelta(days=1)
                while not is_working_day(respond_by):
                    respond_by -= timedelta(days=1)
            target = response_target_days(request.urgency)
            submitted = respond_by
            while add_working_days(submitted, target) > respond_by:
                submitted -= timedelta(days=1)
            request.respond_by = respond_by
            request.submitted_at = request.submitted_at - timedelta(days=(today - submitted).days)
            for event in request.events:
                event.occurred_at = request.submitted_at
            db.session.commit()
        if whose is not None:
            assign(request, people[whose].id, lead)
        if late is None:
            officer = people[whose or "caf.north@council.example"]
            update(
                request,
                Update(to_status=SupportStatus.ACKNOWLEDGED, note="Thank you: I will call you."),
                officer,
                request.version,
            )
            update(
                request,
                Update(
                    to_status=SupportStatus.IN_PROGRESS,
                    meeting_on=add_working_days(today, 5),
                    note="Team Around the Family meeting booked at the school.",
                ),
                officer,
                request.version,
            )
    return len(CASELOAD)


# The buy-back season under way: more schools whose head teachers have accounts (the others
# cannot be reminded by e-mail, so the council's window page lists them to telephone), and
# two returns to this year's maintained window: one as submitted, one changed by staff since.
SEASON_ACCOUNTS = _accounts("buyback season")

# URN, head teacher, submitted (London time), and who changed it since and when.
SEASON_RETURNS: list[tuple[int, str, tuple[int, ...], str | None, tuple[int, ...] | None]] = [
    (
        row["urn"],
        row["head"],
        tuple(row["submitted"]),
        row["changed_by"],
        tuple(row["changed_at"]) if row["changed_at"] else None,
    )
    for row in read_json("demo_buyback_season.json")
]


def _buyback_season(
    schools: dict[int, School], trusts: dict[str, Trust], areas: dict[str, Area]
) -> None:
    """The accounts and returns above, through the buy-back's own workflow, at the moments
    given (in the maintained schools' 2027-28 window, whenever the demo is seeded)."""

    for account in SEASON_ACCOUNTS:
        _account(account, schools, trusts, areas)
    db.session.commit()
    window = db.session.scalars(
        select(BuybackWindow).where(
            BuybackWindow.year == 2027, BuybackWindow.cohort == Cohort.MAINTAINED
        )
    ).one_or_none()
    if window is None:
        return
    london = LONDON

    def person(email: str) -> User:
        return db.session.scalars(select(User).where(User.email == email)).one()

    for urn, head, submitted, changer, changed in SEASON_RETURNS:
        school = schools[urn]
        if get_choice(school, window) is not None:
            continue
        offered = offered_to(school, window.year)
        # Last year's answers, and "not buying" for what is new this year.
        answers = current_answers(school, window, offered, None)
        for item in offered:
            answer = answers.by_service.setdefault(item.service.id, Answer())
            if answer.buying is None or (answer.buying and answer.option_id is None):
                answer.buying, answer.option_id, answer.net_pence = False, None, None
        submit_choice(
            school,
            window,
            None,
            answers,
            offered,
            person(head),
            f"PO-DEMO-{urn}",
            f"demo-2027-{urn}",
            at=datetime(*submitted, tzinfo=london),
        )
        if changer is None or changed is None:
            continue
        # Staff stop buying the first service bought, and buy the first not bought: the head
        # is e-mailed, and the choice page says what is not yet sent.
        choice = get_choice(school, window, with_lines=True)
        shown = current_answers(school, window, offered, choice)
        bought = [i for i in offered if shown.by_service[i.service.id].buying]
        not_bought = [i for i in offered if not shown.by_service[i.service.id].buying]
        items = [*bought[:1], *not_bought[:1]]
        form = {f"answer-{item.service.id}": "no" for item in bought[:1]}
        for item in not_bought[:1]:
            form[f"answer-{item.service.id}"] = "buy"
            form[f"option-{item.service.id}"] = str(item.options[0].id)
        save(
            school,
            window,
            choice,
            read_answers(form, items, school, window.year),
            person(changer),
            offered,
            seen=read_seen(seen_text(shown, items)),
            at=datetime(*changed, tzinfo=london),
        )


# What a head teacher sees to on their home page beyond the buy-back: at Dunchurch Hall, a
# member of staff locked out by failed sign-ins, and an invitation waiting for an answer.
(LOCKED_STAFF,) = _accounts("locked staff")
WAITING_INVITATION = ("new.teacher@dunchurch.example", "Drew Demo-Teacher", 125614)


def _people_to_see_to(schools: dict[int, School]) -> None:
    _locked_account(schools, LOCKED_STAFF)
    email, name, urn = WAITING_INVITATION
    head = db.session.scalars(select(User).where(User.email == "head@dunchurch.example")).one()
    waiting = db.session.scalars(
        select(MembershipInvitation).where(MembershipInvitation.email == email)
    ).first()
    if waiting is None:
        waiting = MembershipInvitation(
            email=email, invited_name=name, role=Role.SCHOOL_STAFF, school=schools[urn]
        )
        db.session.add(waiting)
        # Its link, as inviting sends (never e-mailed: nobody could follow it).
        add_token(
            None,
            TokenPurpose.INVITATION,
            secrets.token_urlsafe(32),
            current_app.config["INVITATION_HOURS"],
            created_by=head,
            invitation=waiting,
        )
    db.session.commit()
