"""The access matrix's cases for training: fund routes (see test_access_matrix.py).

Supply-cover funds are council administrators' alone (MANAGE_SUPPLY_FUNDS): every other
role, the training coordinator too, gets 403, before any fund is looked for. A school's
balance and claims are for the people who claim for schools (CLAIM_SUPPLY_COVER). A claim
is found only within the scope of who asks (claim_scope): its school's people and trust,
and the administrators; anyone else, the coordinator included, gets 404.

The records are seed-demo's: the fund "Integrated working supply cover" (allocated to every
school), Oakfield's (125601) claims (one submitted, one part-approved, one paid in batch
SUPPLY-<year>-001), Riverside's (140201) approved claim; and a fund not yet allocated,
made for the case (tests/helpers/routes.py). Each demo claim's invoice is kept as an upload
is, so its evidence downloads.
"""

from __future__ import annotations

from portal import clock
from tests.access.cases import OAKFIELD_USERS, RAISERS, Case

ADMIN = ("la_admin",)
# Those who claim supply cover for a school: staff, head teachers, trust leads.
CLAIMERS = RAISERS
FUND = "{fund:Integrated working}"
DRAFT = "{fund:draft}"
BATCH = f"{{batch:SUPPLY-{clock.financial_year(clock.today_in_london())}-001}}"
# Oakfield's claims are seen by Oakfield's people; Riverside's by its head and its trust.
OAKFIELD_CLAIM = "{claim:125601:submitted}"
RIVERSIDE_CLAIM = "{claim:140201:approved}"
OAKFIELD_SEE = ("la_admin", *OAKFIELD_USERS)
RIVERSIDE_SEE = ("la_admin", "academy_head", "trust_lead")

FUND_RULE = "/training/funds/<int:fund_id>"


def _fund_cases(fund: str, answers: dict[tuple[str, str], int]) -> list[Case]:
    """Every page of one fund, for administrators (403 for everyone else); a POST sends
    only its token."""
    return [
        Case(
            method,
            f"/training/funds/{fund}{tail}",
            FUND_RULE + tail.split("?")[0],
            ADMIN,
            ok=ok,
            denied=403,
        )
        for (method, tail), ok in answers.items()
    ]


FUND_CASES: list[Case] = [
    Case("GET", "/training/funds/", "/training/funds/", ADMIN, denied=403),
    Case("GET", "/training/funds/new", "/training/funds/new", ADMIN, denied=403),
    # A POST with only its token: the form comes back with its errors.
    Case("POST", "/training/funds/new", "/training/funds/new", ADMIN, denied=403),
    # The demo's fund, allocated: it can no longer be edited (sent back to the fund, 303);
    # its allocation is shown as confirmed (confirmed again, it is shown again: 303); a
    # payment batch is made of its approved claims (Riverside's) and the fund shown (303).
    *_fund_cases(
        FUND,
        {
            ("GET", ""): 200,
            ("GET", "/edit"): 303,
            ("POST", "/edit"): 303,
            ("GET", "/allocation"): 200,
            ("POST", "/allocation"): 303,
            ("GET", "/claims"): 200,
            ("GET", "/claims?status=paid"): 200,
            ("POST", "/payment-batch"): 303,
        },
    ),
    # A fund not yet allocated: its form (a POST with only the token: the form again, with
    # its errors) and the allocation the formula gives, to confirm (confirmed without the
    # allocation's fingerprint, it is shown again to check: 303).
    *_fund_cases(
        DRAFT,
        {
            ("GET", ""): 200,
            ("GET", "/edit"): 200,
            ("POST", "/edit"): 200,
            ("GET", "/allocation"): 200,
            ("POST", "/allocation"): 303,
            ("GET", "/claims"): 200,
        },
    ),
    # No such fund: not found, for administrators.
    *_fund_cases(
        "999999",
        {
            ("GET", ""): 404,
            ("GET", "/edit"): 404,
            ("POST", "/edit"): 404,
            ("GET", "/allocation"): 404,
            ("POST", "/allocation"): 404,
            ("GET", "/claims"): 404,
            ("POST", "/payment-batch"): 404,
        },
    ),
    # The demo's batch, paid: its CSV for finance; marked paid again, the fund is shown.
    Case(
        "GET",
        f"/training/payment-batches/{BATCH}.csv",
        "/training/payment-batches/<int:batch_id>.csv",
        ADMIN,
        denied=403,
    ),
    Case(
        "POST",
        f"/training/payment-batches/{BATCH}/paid",
        "/training/payment-batches/<int:batch_id>/paid",
        ADMIN,
        ok=303,
        denied=403,
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
    # A school's own claim, and another school's: each seen only by those whose school it
    # is, and the administrators; not found for everyone else.
    *(
        Case(
            "GET",
            f"/training/claims/{claim}{tail}",
            f"/training/claims/<int:claim_id>{tail}",
            seen_by,
        )
        for claim, seen_by in [
            (OAKFIELD_CLAIM, OAKFIELD_SEE),
            ("{claim:125601:part_approved}", OAKFIELD_SEE),
            ("{claim:125601:paid}", OAKFIELD_SEE),
            (RIVERSIDE_CLAIM, RIVERSIDE_SEE),
        ]
        for tail in ("", "/evidence")
    ),
    # Deciding is the administrators' (403 for the rest, before any claim is looked for): a
    # POST with only its token shows the claim again with the decision's errors.
    *(
        Case(
            "POST",
            f"/training/claims/{claim}/decision",
            "/training/claims/<int:claim_id>/decision",
            ADMIN,
            denied=403,
        )
        for claim in (OAKFIELD_CLAIM, RIVERSIDE_CLAIM)
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
