"""The access matrix's cases for training: fund routes (see test_access_matrix.py).

Supply-cover funds are council administrators' alone (MANAGE_SUPPLY_FUNDS): every other
role, the training coordinator too, gets 403. A school's balance and claims are for the
people who claim for schools (CLAIM_SUPPLY_COVER). A claim is found only within the scope
of who asks (claim_scope): anyone else, the coordinator included, gets 404. The demo has no
fund or claim yet, so records are asked for by an id that is nobody's; another school's
claim answering 404 is tested with claims of their own in tests/training/test_claims.py
and test_evidence.py.
"""

from __future__ import annotations

from tests.access.cases import RAISERS, Case

ADMIN = ("la_admin",)
# Those who claim supply cover for a school: staff, head teachers, trust leads.
CLAIMERS = RAISERS

FUND_CASES: list[Case] = [
    Case("GET", "/training/funds/", "/training/funds/", ADMIN, denied=403),
    Case("GET", "/training/funds/new", "/training/funds/new", ADMIN, denied=403),
    # A POST with only its token: the form comes back with its errors.
    Case("POST", "/training/funds/new", "/training/funds/new", ADMIN, denied=403),
    *(
        Case(
            method,
            f"/training/funds/999999{tail}",
            f"/training/funds/<int:fund_id>{tail}",
            ADMIN,
            ok=404,
            denied=403,
        )
        for method, tail in [
            ("GET", ""),
            ("GET", "/edit"),
            ("POST", "/edit"),
            ("GET", "/allocation"),
            ("POST", "/allocation"),
            ("GET", "/claims"),
            ("POST", "/payment-batch"),
        ]
    ),
    Case(
        "GET",
        "/training/payment-batches/999999.csv",
        "/training/payment-batches/<int:batch_id>.csv",
        ADMIN,
        ok=404,
        denied=403,
    ),
    Case(
        "POST",
        "/training/payment-batches/999999/paid",
        "/training/payment-batches/<int:batch_id>/paid",
        ADMIN,
        ok=404,
        denied=403,
    ),
    # A school's balance and claims, and making a claim (a POST with only its token: the
    # form comes back with its errors).
    Case("GET", "/training/supply", "/training/supply", CLAIMERS, denied=403),
    Case("GET", "/training/supply/claims/new", "/training/supply/claims/new", CLAIMERS, denied=403),
    Case(
        "POST", "/training/supply/claims/new", "/training/supply/claims/new", CLAIMERS, denied=403
    ),
    # A claim that is nobody's: not found, whoever asks.
    Case("GET", "/training/claims/999999", "/training/claims/<int:claim_id>", ()),
    Case(
        "GET",
        "/training/claims/999999/evidence",
        "/training/claims/<int:claim_id>/evidence",
        (),
    ),
    Case(
        "POST",
        "/training/claims/999999/decision",
        "/training/claims/<int:claim_id>/decision",
        ADMIN,
        ok=404,
        denied=403,
    ),
]
