"""Payment batches: approved claims exported for finance, then paid; a batch's figures are
fixed when it is made."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from portal.models import Attendance, ClaimStatus, PaymentBatch
from tests.conftest import csrf_token
from tests.helpers.html import banner, ok_soup
from tests.training.factories import (
    allocate_to,
    make_booking,
    make_claim,
    make_course,
    make_fund,
    make_session,
    school_by_urn,
)


@pytest.fixture
def approved(session):
    """Two approved claims (one at a school whose name starts like a formula), one refused,
    one waiting."""
    course = make_course(duration_minutes=360, session=session)
    fund = make_fund(courses=[course], session=session)
    oakfield, riverside = (
        school_by_urn(125601, session=session),
        school_by_urn(140201, session=session),
    )
    allocations = allocate_to(fund, {oakfield: 50_000, riverside: 50_000}, session=session)
    held = make_session(course, on=date(2026, 10, 1), session=session)
    claims = []
    for at, status, amount in [
        (oakfield, ClaimStatus.APPROVED, 18_000),
        (riverside, ClaimStatus.PART_APPROVED, 11_050),
        (oakfield, ClaimStatus.REFUSED, None),
        (riverside, ClaimStatus.SUBMITTED, None),
    ]:
        claim = make_claim(
            fund,
            make_booking(held, at, attendance=Attendance.ATTENDED, session=session),
            cost_pence=20_000,
            status=status,
            session=session,
        )
        claim.approved_pence = amount
        if amount:
            allocations[at.id].approved_pence += amount
        claims.append(claim)
    claims[0].agency_reference = '=HYPERLINK("http://x.example")'
    session.commit()
    return fund, claims, allocations


def post(client, path: str, page: str):
    return client.post(path, data={"csrf_token": csrf_token(client, page)})


def test_a_batch_takes_the_approved_claims_and_is_paid(client_for, session, approved) -> None:
    fund, claims, allocations = approved
    admin = client_for("la_admin")
    fund_page = f"/training/funds/{fund.id}"
    assert (
        "2 approved claims (£290.50) not yet in a batch" in ok_soup(admin.get(fund_page)).get_text()
    )
    response = post(admin, f"/training/funds/{fund.id}/payment-batch", fund_page)
    assert response.status_code == 303
    batch = session.scalars(select(PaymentBatch).where(PaymentBatch.fund_id == fund.id)).one()
    assert (batch.claim_count, batch.total_pence) == (2, 29_050)
    assert batch.reference == f"SUPPLY-{fund.id}-001"
    for claim in claims:
        session.refresh(claim)
    assert [claim.payment_batch_id for claim in claims] == [batch.id, batch.id, None, None]
    # Nothing left to batch: no empty batch is made.
    post(admin, f"/training/funds/{fund.id}/payment-batch", fund_page)
    assert session.scalars(select(PaymentBatch).where(PaymentBatch.fund_id == fund.id)).all() == [
        batch
    ]

    download = admin.get(f"/training/payment-batches/{batch.id}.csv")
    assert download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0] == [
        "School URN",
        "School",
        "Claim",
        "Booking",
        "Course",
        "Session date",
        "Amount (£)",
        "Agency reference",
    ]
    assert rows[1][:3] == ["125601", "Oakfield Primary School", str(claims[0].id)]
    assert rows[1][5:] == ["2026-10-01", "180.00", '\'=HYPERLINK("http://x.example")']
    assert rows[2][6] == "110.50"
    assert len(rows) == 3

    # A claim approved after the batch was made does not change it.
    claims[3].status, claims[3].approved_pence = ClaimStatus.APPROVED, 5_000
    session.commit()
    paid = post(admin, f"/training/payment-batches/{batch.id}/paid", fund_page)
    assert paid.status_code == 303
    session.refresh(batch)
    assert batch.paid_at is not None and (batch.claim_count, batch.total_pence) == (2, 29_050)
    for claim in claims:
        session.refresh(claim)
    assert [claim.status for claim in claims] == [
        ClaimStatus.PAID,
        ClaimStatus.PAID,
        ClaimStatus.REFUSED,
        ClaimStatus.APPROVED,
    ]
    for allocation in allocations.values():
        session.refresh(allocation)
    assert sorted(a.paid_pence for a in allocations.values()) == [11_050, 18_000]
    # Marked paid twice: paid once.
    again = post(admin, f"/training/payment-batches/{batch.id}/paid", fund_page)
    assert "already marked paid" in banner(admin.get(again.headers["Location"]))
    for allocation in allocations.values():
        session.refresh(allocation)
    assert sorted(a.paid_pence for a in allocations.values()) == [11_050, 18_000]


def test_the_school_sees_what_has_been_paid(client_for, session, approved) -> None:
    fund, _claims, _allocations = approved
    admin = client_for("la_admin")
    post(admin, f"/training/funds/{fund.id}/payment-batch", f"/training/funds/{fund.id}")
    batch = session.scalars(select(PaymentBatch).where(PaymentBatch.fund_id == fund.id)).one()
    post(admin, f"/training/payment-batches/{batch.id}/paid", f"/training/funds/{fund.id}")
    row = ok_soup(client_for("head_teacher").get("/training/supply")).select_one(
        "#balances tbody tr"
    )
    # Allocation £500, approved £180, paid £180, remaining £320.
    cells = [cell.get_text(strip=True) for cell in row.select("td")]
    assert cells[1:5] == ["£500.00", "£180.00", "£180.00", "£320.00"]


def test_an_unknown_batch_is_not_found(client_for) -> None:
    assert client_for("la_admin").get("/training/payment-batches/999999.csv").status_code == 404
