"""The access matrix's cases for training: attendee routes (see test_access_matrix.py).

A booking is found only within the scope of the person asking (access.get_booking_or_404),
so one that does not exist answers as another school's does: 404. The demo data has no
bookings yet, so the matrix asks for one that does not exist; who sees a real booking, at
their school or another (404), and who may give its evaluation (403 for those who see it but
are not its attendee), is tested booking by booking in tests/training/test_calendar.py and
test_evaluation.py.
"""

from __future__ import annotations

from tests.access.cases import Case

NO_BOOKING = "/training/bookings/999999"
# Evaluations are given by school staff (Capability.BOOK_TRAINING): the council's roles are
# refused the page outright.
NOT_BOOKERS = (
    ("caf_officer", 403),
    ("publisher", 403),
    ("la_admin", 403),
    ("training_coordinator", 403),
)

ATTENDEE_CASES: list[Case] = [
    # Everyone signed in finds training (VIEW_TRAINING); a booking outside one's scope is 404.
    Case(
        "GET",
        f"{NO_BOOKING}/calendar.ics",
        "/training/bookings/<int:booking_id>/calendar.ics",
        (),
    ),
    Case(
        "GET",
        f"{NO_BOOKING}/evaluation",
        "/training/bookings/<int:booking_id>/evaluation",
        (),
        exceptions=NOT_BOOKERS,
    ),
    Case(
        "POST",
        f"{NO_BOOKING}/evaluation",
        "/training/bookings/<int:booking_id>/evaluation",
        (),
        exceptions=NOT_BOOKERS,
    ),
    Case(
        "GET",
        f"{NO_BOOKING}/certificate",
        "/training/bookings/<int:booking_id>/certificate",
        (),
    ),
]
