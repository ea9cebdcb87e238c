"""The finding and booking pages run at most a dozen SQL statements, and no more with more
courses, sessions and bookings (nothing is read per row)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.models import Approver, BookingStatus, SchoolTrainingSettings, Service, ServiceKind
from tests.training.factories import (
    OAKFIELD,
    make_booking,
    make_course,
    make_session,
    school_by_urn,
)

BUDGET = 12


def add_training(session, how_many: int) -> dict[str, str]:
    """``how_many`` courses (member-priced), each with two sessions and a few bookings at
    Oakfield, one of them waiting for approval; the pages to count."""
    oakfield = school_by_urn(OAKFIELD, session=session)
    service = session.scalars(select(Service).where(Service.kind == ServiceKind.TRADED)).first()
    if session.get(SchoolTrainingSettings, oakfield.id) is None:
        session.add(SchoolTrainingSettings(school_id=oakfield.id, approver=Approver.HEAD_TEACHER))
    first = None
    for number in range(how_many):
        course = make_course(
            session=session,
            price_pence=5000,
            member_price_pence=3000,
            member_service_id=service.id,
        )
        for day in (5, 40):
            on = make_session(
                course, session=session, starts_at=utcnow() + timedelta(days=day + number)
            )
            booking = make_booking(on, oakfield, session=session)
            make_booking(on, oakfield, session=session, status=BookingStatus.WAITING)
            make_booking(on, oakfield, session=session, status=BookingStatus.AWAITING_APPROVAL)
            first = first or (course, on, booking)
    session.commit()
    course, on, booking = first
    return {
        "find": "/training/",
        "course": f"/training/courses/{course.id}",
        "book": f"/training/sessions/{on.id}/book",
        "bookings": "/training/bookings",
        "booking": f"/training/bookings/{booking.id}",
        "home": "/",
    }


@pytest.mark.parametrize("role", ["school_staff", "head_teacher"])
def test_the_pages_stay_within_budget_whatever_they_list(
    session, client_for, count_queries, role: str
) -> None:
    client = client_for(role)

    def counts(pages: dict[str, str]) -> dict[str, int]:
        found = {}
        for name, path in pages.items():
            with count_queries() as counter:
                response = client.get(path)
            assert response.status_code == 200, path
            found[name] = counter.count
        return found

    small = counts(add_training(session, 2))
    assert all(count <= BUDGET for count in small.values()), small
    large = counts(add_training(session, 12))
    assert large == small
