"""Taking and freeing a place on a session, so that no session is ever over-booked.

A session's ``places_taken`` is changed only here, by one conditional UPDATE in the
statement that takes or frees the place. Two people booking the last place at the same
moment send two such statements; the database runs them one after the other and the second
finds no place left (its row count is 0), on SQLite and PostgreSQL alike, without reading
the count first or holding a lock across the request.
"""

from __future__ import annotations

from sqlalchemy import update

from portal.db import db
from portal.models import CourseSession, SessionStatus


def take_place(session_id: int) -> bool:
    """Take one place on a scheduled session; False if it is full (or cancelled)."""
    taken = db.session.execute(
        update(CourseSession)
        .where(
            CourseSession.id == session_id,
            CourseSession.status == SessionStatus.SCHEDULED,
            CourseSession.places_taken < CourseSession.capacity,
        )
        .values(places_taken=CourseSession.places_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


def free_place(session_id: int) -> None:
    """Give one place back (a booking that held one was cancelled, refused or lapsed)."""
    db.session.execute(
        update(CourseSession)
        .where(CourseSession.id == session_id, CourseSession.places_taken > 0)
        .values(places_taken=CourseSession.places_taken - 1)
        .execution_options(synchronize_session=False)
    )
