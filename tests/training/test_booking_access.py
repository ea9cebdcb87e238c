"""Who sees a real course, session and booking (the access matrix's cases use ids no record
has, until the demo data has training): another school's booking is not found."""

from __future__ import annotations

import pytest

from portal.models import BookingStatus, CourseStatus
from tests.conftest import ROLE_ACCOUNTS
from tests.training.factories import (
    OAKFIELD,
    RIVERSIDE,
    make_booking,
    make_course,
    make_session,
    school_by_urn,
)

# What each role gets for a booking at Riverside (an academy of the Meadow trust).
RIVERSIDE_BOOKING = {
    "school_staff": 404,
    "head_teacher": 404,
    "academy_head": 200,
    "trust_lead": 200,
    "caf_officer": 404,
    "publisher": 404,
    "la_admin": 200,
    "training_coordinator": 200,
}
# And for a draft course's page: only those who manage training.
DRAFT_COURSE = {role: 404 for role in RIVERSIDE_BOOKING} | {
    "la_admin": 200,
    "training_coordinator": 200,
}


def known(role: str) -> None:
    if role not in ROLE_ACCOUNTS:
        pytest.skip(f"no demo account for {role} yet")


@pytest.mark.parametrize("role", list(RIVERSIDE_BOOKING))
def test_another_schools_booking_is_not_found(session, client_for, role: str) -> None:
    known(role)
    on = make_session(make_course(session=session), session=session)
    booking = make_booking(
        on,
        school_by_urn(RIVERSIDE, session=session),
        session=session,
        status=BookingStatus.AWAITING_APPROVAL,
    )
    session.commit()
    client = client_for(role)
    assert client.get(f"/training/bookings/{booking.id}").status_code == RIVERSIDE_BOOKING[role]
    if role in ("school_staff", "head_teacher"):
        # Nor can it be approved or refused from another school.
        assert client.get(f"/training/bookings/{booking.id}/refuse").status_code == 404


@pytest.mark.parametrize("role", list(DRAFT_COURSE))
def test_a_draft_course_is_found_only_by_those_who_manage_training(
    session, client_for, role: str
) -> None:
    known(role)
    draft = make_course(session=session, status=CourseStatus.DRAFT)
    make_session(draft, session=session)
    published = make_course(session=session)
    on = make_session(published, session=session)
    session.commit()
    client = client_for(role)
    assert client.get(f"/training/courses/{draft.id}").status_code == DRAFT_COURSE[role]
    assert client.get(f"/training/courses/{published.id}").status_code == 200
    booking_form = client.get(f"/training/sessions/{on.id}/book").status_code
    assert booking_form == (
        200 if role in ("school_staff", "head_teacher", "academy_head", "trust_lead") else 403
    )


def test_an_oakfield_booking_is_seen_by_oakfield(session, client_for) -> None:
    on = make_session(make_course(session=session), session=session)
    booking = make_booking(on, school_by_urn(OAKFIELD, session=session), session=session)
    session.commit()
    for role, expected in (("school_staff", 200), ("head_teacher", 200), ("academy_head", 404)):
        assert client_for(role).get(f"/training/bookings/{booking.id}").status_code == expected
