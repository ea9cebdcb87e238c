"""The access matrix's cases for training: attendee routes (see test_access_matrix.py).

A booking is found only within the scope of the person asking (access.get_booking_or_404):
another school's answers 404, as one that does not exist does. Its calendar file and
certificate are for everyone who sees the booking; its evaluation is the attendee's own
(access.may_evaluate: 403 for the rest of their school, and the council's roles are refused
the page outright, Capability.BOOK_TRAINING). The records are the demo's
(tests/access/training_records.py).
"""

from __future__ import annotations

from tests.access.cases import Case, refused
from tests.access.training_records import (
    DUNCHURCH,
    MANAGERS,
    NO_ID,
    NOT_BOOKERS,
    OAK_EVALUATED,
    OAK_OWN,
    OAKFIELD_ROLES,
    RIVERSIDE,
    RIVERSIDE_ATTENDED,
    TRUST_ROLES,
)

BOOKING_RULE = "/training/bookings/<int:booking_id>"
CALENDAR_RULE = f"{BOOKING_RULE}/calendar.ics"
EVALUATION_RULE = f"{BOOKING_RULE}/evaluation"
CERTIFICATE_RULE = f"{BOOKING_RULE}/certificate"
NOT_BOOKING = refused(*NOT_BOOKERS)


def _bookings(path: str) -> str:
    return f"/training/bookings/{path}"


ATTENDEE_CASES: list[Case] = [
    # The calendar file: for everyone who sees the booking.
    Case("GET", _bookings(f"{OAK_OWN}/calendar.ics"), CALENDAR_RULE, (*OAKFIELD_ROLES, *MANAGERS)),
    Case("GET", _bookings(f"{RIVERSIDE}/calendar.ics"), CALENDAR_RULE, (*TRUST_ROLES, *MANAGERS)),
    Case("GET", _bookings(f"{DUNCHURCH}/calendar.ics"), CALENDAR_RULE, MANAGERS),
    Case("GET", _bookings(f"{NO_ID}/calendar.ics"), CALENDAR_RULE, ()),
    # The evaluation. Riverside's head teacher attended and has not given theirs: the form
    # (sent empty, it says what is missing); not their trust lead's to give (403).
    *(
        Case(
            method,
            _bookings(f"{RIVERSIDE_ATTENDED}/evaluation"),
            EVALUATION_RULE,
            ("academy_head",),
            exceptions=(("trust_lead", 403), *NOT_BOOKING),
        )
        for method in ("GET", "POST")
    ),
    # Oakfield's head teacher gave theirs: sent on to the certificate (303).
    *(
        Case(
            method,
            _bookings(f"{OAK_EVALUATED}/evaluation"),
            EVALUATION_RULE,
            ("head_teacher",),
            ok=303,
            exceptions=(("school_staff", 403), *NOT_BOOKING),
        )
        for method in ("GET", "POST")
    ),
    # The staff member's place to come: the page says the evaluation opens after the session.
    Case(
        "GET",
        _bookings(f"{OAK_OWN}/evaluation"),
        EVALUATION_RULE,
        ("school_staff",),
        exceptions=(("head_teacher", 403), *NOT_BOOKING),
    ),
    *(
        Case(
            method, _bookings(f"{booking}/evaluation"), EVALUATION_RULE, (), exceptions=NOT_BOOKING
        )
        for booking in (DUNCHURCH, NO_ID)
        for method in ("GET", "POST")
    ),
    # The certificate (or, with no evaluation yet, where it stands): everyone who sees it.
    Case(
        "GET",
        _bookings(f"{OAK_EVALUATED}/certificate"),
        CERTIFICATE_RULE,
        (*OAKFIELD_ROLES, *MANAGERS),
    ),
    Case(
        "GET",
        _bookings(f"{RIVERSIDE_ATTENDED}/certificate"),
        CERTIFICATE_RULE,
        (*TRUST_ROLES, *MANAGERS),
    ),
    Case("GET", _bookings(f"{DUNCHURCH}/certificate"), CERTIFICATE_RULE, MANAGERS),
    Case("GET", _bookings(f"{NO_ID}/certificate"), CERTIFICATE_RULE, ()),
]
