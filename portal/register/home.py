"""What the schools register asks of a council administrator, on their home page: a file
checked and not yet applied (the file is removed once it has waited too long), and schools
an import flagged for a person to review."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import func, select

from portal.access import Capability, Principal
from portal.clock import london_time
from portal.db import db
from portal.models import ImportStatus, RegisterImport, School
from portal.pricing import plural
from portal.todo import ToDo, ToDoList


def home_tasks(who: Principal) -> ToDoList | None:
    if not who.can(Capability.ADMINISTER):
        return None
    items = []
    # "Checked, not applied" (register/macros.html): a dry run whose file is still kept.
    waiting = db.session.execute(
        select(
            RegisterImport.id,
            RegisterImport.filename,
            RegisterImport.created_at,
            RegisterImport.finished_at,
            func.count().over().label("total"),
        )
        .where(RegisterImport.status == ImportStatus.READY, RegisterImport.stored_path != "")
        .order_by(RegisterImport.id.desc())
        .limit(1)
    ).one_or_none()
    if waiting is not None:
        # `register tidy` removes a file this long after its check finished.
        kept_until = (waiting.finished_at or waiting.created_at) + timedelta(
            days=current_app.config["REGISTER_IMPORT_KEEP_DAYS"]
        )
        several = waiting.total > 1
        items.append(
            ToDo(
                f"{plural(waiting.total, 'register file')} checked, not applied",
                url_for("register.index")
                if several
                else url_for("register.show", import_id=waiting.id),
                hint=f"{'The latest, ' if several else ''}{waiting.filename}, was uploaded on "
                f"{london_time(waiting.created_at)}: read what it would change, then apply it. "
                f"Its file is kept until {london_time(kept_until, '%-d %B %Y')}.",
                status="Checked, not applied",
                colour="yellow",
            )
        )
    reviews = db.session.scalar(
        select(func.count(School.id)).where(School.review_note.is_not(None))
    )
    if reviews:
        items.append(
            ToDo(
                f"{plural(reviews, 'school')} flagged for review",
                url_for("register.reviews"),
                hint="An import found something a person must look at, such as a successor "
                "school: check each, then mark it as reviewed.",
            )
        )
    return ToDoList("Schools register", tuple(items))
