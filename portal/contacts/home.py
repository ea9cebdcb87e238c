"""What the directory asks of the people who keep it, on their home page: the contacts not
checked for too long (the "needs checking" list), so that schools call the right people."""

from __future__ import annotations

from flask import current_app, url_for
from sqlalchemy import func, select

from portal.access import Capability, Principal
from portal.contacts.keeping import active_contacts, not_checked_for
from portal.db import db
from portal.services.pricing import plural
from portal.todo import ToDo, ToDoList


def home_tasks(who: Principal) -> ToDoList | None:
    if not who.can(Capability.EDIT_CONTACTS):
        return None
    months = current_app.config["CONTACT_CHECK_MONTHS"]
    stale = active_contacts().where(not_checked_for(months)).subquery()
    count = db.session.scalar(select(func.count()).select_from(stale)) or 0
    items: tuple[ToDo, ...] = ()
    if count:
        items = (
            ToDo(
                f"{plural(count, 'contact')} to check",
                url_for("contacts.needs_checking"),
                hint=f"Not checked for more than {plural(months, 'month')}: check that each "
                "is still right, or change it.",
            ),
        )
    return ToDoList("Local contacts", items)
