"""Support requests and their histories, spread over the retention period."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any

from flask import current_app
from sqlalchemy import select

from portal.clock import LONDON, months_before
from portal.models import (
    LevelOfNeed,
    Membership,
    Phase,
    RedirectReason,
    Role,
    SupportEvent,
    SupportKind,
    SupportOutcome,
    SupportRequest,
    SupportStatus,
    Urgency,
)
from portal.support.dates import response_target_days
from portal.workdays import add_working_days
from portal_seed.data_files import read_json
from portal_seed.scale.bulk import Run
from portal_seed.scale.plan import BATCH

_TABLES = read_json("scale_tables.json")
DETAILS: list[str | None] = _TABLES["support_details"]
SHARED_NOTES: list[str] = _TABLES["shared_notes"]
PRIVATE_NOTES: list[str] = _TABLES["private_notes"]
CONTACT_TIMES: list[str | None] = _TABLES["contact_times"]
YEAR_GROUPS = {
    Phase.NURSERY: ["Nursery"],
    Phase.PRIMARY: ["Reception"] + [f"Year {n}" for n in range(1, 7)],
    Phase.MIDDLE_DEEMED_PRIMARY: [f"Year {n}" for n in range(4, 9)],
    Phase.MIDDLE_DEEMED_SECONDARY: [f"Year {n}" for n in range(5, 10)],
    Phase.SECONDARY: [f"Year {n}" for n in range(7, 14)],
    Phase.SIXTEEN_PLUS: ["Year 12", "Year 13"],
}
_ALL_YEAR_GROUPS = ["Reception"] + [f"Year {n}" for n in range(1, 12)]
_NEEDS: list[str] = _TABLES["needs"]


def add_support(run: Run) -> None:
    rng = run.rng
    session = run.session
    officers: dict[int, list[int]] = defaultdict(list)
    for user_id, area_id in session.execute(
        select(Membership.user_id, Membership.area_id)
        .where(Membership.role == Role.CAF_OFFICER)
        .order_by(Membership.user_id)
    ):
        officers[area_id].append(user_id)
    targets = {urgency: response_target_days(urgency) for urgency in Urgency}
    retention = months_before(run.today, current_app.config["SUPPORT_RETENTION_MONTHS"])
    # Bigger schools ask more often, though not in proportion.
    weights = [school.pupils**0.5 for school in run.schools]
    next_request = run.next_id(SupportRequest)
    requests: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    totals: Counter[str] = Counter()
    kinds, kind_weights = zip(
        (SupportKind.ADVICE, 35),
        (SupportKind.COMPLETING, 30),
        (SupportKind.TEAM_AROUND_THE_FAMILY, 15),
        (SupportKind.LEAD_PROFESSIONAL, 12),
        (SupportKind.TRAINING, 8),
        strict=True,
    )
    for school in rng.choices(run.schools, weights, k=run.plan.support_requests):
        request_id = next_request + len(requests) + totals["support_requests"]
        area_id = run.areas[school.area_code].id
        people = run.school_people[school.id]
        leads = (
            run.trust_leads.get(run.trusts[school.trust].id, []) if school.trust is not None else []
        )
        requester = rng.choice(leads) if leads and rng.random() < 0.05 else rng.choice(people)
        submitted = _working_moment(rng, run.today)
        local = submitted.astimezone(LONDON)
        urgency = rng.choices(list(Urgency), [60, 30, 10])[0]
        consent = rng.random() < 0.9
        kind = rng.choices(kinds, kind_weights)[0]
        if not consent and kind not in (SupportKind.ADVICE, SupportKind.TRAINING):
            kind = SupportKind.ADVICE
        about_a_child = kind is not SupportKind.TRAINING
        by_phone = rng.random() < 0.3
        row: dict[str, Any] = {
            "id": request_id,
            "reference": f"CAF-{local.year}-{request_id:06d}",
            "submission_key": f"scale-{request_id}",
            "school_id": school.id,
            "area_id": area_id,
            "requester_id": requester,
            "kind": kind,
            "consent": consent,
            "child_initials": "".join(rng.choices("ABCDEFGHJKLMNPRSTW", k=2))
            if consent and about_a_child
            else None,
            "child_year_group": rng.choice(YEAR_GROUPS.get(school.phase, _ALL_YEAR_GROUPS))
            if about_a_child
            else None,
            "level_of_need": rng.choice(list(LevelOfNeed)) if about_a_child else None,
            "needs": sorted(rng.sample(_NEEDS, rng.randint(1, 3))) if about_a_child else [],
            "urgency": urgency,
            "contact_by": "phone" if by_phone else "email",
            "contact_phone": f"+447700900{rng.randint(0, 999):03d}" if by_phone else None,
            "contact_times": rng.choice(CONTACT_TIMES) if by_phone else None,
            "details": rng.choice(DETAILS),
            "submitted_at": submitted,
            "respond_by": add_working_days(local.date(), targets[urgency]),
            "anonymised_at": None,
        }
        timeline = _timeline(rng, kind, urgency, submitted, run.today)
        officer = rng.choice(officers[area_id])
        status = SupportStatus.NEW
        first_response = None
        events.append(_event(request_id, submitted, requester, None, SupportStatus.NEW, None, True))
        for moment, to_status, note, shared in timeline:
            events.append(
                _event(
                    request_id,
                    moment,
                    officer,
                    status if to_status else None,
                    to_status,
                    note,
                    shared,
                )
            )
            if first_response is None and (to_status is not None or shared):
                first_response = moment
            if to_status is not None:
                if to_status is SupportStatus.IN_PROGRESS:
                    row["meeting_on"] = (moment + timedelta(days=rng.randint(3, 15))).date()
                elif to_status is SupportStatus.CLOSED:
                    row["outcome"] = _outcome(rng, kind)
                elif to_status is SupportStatus.REDIRECTED:
                    row["redirect_reason"] = rng.choice(list(RedirectReason))
                status = to_status
        updated = timeline[-1][0] if timeline else submitted
        row |= {
            "status": status,
            "assigned_officer_id": officer if timeline else None,
            "first_response_at": first_response,
            "updated_at": updated,
            "version": 1 + len(timeline),
        }
        for name in ("meeting_on", "outcome", "redirect_reason"):
            row.setdefault(name, None)
        if not status.is_open and updated < retention:
            # What `flask support anonymise` would already have done to it.
            row |= {
                "child_initials": None,
                "child_year_group": None,
                "needs": [],
                "details": None,
                "contact_phone": None,
                "contact_times": None,
                "anonymised_at": updated,
            }
            for event in events[len(events) - len(timeline) :]:
                event["note"] = None
        requests.append(row)
        if len(requests) == BATCH:
            totals["support_requests"] += run.insert(SupportRequest, requests)
            totals["support_events"] += run.insert(SupportEvent, events)
            requests.clear()
            events.clear()
    totals["support_requests"] += run.insert(SupportRequest, requests)
    totals["support_events"] += run.insert(SupportEvent, events)
    run.done("support", **totals)


def _working_moment(rng: random.Random, today: datetime) -> datetime:
    """A time in school hours on a weekday within the last two years."""
    day = today.date() - timedelta(days=rng.randint(1, 730))
    if day.weekday() >= 5:
        day -= timedelta(days=day.weekday() - 4)
    moment = datetime.combine(day, clock(rng.randint(8, 16), rng.randint(0, 59)), tzinfo=LONDON)
    return moment.astimezone(UTC)


def _timeline(
    rng: random.Random, kind: SupportKind, urgency: Urgency, start: datetime, today: datetime
) -> list[tuple[datetime, SupportStatus | None, str | None, bool]]:
    """What the officer did, in order, as far as it has got by today."""
    A, IP, C, R = (
        SupportStatus.ACKNOWLEDGED,
        SupportStatus.IN_PROGRESS,
        SupportStatus.CLOSED,
        SupportStatus.REDIRECTED,
    )
    hours = {Urgency.URGENT: (1, 30), Urgency.SOON: (2, 72), Urgency.ROUTINE: (4, 200)}[urgency]
    if rng.random() < 0.03:
        hours = (300, 600)  # the one that slipped through: overdue in the queue
    path: list[tuple[float, SupportStatus | None]] = [(rng.uniform(*hours), A)]
    fate = rng.random()
    if fate < 0.1:
        path.append((rng.uniform(2, 72), R))
    elif fate < 0.3 or kind in (SupportKind.ADVICE, SupportKind.TRAINING):
        path.append((rng.uniform(24, 500), C))
    else:
        path.append((rng.uniform(48, 480), IP))
        if rng.random() < 0.5:
            path.append((rng.uniform(24, 240), None))  # a note on the way
        path.append((rng.uniform(240, 1_900), C))
    timeline = []
    moment = start
    for delay, status in path:
        moment += timedelta(hours=delay)
        if moment >= today:
            break
        shared = status is not None or rng.random() < 0.5
        note = None
        if status is None or rng.random() < 0.4:
            note = rng.choice(SHARED_NOTES if shared else PRIVATE_NOTES)
        timeline.append((moment, status, note, shared))
    return timeline


def _event(
    request_id: int,
    moment: datetime,
    actor: int,
    from_status: SupportStatus | None,
    to_status: SupportStatus | None,
    note: str | None,
    shared: bool,
) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "occurred_at": moment,
        "actor_id": actor,
        "from_status": from_status,
        "to_status": to_status,
        "note": note,
        "shared_with_school": shared,
        # Generated requests are worked by the officer they were routed to: no hand-overs.
        "assignment": False,
    }


def _outcome(rng: random.Random, kind: SupportKind) -> SupportOutcome:
    if kind in (SupportKind.ADVICE, SupportKind.TRAINING):
        return rng.choices(
            [SupportOutcome.ADVICE_GIVEN, SupportOutcome.NO_FURTHER_ACTION], [80, 20]
        )[0]
    return rng.choices(list(SupportOutcome), [55, 20, 10, 15])[0]
