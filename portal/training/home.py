"""What training asks of a person on their home page: the bookings waiting for their
approval (a head teacher's, a trust lead's, a school's named training lead's)."""

from __future__ import annotations

from flask import url_for

from portal.access import Capability, Principal
from portal.models import BookingStatus
from portal.pricing import plural
from portal.todo import ToDo, ToDoList
from portal.training.approval import awaiting_approval_count


def home_tasks(who: Principal) -> ToDoList | None:
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
