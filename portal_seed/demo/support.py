"""Requests for CAF officer support, submitted and worked on through the portal's workflow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from portal.clock import today_in_london
from portal.db import db
from portal.models import School, SupportRequest, SupportStatus, User
from portal.support.assignment import assign
from portal.support.dates import response_target_days
from portal.support.submission import submit
from portal.support.updates import Update, update
from portal.workdays import add_working_days, is_working_day
from portal_seed.data_files import read_json

# A few requests for CAF officer support, so the queue and the statistics have something in
# them. Submitted through the real workflow; their fixed keys make seeding again a no-op.
_SUPPORT_REQUESTS = read_json("demo_support_requests.json")
DEMO_REQUESTS: list[tuple[str, int, str, dict[str, Any]]] = [
    (request["key"], request["urn"], request["requester"], request["answers"])
    for request in _SUPPORT_REQUESTS["requests"]
]


def add_support_requests(schools: dict[int, School]) -> int:
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


def add_caseload(schools: dict[int, School]) -> int:
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
