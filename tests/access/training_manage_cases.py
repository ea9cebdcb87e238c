"""The access matrix's cases for training: manage routes (see test_access_matrix.py).

The training coordinator's pages (MANAGE_TRAINING: the coordinator and council
administrators); everyone else signed in is refused (403) before any record is looked up.

The demo data has no courses yet, so the pages of one course or session are asked for by
an id that does not exist: those who manage training find nothing (404), everyone else is
refused (403). tests/training/test_courses.py, test_sessions.py and test_register.py open
each page of a real course and session (200). Once seed-demo has courses, these cases can
name one (a ``{course:...}`` kind in tests/helpers/routes.py) and expect 200.
"""

from __future__ import annotations

from tests.access.cases import Case

# Those who manage training.
MANAGERS = ("la_admin", "training_coordinator")
NO_COURSE = "/training/manage/courses/999999"
NO_SESSION = "/training/manage/sessions/999999"
COURSE_RULE = "/training/manage/courses/<int:course_id>"
SESSION_RULE = "/training/manage/sessions/<int:session_id>"

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
    Case("GET", NO_COURSE, COURSE_RULE, MANAGERS, ok=404, denied=403),
    *(
        Case(
            method, f"{NO_COURSE}/{action}", f"{COURSE_RULE}/{action}", MANAGERS, ok=404, denied=403
        )
        for action in ("edit", "publish", "withdraw", "sessions/new")
        for method in ("GET", "POST")
    ),
    Case("GET", NO_SESSION, SESSION_RULE, MANAGERS, ok=404, denied=403),
    *(
        Case(
            method,
            f"{NO_SESSION}/{action}",
            f"{SESSION_RULE}/{action}",
            MANAGERS,
            ok=404,
            denied=403,
        )
        for action in ("edit", "cancel")
        for method in ("GET", "POST")
    ),
    Case(
        "POST",
        f"{NO_SESSION}/register",
        f"{SESSION_RULE}/register",
        MANAGERS,
        ok=404,
        denied=403,
    ),
    Case(
        "GET",
        f"{NO_SESSION}/register.csv",
        f"{SESSION_RULE}/register.csv",
        MANAGERS,
        ok=404,
        denied=403,
    ),
]
