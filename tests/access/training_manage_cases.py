"""The access matrix's cases for training: manage routes (see test_access_matrix.py).

The training coordinator's pages (Capability.MANAGE_TRAINING: the coordinator and council
administrators); everyone else signed in is refused (403) before any record is looked up.
They are asked for with the demo's records (tests/access/training_records.py): a published
course and the draft one, a session to come and one held, and an id nobody has (404). A POST
carries only a CSRF token: a form comes back with its errors (200); a confirmation
(publishing, withdrawing), or a form filled from the record, is done and redirects (303).
"""

from __future__ import annotations

from tests.access.cases import Case
from tests.access.training_records import (
    COURSE,
    DRAFT_COURSE,
    MANAGERS,
    NO_ID,
    PAST,
    UPCOMING,
)

COURSE_RULE = "/training/manage/courses/<int:course_id>"
SESSION_RULE = "/training/manage/sessions/<int:session_id>"


def _course(course: str, action: str = "") -> str:
    return f"/training/manage/courses/{course}{'/' + action if action else ''}"


def _session(session: str, action: str = "") -> str:
    return f"/training/manage/sessions/{session}{'/' + action if action else ''}"


def _rule(rule: str, action: str) -> str:
    return f"{rule}/{action}" if action else rule


# What each page answers those who manage training, GET and POST (None: no such method).
COURSE_PAGES = {
    "": (200, None),
    "edit": (200, 200),
    "publish": (200, 303),
    "withdraw": (200, 303),
    "sessions/new": (200, 200),
}
SESSION_PAGES = {
    "": (200, None),
    # The session form is filled from the session: sent with nothing changed, it is saved.
    "edit": (200, 303),
    "cancel": (200, 200),
    "register": (None, 200),
    "register.csv": (200, None),
}

MANAGE_CASES: list[Case] = [
    Case("GET", "/training/manage/", "/training/manage/", MANAGERS, denied=403),
    Case("GET", "/training/manage/?status=draft&page=2", "/training/manage/", MANAGERS, denied=403),
    Case(
        "GET",
        "/training/manage/?status=published",
        "/training/manage/",
        MANAGERS,
        denied=403,
        htmx=True,
        # htmx asking for nobody signed in is told so (401), not redirected.
        anonymous=401,
    ),
    Case(
        "GET", "/training/manage/courses/new", "/training/manage/courses/new", MANAGERS, denied=403
    ),
    # Sent empty, the form comes back with its errors.
    Case(
        "POST", "/training/manage/courses/new", "/training/manage/courses/new", MANAGERS, denied=403
    ),
    *(
        Case(method, _course(course, action), _rule(COURSE_RULE, action), MANAGERS, ok, denied=403)
        for course in (COURSE, DRAFT_COURSE)
        for action, answers in COURSE_PAGES.items()
        for method, ok in zip(("GET", "POST"), answers, strict=True)
        if ok is not None
    ),
    *(
        Case(
            method,
            _course(NO_ID, action),
            _rule(COURSE_RULE, action),
            MANAGERS,
            ok=404,
            denied=403,
        )
        for action, answers in COURSE_PAGES.items()
        for method, ok in zip(("GET", "POST"), answers, strict=True)
        if ok is not None
    ),
    *(
        Case(
            method, _session(session, action), _rule(SESSION_RULE, action), MANAGERS, ok, denied=403
        )
        for session in (UPCOMING, PAST)
        for action, answers in SESSION_PAGES.items()
        for method, ok in zip(("GET", "POST"), answers, strict=True)
        if ok is not None
    ),
    *(
        Case(
            method,
            _session(NO_ID, action),
            _rule(SESSION_RULE, action),
            MANAGERS,
            ok=404,
            denied=403,
        )
        for action, answers in SESSION_PAGES.items()
        for method, ok in zip(("GET", "POST"), answers, strict=True)
        if ok is not None
    ),
]
