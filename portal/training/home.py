"""What training asks of a person on their home page: the bookings waiting for their
approval (a head teacher's, a trust lead's, a school's named training lead's); for those
who manage training, the registers of sessions held that nobody has taken yet; and for those
who decide supply-cover claims (council administrators), each fund's claims waiting for a
decision."""

from __future__ import annotations

from flask import url_for

from portal.access import Capability, Principal
from portal.clock import london_time
from portal.models import BookingStatus
from portal.pricing import plural
from portal.todo import ToDo, ToDoList
from portal.training.approval import awaiting_approval_count
from portal.training.claim_decisions import waiting_by_fund
from portal.training.register import registers_to_take

# The registers listed on the home page; the rest are found from the courses' list.
REGISTERS_SHOWN = 5


def home_tasks(who: Principal) -> ToDoList | None:
    books = who.can(Capability.BOOK_TRAINING)
    decides = who.can(Capability.MANAGE_SUPPLY_FUNDS)
    manages = who.can(Capability.MANAGE_TRAINING)
    if not books and not decides and not manages:
        return None
    registers, more = _registers() if manages else ((), None)
    items = (
        *(_approvals(who) if books else ()),
        *registers,
        *(_claims() if decides else ()),
    )
    return ToDoList("Training", items, more)


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


def _registers() -> tuple[tuple[ToDo, ...], ToDo | None]:
    """A held session's register says who came: a no-show costs the school the late charge,
    and attending opens the evaluation and certificate, so an untaken register holds both."""
    held = registers_to_take(REGISTERS_SHOWN)
    items = tuple(
        ToDo(
            f"Take the register: {session.course.title}",
            url_for("training.manage_session", session_id=session.id),
            hint=f"Held on {london_time(session.starts_at)}.",
        )
        for session in held[:REGISTERS_SHOWN]
    )
    more = None
    if len(held) > REGISTERS_SHOWN:
        more = ToDo("Every course and its sessions", url_for("training.manage_courses"))
    return items, more
