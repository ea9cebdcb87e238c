"""What training asks of a person on their home page: the bookings waiting for their
approval (a head teacher's, a trust lead's, a school's named training lead's), and for those
who decide supply-cover claims (council administrators), each fund's claims waiting for a
decision."""

from __future__ import annotations

from flask import url_for

from portal.access import Capability, Principal
from portal.models import BookingStatus
from portal.pricing import plural
from portal.todo import ToDo, ToDoList
from portal.training.approval import awaiting_approval_count
from portal.training.claim_decisions import waiting_by_fund


def home_tasks(who: Principal) -> ToDoList | None:
    books = who.can(Capability.BOOK_TRAINING)
    decides = who.can(Capability.MANAGE_SUPPLY_FUNDS)
    if not books and not decides:
        return None
    items = (*(_approvals(who) if books else ()), *(_claims() if decides else ()))
    return ToDoList("Training", items)


def _approvals(who: Principal) -> tuple[ToDo, ...]:
    count = awaiting_approval_count(who)
    if not count:
        return ()
    return (
        ToDo(
            f"{plural(count, 'training booking')} to approve",
            url_for("training.bookings", status=BookingStatus.AWAITING_APPROVAL.value),
            hint="Approve each place, or refuse it with a reason.",
        ),
    )


def _claims() -> tuple[ToDo, ...]:
    # The fund's claims page lists those waiting for a decision unless asked for others.
    return tuple(
        ToDo(
            f"{plural(waiting.count, 'supply-cover claim')} waiting for a decision",
            url_for("training.fund_claims", fund_id=waiting.fund_id),
            hint=f"{waiting.fund_name}: approve, part-approve or refuse each.",
        )
        for waiting in waiting_by_fund()
    )
