"""The access matrix's cases for training: report routes (see test_access_matrix.py).

Take-up of training and the supply-cover funds' money are council-wide figures for the
Schools Forum: the training coordinator and council administrators see them (403 for every
other role, as support's statistics); nobody signed in is sent to sign in. The records are
seed-demo's (its courses, its fund "Integrated working supply cover"), and a fund not yet
allocated, made for the case (tests/helpers/routes.py), which the reports leave out: its
allocations may still change.
"""

from __future__ import annotations

from tests.access.cases import Case

REPORTERS = ("la_admin", "training_coordinator")

REPORT_CASES: list[Case] = [
    Case("GET", "/training/reports/take-up", "/training/reports/take-up", REPORTERS, denied=403),
    Case(
        "GET",
        "/training/reports/take-up?date_from=1&date_from=4&date_from=2026"
        "&date_to=31&date_to=3&date_to=2027&area={area:north}",
        "/training/reports/take-up",
        REPORTERS,
        denied=403,
    ),
    Case(
        "GET",
        "/training/reports/take-up.csv?table=courses",
        "/training/reports/take-up.csv",
        REPORTERS,
        denied=403,
    ),
    Case(
        "GET",
        "/training/reports/take-up.csv?table=areas",
        "/training/reports/take-up.csv",
        REPORTERS,
        denied=403,
    ),
    Case(
        "GET",
        "/training/reports/take-up?course={course:The Lead Professional role}",
        "/training/reports/take-up",
        REPORTERS,
        denied=403,
    ),
    Case(
        "GET",
        "/training/reports/take-up.csv?table=areas&course={course:The Lead Professional role}",
        "/training/reports/take-up.csv",
        REPORTERS,
        denied=403,
    ),
    Case("GET", "/training/reports/funds", "/training/reports/funds", REPORTERS, denied=403),
    *(
        Case(
            "GET",
            f"/training/reports/{page}",
            f"/training/reports/{page.split('?')[0]}",
            REPORTERS,
            ok=ok,
            denied=403,
        )
        for page, ok in [
            ("funds?fund={fund:Integrated working}", 200),
            ("funds.csv?fund={fund:Integrated working}", 200),
            # Not yet allocated: not in the reports.
            ("funds?fund={fund:draft}", 404),
            ("funds.csv?fund={fund:draft}", 404),
        ]
    ),
    Case(
        "GET", "/training/reports/funds.csv", "/training/reports/funds.csv", REPORTERS, denied=403
    ),
    # No such fund: not found, for those who may see the reports.
    Case(
        "GET",
        "/training/reports/funds?fund=999999",
        "/training/reports/funds",
        REPORTERS,
        ok=404,
        denied=403,
    ),
    Case(
        "GET",
        "/training/reports/funds.csv?fund=999999",
        "/training/reports/funds.csv",
        REPORTERS,
        ok=404,
        denied=403,
    ),
]
