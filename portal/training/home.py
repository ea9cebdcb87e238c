"""What training asks of a person on their home page: the bookings waiting for their
approval (a head teacher's, a trust lead's, a school's named training lead's); for those
who manage training, the registers of sessions held that nobody has taken yet."""

from __future__ import annotations

from flask import url_for

from portal.access import Capability, Principal
from portal.clock import london_time
from portal.models import BookingStatus
from portal.pricing import plural
from portal.todo import ToDo, ToDoList
from portal.training.approval import awaiting_approval_count
from portal.training.register import registers_to_take

# The registers listed on the home page; the rest are found from the courses' list.
REGISTERS_SHOWN = 5


def home_tasks(who: Principal) -> ToDoList | None:
    if who.can(Capability.MANAGE_TRAINING):
        return _registers()
    if not who.can(Capability.BOOK_TRAINING):
        return None
    count = awaiting_approval_count(who)
    items: tuple[ToDo, ...] = ()
    if count:
        items = (
            ToDo(
                f"{plural(count, 'training booking')} to approve",
                url_for("training.bookings", status=BookingStatus.AWAITING_APPROVAL.value),
                hint="Approve each place, or refuse it with a reason.",
            ),
        )
    return ToDoList("Training", items)


def _registers() -> ToDoList:
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
    return ToDoList("Training", items, more)
