"""The annual letter of key contacts: one per school, to its head teacher, printed or e-mailed.

Warwickshire's safeguarding review asked the council's area teams to write to every school
each year: who the key contacts in the team are, how to handle a concern about a child, and
the one key contact to ask first. The letter says that for each school from the portal's own
directory, and the poster (routes.poster) says it on the staffroom wall.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, render_template
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from portal import audit
from portal.access import Capability, Principal, get_school_or_404, school_scope
from portal.accounts.mail import external_url
from portal.clock import utcnow
from portal.contacts.keeping import all_areas
from portal.contacts.key_contacts import ContactGroupView, key_contacts_by_area
from portal.contacts.posters import areas_to_choose
from portal.db import db
from portal.models import (
    Area,
    AuditEvent,
    Contact,
    ContactRole,
    Membership,
    OutboxMessage,
    OutboxStatus,
    Role,
    School,
    SchoolStatus,
    User,
)
from portal.outbox import queue_email
from portal.pagination import Page, paginate

# A letter is one A4 page: its own words take a good part of it, so its contacts' rows take
# at most this many millimetres, less than the poster's (each role's first before any role's
# second; the rest are in the portal). tests/contacts/test_browser.py prints an area that
# fills it, with rows as tall as rows get, and one with as many rows as fit.
LETTER_PER_ROLE = 4
LETTER_ROOM_MM = 80.0


def letter_row_mm(contact: Contact) -> float:
    """A contact's row in a printed letter (council.scss), as Chromium prints it: who, cut
    to one line, with the row's padding and rule; and any out-of-hours line."""
    return 4.5 + 3.2 * bool(contact.out_of_hours)


# The people a school is told to ask first, in this order: the area's CAF officer, and the
# early intervention managers a case is escalated to when the officer is not there.
KEY_CONTACT_ROLES = (ContactRole.CAF_OFFICER,)
ESCALATION_ROLES = (
    ContactRole.EARLY_INTERVENTION_PRIMARY,
    ContactRole.EARLY_INTERVENTION_SECONDARY,
)
SENT = "contact.letters_sent"


@dataclass
class Letter:
    school: School
    # The school's head teachers with an account (usually one): whom it is addressed to.
    heads: list[User]
    groups: list[ContactGroupView]
    key_contact: Contact | None = None
    escalation: list[Contact] = field(default_factory=list)

    @property
    def addressee(self) -> str:
        """Whom the letter is to: the head teacher by name, else their title."""
        names = [head.display_name for head in self.heads]
        if not names:
            return "The head teacher"
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    @property
    def greeting(self) -> str:
        return f"Dear {self.addressee if self.heads else 'head teacher'},"

    @property
    def closing(self) -> str:
        # British letters: "sincerely" to a named person, "faithfully" to a title.
        return "Yours sincerely," if self.heads else "Yours faithfully,"


def heads_of(school_ids: Sequence[int]) -> dict[int, list[User]]:
    """The active head teacher accounts of these schools, by school: one query for them all."""
    heads: dict[int, list[User]] = {}
    for school_id, head in db.session.execute(
        select(Membership.school_id, User)
        .join(Membership.user)
        .where(
            Membership.role == Role.HEAD_TEACHER,
            Membership.school_id.in_(school_ids),
            User.is_active.is_(True),
        )
        .order_by(User.display_name, User.id)
    ):
        heads.setdefault(school_id, []).append(head)
    return heads


def letters_for(schools: Sequence[School]) -> list[Letter]:
    """Each school's letter; two queries (heads, contacts) however many schools and areas."""
    heads = heads_of([school.id for school in schools])
    contacts = key_contacts_by_area(
        {school.area_id for school in schools}, LETTER_PER_ROLE, LETTER_ROOM_MM, letter_row_mm
    )
    letters = []
    for school in schools:
        groups = contacts.get(school.area_id, [])
        shown = [contact for view in groups for contact in view.contacts]
        letters.append(
            Letter(
                school=school,
                heads=heads.get(school.id, []),
                groups=groups,
                key_contact=next((c for c in shown if c.role in KEY_CONTACT_ROLES), None),
                # The first of each: a letter names one person to escalate to per phase.
                escalation=[
                    contact
                    for role in ESCALATION_ROLES
                    for contact in [next((c for c in shown if c.role is role), None)]
                    if contact is not None
                ],
            )
        )
    return letters


@dataclass(frozen=True)
class Printing:
    letters: list[Letter]
    # For an area or every school: which batch of them (None for one chosen school).
    batch: Page[School] | None = None
    # The addresses the letters give (portal_links).
    links: dict[str, str] = field(default_factory=dict)


def to_print(
    who: Principal, *, school_id: int | None, area_id: int | None, page: int, per_print: int
) -> Printing:
    """The letters ``who`` asked to print: one school's (404 outside their scope), or
    ``per_print`` at a time of an area's or of every school they may see (their own school's,
    for school staff, their academies' for a trust). No letters: nothing to print (404)."""
    if school_id is not None:
        return Printing(letters_for([get_school_or_404(who, school_id)]), links=portal_links())
    batch = paginate(schools_for_letters(who, area_id), page, per_print)
    return Printing(letters_for(list(batch.items)), batch, portal_links())


def schools_for_letters(who: Principal, area_id: int | None = None) -> Select[tuple[School]]:
    """The open schools ``who`` may send or print letters for, in one area or all of them."""
    # Each letter names its school's area: loaded with the schools, not one query per area.
    query = (
        select(School)
        .options(joinedload(School.area))
        .where(school_scope(who), School.status == SchoolStatus.OPEN)
    )
    if area_id is not None:
        query = query.where(School.area_id == area_id)
    return query.order_by(School.name, School.id)


# --- e-mailing every head teacher -----------------------------------------------------------


def portal_links() -> dict[str, str]:
    """The addresses a letter gives, in full: on paper and in an e-mail alike."""
    return {
        "portal_url": external_url("main.home"),
        "support_url": external_url("support.start"),
    }


def email_text(letter: Letter, dated: datetime, links: dict[str, str]) -> str:
    """The letter as the e-mail each head teacher gets (templates/email/contacts/letter.txt)."""
    return render_template("email/contacts/letter.txt", letter=letter, dated=dated, **links)


def send_letters(who: Principal, area: Area | None) -> AuditEvent:
    """Queue the letter to every head teacher of every open school (in ``area``, or all):
    one message each, through the outbox. Audited, with what was sent and which schools had
    nobody to send to; the event is what the page that follows reads."""
    schools = list(db.session.scalars(schools_for_letters(who, area.id if area else None)))
    dated = utcnow()
    subject = f"Your key contacts from {current_app.config['COUNCIL_NAME']}"
    links = portal_links()
    messages: list[OutboxMessage] = []
    unreached: list[int] = []
    for letter in letters_for(schools):
        if not letter.heads:
            unreached.append(letter.school.id)
            continue
        # One letter per school, to each of its head teachers (co-heads share a letter).
        text = email_text(letter, dated, links)
        messages.extend(
            queue_email(head.email, f"{subject}: {letter.school.name}", text)
            for head in letter.heads
        )
    db.session.flush()
    event = audit.record(
        SENT,
        actor=who.user,
        subject=area,
        area=area.name if area else None,
        schools=len(schools),
        messages=[message.id for message in messages],
        without_head_teacher=unreached,
    )
    db.session.commit()
    return event


@dataclass(frozen=True)
class LettersSent:
    """What one sending did, read back from its audit event: how many letters there were,
    how many the outbox has sent so far, and which schools had no head teacher to send to."""

    event: AuditEvent
    schools: int
    letters: int
    delivered: int
    waiting: int
    failed: int
    unreached: list[School]


def letters_sent(event_id: int) -> LettersSent | None:
    """What the sending audited as ``event_id`` did, or None if it was no sending."""
    event = db.session.get(AuditEvent, event_id)
    if event is None or event.action != SENT:
        return None
    ids = list(event.detail.get("messages", []))
    counts = dict.fromkeys(OutboxStatus, 0)
    if ids:
        for status in db.session.scalars(
            select(OutboxMessage.status).where(OutboxMessage.id.in_(ids))
        ):
            counts[status] += 1
    unreached = list(
        db.session.scalars(
            select(School)
            .where(School.id.in_(event.detail.get("without_head_teacher", [])))
            .order_by(School.name, School.id)
        )
    )
    return LettersSent(
        event=event,
        schools=int(event.detail.get("schools", 0)),
        letters=len(ids),
        delivered=counts[OutboxStatus.SENT],
        waiting=counts[OutboxStatus.PENDING],
        failed=counts[OutboxStatus.FAILED],
        unreached=unreached,
    )


def last_sending() -> AuditEvent | None:
    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == SENT)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(1)
    ).first()


@dataclass(frozen=True)
class Choice:
    """What council staff choose among to print letters, or to send them: the areas (their
    own, or every one), and for those who send them, when they were last sent."""

    areas: list[Area]
    last: AuditEvent | None
    # Every area, which the form to send the letters offers.
    every_area: list[Area] = field(default_factory=list)


def choice(who: Principal, areas: list[Area]) -> Choice:
    """Of ``areas`` (every area), what ``who`` chooses among (see :class:`Choice`)."""
    last = last_sending() if who.can(Capability.SEND_CONTACT_LETTERS) else None
    return Choice(areas_to_choose(who, areas), last, areas)


def letter_page(
    who: Principal,
    *,
    school_id: int | None,
    area_id: int | None,
    every: bool,
    page: int,
    per_print: int,
) -> Choice | Printing | None:
    """What the letter page shows ``who``: council staff who asked for nothing in particular
    choose what to print or send (Choice); otherwise the letters asked for (Printing: see
    :func:`to_print`), None if there are none to print."""
    if school_id is None and area_id is None and not every and not who.is_school_user:
        return choice(who, all_areas())
    printing = to_print(who, school_id=school_id, area_id=area_id, page=page, per_print=per_print)
    return printing if printing.letters else None
