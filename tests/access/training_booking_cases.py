"""The access matrix's cases for training: booking routes (see test_access_matrix.py).

Training's demo data comes with the seed (h8); until then these cases use ids that no
record has, which shows who may use each route (404 inside it, 403 outside it). The
answers for real courses and bookings, another school's among them, are in
tests/training/test_booking_access.py, which makes its own records.
"""

from __future__ import annotations

from tests.access.cases import Case

# Everyone signed in finds courses (VIEW_TRAINING).
VIEWERS = (
    "school_staff",
    "head_teacher",
    "academy_head",
    "trust_lead",
    "caf_officer",
    "publisher",
    "la_admin",
    "training_coordinator",
)
# Those who book places for a school (BOOK_TRAINING).
BOOKERS = ("school_staff", "head_teacher", "academy_head", "trust_lead")
# Those who choose who approves a school's bookings (SET_TRAINING_APPROVAL).
LEADERS = ("head_teacher", "academy_head", "trust_lead")
NO_ID = 999999

BOOKING_CASES: list[Case] = [
    Case("GET", "/training/", "/training/", VIEWERS, denied=403),
    Case("GET", "/training/?q=safe", "/training/", VIEWERS, denied=403, htmx=True, anonymous=401),
    Case(
        "GET",
        "/training/?area=all&from=2030-01-01&to=2030-12-31&level=teachers&cost=free&places=1",
        "/training/",
        VIEWERS,
        denied=403,
    ),
    Case(
        "GET",
        f"/training/courses/{NO_ID}",
        "/training/courses/<int:course_id>",
        VIEWERS,
        ok=404,
        denied=403,
    ),
    Case(
        "GET",
        f"/training/sessions/{NO_ID}/book",
        "/training/sessions/<int:session_id>/book",
        BOOKERS,
        ok=404,
        denied=403,
    ),
    Case(
        "POST",
        f"/training/sessions/{NO_ID}/book",
        "/training/sessions/<int:session_id>/book",
        BOOKERS,
        ok=404,
        denied=403,
    ),
    Case("GET", "/training/bookings", "/training/bookings", BOOKERS, denied=403),
    Case(
        "GET",
        "/training/bookings?when=past&status=refused",
        "/training/bookings",
        BOOKERS,
        denied=403,
        htmx=True,
        anonymous=401,
    ),
    Case(
        "GET",
        f"/training/bookings/{NO_ID}",
        "/training/bookings/<int:booking_id>",
        VIEWERS,
        ok=404,
        denied=403,
    ),
    Case(
        "POST",
        f"/training/bookings/{NO_ID}/approve",
        "/training/bookings/<int:booking_id>/approve",
        BOOKERS,
        ok=404,
        denied=403,
    ),
    Case(
        "GET",
        f"/training/bookings/{NO_ID}/refuse",
        "/training/bookings/<int:booking_id>/refuse",
        BOOKERS,
        ok=404,
        denied=403,
    ),
    Case(
        "POST",
        f"/training/bookings/{NO_ID}/refuse",
        "/training/bookings/<int:booking_id>/refuse",
        BOOKERS,
        ok=404,
        denied=403,
    ),
    Case("GET", "/training/settings", "/training/settings", LEADERS, denied=403),
    # Sent empty: the form says what is missing.
    Case("POST", "/training/settings", "/training/settings", LEADERS, denied=403),
    Case(
        "GET",
        "/training/settings?school={school:125601}",
        "/training/settings",
        ("head_teacher",),
        denied=403,
        exceptions=(("academy_head", 404), ("trust_lead", 404)),
    ),
    Case(
        "GET",
        "/training/settings?school={school:140202}",
        "/training/settings",
        ("trust_lead",),
        denied=403,
        exceptions=(("head_teacher", 404), ("academy_head", 404)),
    ),
]

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
