"""The access matrix's cases for training: booking routes (see test_access_matrix.py).

Each route is asked for with the demo's own training records (tests/access/
training_records.py): one of Oakfield's (the head teacher's and the staff member's school),
one of Riverside's (an academy of the Meadow trust), one of Dunchurch's (no demo school
role's), the draft course, and an id nobody has. Who may is decided by portal/access.py:
Capability.VIEW_TRAINING / BOOK_TRAINING / SET_TRAINING_APPROVAL at the door (403), then
booking_scope (another school's place is not found: 404), may_approve_booking and
may_act_on_booking (403 for one of their school's places that is not theirs to answer or
change). A POST carries only a CSRF token: the form comes back with its errors (200) or the
change is made, or refused, and the page redirects (303).
"""

from __future__ import annotations

from tests.access.cases import Case, refused
from tests.access.training_records import (
    COURSE,
    DRAFT_COURSE,
    DUNCHURCH,
    FULL,
    MANAGERS,
    NO_ID,
    NOT_BOOKERS,
    OAK_AWAITING,
    OAK_COLLEAGUE,
    OAK_EVALUATED,
    OAK_OWN,
    OAK_WAITING,
    OAKFIELD_ROLES,
    PAST,
    RIVERSIDE,
    RIVERSIDE_OFFERED,
    TRUST_ROLES,
    UPCOMING,
)

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
# Refused BOOK_TRAINING's pages before any record is looked for.
NOT_BOOKING = refused(*NOT_BOOKERS)

COURSE_RULE = "/training/courses/<int:course_id>"
BOOK_RULE = "/training/sessions/<int:session_id>/book"
BOOKING_RULE = "/training/bookings/<int:booking_id>"
APPROVE_RULE = f"{BOOKING_RULE}/approve"
REFUSE_RULE = f"{BOOKING_RULE}/refuse"


def _bookings(path: str) -> str:
    return f"/training/bookings/{path}"


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
    # A published course, for everyone signed in; a draft only for those who manage training.
    Case("GET", f"/training/courses/{COURSE}", COURSE_RULE, VIEWERS, denied=403),
    Case("GET", f"/training/courses/{DRAFT_COURSE}", COURSE_RULE, MANAGERS),
    Case("GET", f"/training/courses/{NO_ID}", COURSE_RULE, VIEWERS, ok=404, denied=403),
    # Booking: a session to come, one held (closed to booking, said so), a full one (the
    # waiting list offered), for one's own school and, asked for by id, another's (404).
    *(
        Case(method, f"/training/sessions/{session}/book", BOOK_RULE, BOOKERS, denied=403)
        for session in (UPCOMING, PAST, FULL)
        for method in ("GET", "POST")
    ),
    Case(
        "GET",
        f"/training/sessions/{UPCOMING}/book?school={{school:125601}}",
        BOOK_RULE,
        OAKFIELD_ROLES,
        denied=403,
        exceptions=(("academy_head", 404), ("trust_lead", 404)),
    ),
    Case(
        "GET",
        f"/training/sessions/{UPCOMING}/book?school={{school:140202}}",
        BOOK_RULE,
        ("trust_lead",),
        denied=403,
        exceptions=(("head_teacher", 404), ("school_staff", 404), ("academy_head", 404)),
    ),
    *(
        Case(method, f"/training/sessions/{NO_ID}/book", BOOK_RULE, BOOKERS, ok=404, denied=403)
        for method in ("GET", "POST")
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
    # A booking: its school's people and those who manage training; nobody else finds it.
    Case("GET", _bookings(OAK_OWN), BOOKING_RULE, (*OAKFIELD_ROLES, *MANAGERS)),
    Case("GET", _bookings(OAK_AWAITING), BOOKING_RULE, (*OAKFIELD_ROLES, *MANAGERS)),
    Case("GET", _bookings(RIVERSIDE), BOOKING_RULE, (*TRUST_ROLES, *MANAGERS)),
    Case("GET", _bookings(DUNCHURCH), BOOKING_RULE, MANAGERS),
    Case("GET", _bookings(NO_ID), BOOKING_RULE, ()),
    # Approving: the school's leaders (Oakfield names no training lead, so its staff may
    # not: 403); the council does not approve a school's places (403 at the door). A booking
    # no longer waiting is said so on its page (303).
    Case(
        "POST",
        _bookings(f"{OAK_AWAITING}/approve"),
        APPROVE_RULE,
        ("head_teacher",),
        ok=303,
        exceptions=(("school_staff", 403), *NOT_BOOKING),
    ),
    Case(
        "POST",
        _bookings(f"{RIVERSIDE_OFFERED}/approve"),
        APPROVE_RULE,
        TRUST_ROLES,
        ok=303,
        exceptions=NOT_BOOKING,
    ),
    *(
        Case("POST", _bookings(f"{booking}/approve"), APPROVE_RULE, (), exceptions=NOT_BOOKING)
        for booking in (DUNCHURCH, NO_ID)
    ),
    # Refusing: the form (sent empty, it asks for the reason) for those who may; anyone else
    # who sees the booking is shown it instead (303).
    *(
        Case(
            method,
            _bookings(f"{OAK_AWAITING}/refuse"),
            REFUSE_RULE,
            ("head_teacher",),
            exceptions=(("school_staff", 303), *NOT_BOOKING),
        )
        for method in ("GET", "POST")
    ),
    Case(
        "GET",
        _bookings(f"{RIVERSIDE_OFFERED}/refuse"),
        REFUSE_RULE,
        TRUST_ROLES,
        ok=303,
        exceptions=NOT_BOOKING,
    ),
    *(
        Case(method, _bookings(f"{booking}/refuse"), REFUSE_RULE, (), exceptions=NOT_BOOKING)
        for booking in (DUNCHURCH, NO_ID)
        for method in ("GET", "POST")
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

# changes to a place (h3): cancelling, answering an offer, swapping who attends. Whoever
# booked the place or attends it, the school's leaders, and those who manage training
# (access.may_act_on_booking); a colleague who did neither is refused (403), another
# school's place is not found (404).
CANCEL_RULE = f"{BOOKING_RULE}/cancel"
OFFER_RULE = f"{BOOKING_RULE}/offer"
SWAP_RULE = f"{BOOKING_RULE}/swap"
# Oakfield's place booked by the head teacher for a colleague: not the staff member's.
NOT_STAFFS = (("school_staff", 403),)
BOOKING_CASES += [
    # Sent with only its token, a place to come is cancelled (free: the window is open).
    *(
        Case(method, _bookings(f"{OAK_OWN}/cancel"), CANCEL_RULE, (*OAKFIELD_ROLES, *MANAGERS), ok)
        for method, ok in (("GET", 200), ("POST", 303))
    ),
    *(
        Case(
            method,
            _bookings(f"{OAK_COLLEAGUE}/cancel"),
            CANCEL_RULE,
            ("head_teacher", *MANAGERS),
            ok,
            exceptions=NOT_STAFFS,
        )
        for method, ok in (("GET", 200), ("POST", 303))
    ),
    # A place held already: the page says it can no longer be cancelled.
    Case(
        "POST",
        _bookings(f"{OAK_EVALUATED}/cancel"),
        CANCEL_RULE,
        ("head_teacher", *MANAGERS),
        exceptions=NOT_STAFFS,
    ),
    Case("GET", _bookings(f"{RIVERSIDE}/cancel"), CANCEL_RULE, (*TRUST_ROLES, *MANAGERS)),
    Case("GET", _bookings(f"{DUNCHURCH}/cancel"), CANCEL_RULE, MANAGERS),
    Case("GET", _bookings(f"{NO_ID}/cancel"), CANCEL_RULE, ()),
    Case("POST", _bookings(f"{NO_ID}/cancel"), CANCEL_RULE, ()),
    # An offered place and a place on the waiting list (where it stands, and answering).
    Case("GET", _bookings(f"{RIVERSIDE_OFFERED}/offer"), OFFER_RULE, (*TRUST_ROLES, *MANAGERS)),
    Case("GET", _bookings(f"{OAK_WAITING}/offer"), OFFER_RULE, (*OAKFIELD_ROLES, *MANAGERS)),
    Case("GET", _bookings(f"{DUNCHURCH}/offer"), OFFER_RULE, MANAGERS),
    Case("GET", _bookings(f"{NO_ID}/offer"), OFFER_RULE, ()),
    *(
        Case(
            "POST",
            _bookings(f"{booking}/offer/{answer}"),
            f"{OFFER_RULE}/{answer}",
            (*roles, *MANAGERS),
            ok=303,
        )
        for booking, roles in (
            (RIVERSIDE_OFFERED, TRUST_ROLES),
            (OAK_WAITING, OAKFIELD_ROLES),
            (DUNCHURCH, ()),
        )
        for answer in ("accept", "decline")
    ),
    *(
        Case("POST", _bookings(f"{NO_ID}/offer/{answer}"), f"{OFFER_RULE}/{answer}", ())
        for answer in ("accept", "decline")
    ),
    # Swapping who attends: sent empty, the form asks who.
    *(
        Case(method, _bookings(f"{OAK_OWN}/swap"), SWAP_RULE, (*OAKFIELD_ROLES, *MANAGERS))
        for method in ("GET", "POST")
    ),
    Case(
        "GET",
        _bookings(f"{OAK_COLLEAGUE}/swap"),
        SWAP_RULE,
        ("head_teacher", *MANAGERS),
        exceptions=NOT_STAFFS,
    ),
    Case("GET", _bookings(f"{RIVERSIDE}/swap"), SWAP_RULE, (*TRUST_ROLES, *MANAGERS)),
    Case("GET", _bookings(f"{DUNCHURCH}/swap"), SWAP_RULE, MANAGERS),
    Case("GET", _bookings(f"{NO_ID}/swap"), SWAP_RULE, ()),
    Case("POST", _bookings(f"{NO_ID}/swap"), SWAP_RULE, ()),
]
