"""A school's claims for supply cover, and the council's decisions on them."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from portal import clock
from portal.models import Attendance, ClaimStatus, Membership, OutboxMessage, Role, SupplyClaim
from portal.training.fund_forms import half_days
from tests.conftest import csrf_token
from tests.helpers.html import error_summary, ok_soup, soup
from tests.training.factories import (
    PDF_BYTES,
    allocate_to,
    make_booking,
    make_claim,
    make_course,
    make_fund,
    make_session,
    school_by_urn,
    user_by_email,
)

NEW_CLAIM = "/training/supply/claims/new"


@pytest.fixture
def evidence_directory(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "CLAIM_EVIDENCE_DIRECTORY", str(tmp_path))
    return tmp_path


@pytest.fixture
def fund_setup(session, evidence_directory):
    """A fund covering one course from September 2026 to March 2027, set up today (after
    the October session its place was attended at), with £500 for Oakfield."""
    course = make_course(duration_minutes=360, session=session)
    fund = make_fund(courses=[course], session=session)
    oakfield = school_by_urn(125601, session=session)
    allocations = allocate_to(
        fund, {oakfield: 50_000, school_by_urn(140201, session=session): 50_000}, session=session
    )
    held = make_session(course, on=date(2026, 10, 1), session=session)
    booking = make_booking(held, oakfield, attendance=Attendance.ATTENDED, session=session)
    session.commit()
    return fund, course, oakfield, booking, allocations[oakfield.id]


def claim_form(client, fund, booking, **changes):
    data = {
        "csrf_token": csrf_token(client, NEW_CLAIM),
        "fund": str(fund.id),
        "booking": str(booking.id),
        "days": "1",
        "cost": "180.00",
        "agency_reference": "AGY-2026-117",
        "submission_key": f"key-{booking.id}-{fund.id}",
        "evidence": (io.BytesIO(PDF_BYTES), "invoice.pdf"),
    }
    data.update(changes)
    stream, filename = data.pop("evidence")
    data["evidence"] = FileStorage(stream, filename=filename, content_type="application/pdf")
    # Encoded here, in memory: the test client spools a large body to a temporary file it
    # never closes.
    boundary, body = encode_multipart(MultiDict(data))
    return client.post(
        NEW_CLAIM, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_a_head_teacher_claims_for_a_session_attended_before_the_fund_was_set_up(
    client_for, session, fund_setup, evidence_directory
) -> None:
    fund, course, oakfield, booking, _allocation = fund_setup
    head = client_for("head_teacher")
    form = ok_soup(head.get(NEW_CLAIM))
    # The place is offered, as its course, its date and who attended.
    option = form.select_one(f"select[name=booking] option[value='{booking.id}']")
    assert course.title in option.get_text() and "1 October 2026" in option.get_text()
    response = claim_form(head, fund, booking)
    assert response.status_code == 303, error_summary(response)
    claim = session.scalars(select(SupplyClaim).where(SupplyClaim.booking_id == booking.id)).one()
    assert (claim.school_id, claim.half_days, claim.cost_pence) == (oakfield.id, 2, 18_000)
    assert claim.status is ClaimStatus.SUBMITTED
    assert claim.claimed_by.email == "head@oakfield.example"
    # Kept under a random name, with the name it came with kept to show.
    assert claim.evidence_filename == "invoice.pdf"
    assert claim.evidence_path != "invoice.pdf"
    assert (evidence_directory / claim.evidence_path).read_bytes() == PDF_BYTES
    page = ok_soup(head.get("/training/supply"))
    balance = page.select_one("#balances tbody tr").get_text(" ", strip=True)
    assert "£500.00" in balance and "1 claim, £180.00" in balance
    assert f"Claim {claim.id}" in page.select_one("#claims").get_text()
    # The same form sent again makes no second claim.
    assert claim_form(head, fund, booking).status_code in (200, 303)
    assert (
        len(session.scalars(select(SupplyClaim).where(SupplyClaim.booking_id == booking.id)).all())
        == 1
    )


def test_a_session_outside_the_funds_dates_cannot_be_claimed(
    client_for, session, fund_setup
) -> None:
    fund, course, oakfield, _booking, _allocation = fund_setup
    late = make_booking(
        make_session(course, on=date(2027, 6, 1), session=session),
        oakfield,
        attendance=Attendance.ATTENDED,
        session=session,
    )
    session.commit()
    head = client_for("head_teacher")
    form = ok_soup(head.get(NEW_CLAIM))
    assert form.select_one(f"select[name=booking] option[value='{late.id}']") is None
    response = claim_form(head, fund, late)
    assert response.status_code == 200
    assert any("outside the dates" in error for error in error_summary(response))
    assert (
        session.scalars(select(SupplyClaim).where(SupplyClaim.booking_id == late.id)).first()
        is None
    )


def test_a_place_not_attended_cannot_be_claimed(client_for, session, fund_setup) -> None:
    fund, course, oakfield, _booking, _allocation = fund_setup
    absent = make_booking(
        make_session(course, on=date(2026, 11, 5), session=session),
        oakfield,
        attendance=Attendance.ABSENT,
        session=session,
    )
    session.commit()
    response = claim_form(client_for("head_teacher"), fund, absent)
    assert "Cover can only be claimed for a session someone attended" in error_summary(response)


def test_a_course_the_fund_does_not_cover_cannot_be_claimed(
    client_for, session, fund_setup
) -> None:
    fund, _course, oakfield, _booking, _allocation = fund_setup
    other = make_booking(
        make_session(
            make_course(duration_minutes=360, session=session),
            on=date(2026, 11, 5),
            session=session,
        ),
        oakfield,
        attendance=Attendance.ATTENDED,
        session=session,
    )
    session.commit()
    response = claim_form(client_for("head_teacher"), fund, other)
    assert any("does not cover" in error for error in error_summary(response))


def test_another_schools_place_is_not_offered_or_taken(client_for, session, fund_setup) -> None:
    fund, course, _oakfield, _booking, _allocation = fund_setup
    theirs = make_booking(
        make_session(course, on=date(2026, 11, 5), session=session),
        school_by_urn(140201, session=session),
        attendance=Attendance.ATTENDED,
        session=session,
    )
    session.commit()
    response = claim_form(client_for("head_teacher"), fund, theirs)
    assert "Choose the session the cover was for" in error_summary(response)


def test_claims_close_after_the_last_day(client_for, session, fund_setup, monkeypatch) -> None:
    fund, _course, _oakfield, booking, _allocation = fund_setup
    monkeypatch.setattr(clock, "now", lambda: datetime(2030, 5, 1, 9, tzinfo=UTC))
    head = client_for("head_teacher")
    assert (
        "No fund your school has an allocation from is open"
        in ok_soup(head.get(NEW_CLAIM)).get_text()
    )
    response = claim_form(head, fund, booking)
    assert "Choose a fund that is open for claims" in error_summary(response)


def test_one_claim_per_place_per_fund(client_for, session, fund_setup) -> None:
    fund, _course, _oakfield, booking, _allocation = fund_setup
    make_claim(fund, booking, session=session)
    session.commit()
    response = claim_form(client_for("head_teacher"), fund, booking, submission_key="another")
    assert any("already been claimed" in error for error in error_summary(response))


# --- decisions ------------------------------------------------------------------------------


def decide(client, claim, **data):
    path = f"/training/claims/{claim.id}"
    return client.post(f"{path}/decision", data={"csrf_token": csrf_token(client, path), **data})


def test_the_council_approves_and_the_school_is_told(client_for, session, fund_setup) -> None:
    fund, _course, _oakfield, booking, allocation = fund_setup
    claim = make_claim(
        fund,
        booking,
        cost_pence=18_000,
        claimed_by=user_by_email("head@oakfield.example", session=session),
        session=session,
    )
    session.commit()
    admin = client_for("la_admin")
    page = ok_soup(admin.get(f"/training/claims/{claim.id}"))
    text = page.get_text(" ", strip=True)
    assert "£200.00 for 1 day" in text and "£500.00" in text
    assert decide(admin, claim, verdict="approve").status_code == 303
    session.refresh(claim)
    session.refresh(allocation)
    assert (claim.status, claim.approved_pence) == (ClaimStatus.APPROVED, 18_000)
    assert allocation.approved_pence == 18_000
    mail = session.scalars(
        select(OutboxMessage).where(OutboxMessage.subject.contains(f"claim {claim.id} "))
    ).one()
    assert mail.recipient == "head@oakfield.example"
    assert "Approved: £180.00" in mail.body
    # The school sees the decision, and who made it.
    seen = ok_soup(client_for("head_teacher").get(f"/training/claims/{claim.id}"))
    text = seen.get_text(" ", strip=True)
    assert "Approved £180.00" in text
    assert "Decided" in text and " by " in text.split("Decided", 1)[1]
    # Decided once: a second decision changes nothing.
    decide(admin, claim, verdict="refuse", reason="Changed my mind")
    session.refresh(claim)
    assert claim.status is ClaimStatus.APPROVED


def test_a_claim_within_the_rates_is_approved_whole(client_for, session, fund_setup) -> None:
    fund, _course, _oakfield, booking, _allocation = fund_setup
    claim = make_claim(fund, booking, cost_pence=30_000, half_days=3, session=session)
    session.commit()
    decide(client_for("la_admin"), claim, verdict="approve")
    session.refresh(claim)
    # A day and a half allows £200 + £110: the £300 claimed is approved whole.
    assert (claim.status, claim.approved_pence) == (ClaimStatus.APPROVED, 30_000)


def test_a_claim_over_the_rates_is_approved_at_the_rates(client_for, session, fund_setup) -> None:
    fund, _course, _oakfield, booking, _allocation = fund_setup
    claim = make_claim(fund, booking, cost_pence=25_000, half_days=2, session=session)
    session.commit()
    decide(client_for("la_admin"), claim, verdict="approve")
    session.refresh(claim)
    assert (claim.status, claim.approved_pence) == (ClaimStatus.PART_APPROVED, 20_000)
    assert "rates" in claim.decision_reason


def test_part_approval_and_refusal_need_a_reason(client_for, session, fund_setup) -> None:
    fund, _course, _oakfield, booking, allocation = fund_setup
    claim = make_claim(fund, booking, cost_pence=18_000, session=session)
    session.commit()
    admin = client_for("la_admin")
    response = decide(admin, claim, verdict="part_approve", amount="100")
    assert "Enter why only part of the claim is approved" in error_summary(response)
    response = decide(admin, claim, verdict="part_approve", amount="180", reason="x")
    assert any("less than the £180.00 claimed" in e for e in error_summary(response))
    assert "Enter why the claim is refused" in error_summary(decide(admin, claim, verdict="refuse"))
    # The form keeps what was typed.
    assert soup(response).select_one("input[name=amount]")["value"] == "180"
    assert (
        decide(
            admin, claim, verdict="part_approve", amount="100", reason="Half a day only"
        ).status_code
        == 303
    )
    session.refresh(claim)
    session.refresh(allocation)
    assert (claim.status, claim.approved_pence, claim.decision_reason) == (
        ClaimStatus.PART_APPROVED,
        10_000,
        "Half a day only",
    )
    assert allocation.approved_pence == 10_000


def test_a_refusal_approves_nothing(client_for, session, fund_setup) -> None:
    fund, _course, _oakfield, booking, allocation = fund_setup
    claim = make_claim(
        fund,
        booking,
        claimed_by=user_by_email("staff@oakfield.example", session=session),
        session=session,
    )
    session.commit()
    decide(client_for("la_admin"), claim, verdict="refuse", reason="No invoice attached")
    session.refresh(claim)
    session.refresh(allocation)
    assert (claim.status, claim.approved_pence, allocation.approved_pence) == (
        ClaimStatus.REFUSED,
        None,
        0,
    )
    mail = session.scalars(
        select(OutboxMessage).where(OutboxMessage.subject.contains(f"claim {claim.id} "))
    ).one()
    assert mail.subject.endswith(": Refused")
    assert "Reason: No invoice attached" in mail.body
    assert "Approved:" not in mail.body


def test_an_approval_never_takes_the_school_over_its_allocation(
    client_for, session, fund_setup
) -> None:
    fund, course, oakfield, booking, allocation = fund_setup
    second = make_booking(
        make_session(course, on=date(2026, 11, 5), session=session),
        oakfield,
        attendance=Attendance.ATTENDED,
        session=session,
    )
    first_claim = make_claim(fund, booking, cost_pence=20_000, session=session)
    second_claim = make_claim(fund, second, cost_pence=20_000, session=session)
    allocation.amount_pence = 30_000
    session.commit()
    admin = client_for("la_admin")
    assert decide(admin, first_claim, verdict="approve").status_code == 303
    response = decide(admin, second_claim, verdict="approve")
    assert response.status_code == 200
    assert any("£100.00" in error for error in error_summary(response))
    session.refresh(second_claim)
    session.refresh(allocation)
    assert second_claim.status is ClaimStatus.SUBMITTED
    assert allocation.approved_pence == 20_000
    # Part-approving what is left fits.
    assert (
        decide(
            admin, second_claim, verdict="part_approve", amount="100", reason="What is left"
        ).status_code
        == 303
    )
    session.refresh(allocation)
    assert allocation.approved_pence == allocation.amount_pence == 30_000


def test_the_queue_filters_by_status(client_for, session, fund_setup) -> None:
    fund, course, oakfield, booking, _allocation = fund_setup
    waiting = make_claim(fund, booking, session=session)
    other = make_booking(
        make_session(course, on=date(2026, 11, 5), session=session),
        oakfield,
        attendance=Attendance.ATTENDED,
        session=session,
    )
    refused = make_claim(fund, other, status=ClaimStatus.REFUSED, session=session)
    session.commit()
    admin = client_for("la_admin")
    shown = ok_soup(admin.get(f"/training/funds/{fund.id}/claims")).get_text()
    assert f"Claim {waiting.id}" in shown and f"Claim {refused.id}" not in shown
    shown = ok_soup(admin.get(f"/training/funds/{fund.id}/claims?status=refused")).get_text()
    assert f"Claim {waiting.id}" not in shown and f"Claim {refused.id}" in shown
    shown = ok_soup(admin.get(f"/training/funds/{fund.id}/claims?status=all")).get_text()
    assert f"Claim {waiting.id}" in shown and f"Claim {refused.id}" in shown


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("head_teacher", 200),
        ("school_staff", 200),
        ("la_admin", 200),
        ("academy_head", 404),
        ("trust_lead", 404),
        ("caf_officer", 404),
        ("publisher", 404),
    ],
)
def test_who_sees_a_claim(client_for, session, fund_setup, role, status) -> None:
    fund, _course, _oakfield, booking, _allocation = fund_setup
    claim = make_claim(fund, booking, session=session)
    session.commit()
    assert client_for(role).get(f"/training/claims/{claim.id}").status_code == status


def test_only_the_council_sees_the_decision_form(client_for, session, fund_setup) -> None:
    fund, _course, _oakfield, booking, _allocation = fund_setup
    claim = make_claim(fund, booking, session=session)
    session.commit()
    assert (
        ok_soup(client_for("head_teacher").get(f"/training/claims/{claim.id}")).select_one(
            "input[name=verdict]"
        )
        is None
    )
    assert ok_soup(client_for("la_admin").get(f"/training/claims/{claim.id}")).select_one(
        "input[name=verdict]"
    )
    assert decide(client_for("head_teacher"), claim, verdict="approve").status_code == 403


def test_the_fund_pages_stay_within_the_query_budget_with_claims(
    client_for, session, fund_setup, count_queries
) -> None:
    fund, course, oakfield, booking, _allocation = fund_setup
    claims = [make_claim(fund, booking, session=session)]
    for day in range(2, 12):
        other = make_booking(
            make_session(course, on=date(2026, 11, day), session=session),
            oakfield,
            attendance=Attendance.ATTENDED,
            session=session,
        )
        claims.append(make_claim(fund, other, status=ClaimStatus.APPROVED, session=session))
        claims[-1].approved_pence = 1_000
    session.commit()
    pages = {
        "la_admin": [
            "/training/funds/",
            f"/training/funds/{fund.id}",
            f"/training/funds/{fund.id}/allocation",
            f"/training/funds/{fund.id}/claims?status=all",
            f"/training/claims/{claims[0].id}",
        ],
        "head_teacher": ["/training/supply", NEW_CLAIM, f"/training/claims/{claims[0].id}"],
    }
    for role, paths in pages.items():
        client = client_for(role)
        for path in paths:
            with count_queries() as counter:
                response = client.get(path)
            assert response.status_code == 200, path
            assert counter.count <= 12, (path, counter.count)


def test_the_training_coordinator_neither_manages_funds_nor_sees_claims(
    client_for, session, fund_setup
) -> None:
    # The demo's coordinator comes with the role's own branch: here the publisher, a council
    # account with its second factor set up, is made one instead.
    fund, _course, _oakfield, booking, _allocation = fund_setup
    claim = make_claim(fund, booking, session=session)
    publisher = user_by_email("publisher@council.example", session=session)
    for membership in session.scalars(select(Membership).where(Membership.user_id == publisher.id)):
        membership.role = Role.TRAINING_COORDINATOR
    session.commit()
    coordinator = client_for("publisher")
    for path in (
        "/training/funds/",
        "/training/funds/new",
        f"/training/funds/{fund.id}",
        f"/training/funds/{fund.id}/allocation",
        f"/training/funds/{fund.id}/claims",
        "/training/supply",
        NEW_CLAIM,
    ):
        assert coordinator.get(path).status_code == 403, path
    assert coordinator.get(f"/training/claims/{claim.id}").status_code == 404
    assert coordinator.get(f"/training/claims/{claim.id}/evidence").status_code == 404
    assert decide(coordinator, claim, verdict="approve").status_code == 403


@given(halves=st.integers(min_value=1, max_value=20))
def test_days_are_read_in_halves(halves: int) -> None:
    days = halves / 2
    for written in (f"{days:g}", f"{days:.1f}", f"{days:.2f}"):
        assert half_days(written) == halves
    assert half_days(f"{days + 0.25:g}") is None


def test_days_that_are_not_halves_or_too_many_are_refused() -> None:
    for written in ("0", "0.0", "10.5", "11", "1.25", "1.", "-1", "one", "", "\u00bd", "\u0661"):
        assert half_days(written) is None, written
