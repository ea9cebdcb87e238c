"""The access matrix's cases for training: booking routes (see test_access_matrix.py)."""

from __future__ import annotations

from tests.access.cases import Case

BOOKING_CASES: list[Case] = []

# changes to a place (h3): cancelling, answering an offer, swapping who attends. With no demo
# bookings yet (seed-demo's training data comes later), a booking nobody has: not found for
# everyone signed in (every role may view training; the booking is in nobody's scope), the
# sign-in page for nobody. tests/training/test_cancelling.py, test_waiting_list.py and
# test_swapping.py check each role against a real booking (403 for a colleague's, 404 for
# another school's).
_NO_BOOKING = "/training/bookings/999999"
BOOKING_CASES += [
    Case("GET", f"{_NO_BOOKING}/cancel", "/training/bookings/<int:booking_id>/cancel", ()),
    Case("POST", f"{_NO_BOOKING}/cancel", "/training/bookings/<int:booking_id>/cancel", ()),
    Case("GET", f"{_NO_BOOKING}/offer", "/training/bookings/<int:booking_id>/offer", ()),
    Case(
        "POST",
        f"{_NO_BOOKING}/offer/accept",
        "/training/bookings/<int:booking_id>/offer/accept",
        (),
    ),
    Case(
        "POST",
        f"{_NO_BOOKING}/offer/decline",
        "/training/bookings/<int:booking_id>/offer/decline",
        (),
    ),
    Case("GET", f"{_NO_BOOKING}/swap", "/training/bookings/<int:booking_id>/swap", ()),
    Case("POST", f"{_NO_BOOKING}/swap", "/training/bookings/<int:booking_id>/swap", ()),
]
