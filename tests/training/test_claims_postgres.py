"""Two council administrators approving two claims of one school at the same moment, on
PostgreSQL: the school's approved total never passes its allocation.

The data is committed for real (the two approvals need connections of their own, which a
rolled-back test transaction would not give them) and removed again at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.db import db
from portal.models import (
    Attendance,
    AuditEvent,
    Booking,
    ClaimStatus,
    Course,
    CourseSession,
    FundAllocation,
    SupplyClaim,
    SupplyFund,
    User,
    fund_course,
)
from portal.training import claim_decisions
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
def committed(seeded_app: Flask, database_url: str) -> Iterator[dict[str, int]]:
    """Two claims of £200 from Oakfield, whose allocation is £300, committed."""
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent approvals are tested on PostgreSQL, row locks and all")
    engine = seeded_app.extensions["portal.db"].engine
    with Session(engine) as session:
        course = make_course(duration_minutes=360, session=session)
        fund = make_fund(courses=[course], session=session)
        oakfield = school_by_urn(125601, session=session)
        allocation = allocate_to(fund, {oakfield: 30_000}, session=session)[oakfield.id]
        claims = [
            make_claim(
                fund,
                make_booking(
                    make_session(course, on=date(2026, 10, day), session=session),
                    oakfield,
                    attendance=Attendance.ATTENDED,
                    session=session,
                ),
                cost_pence=20_000,
                session=session,
            )
            for day in (1, 2)
        ]
        session.commit()
        ids = {
            "fund": fund.id,
            "course": course.id,
            "allocation": allocation.id,
            "claims": [claim.id for claim in claims],
            "bookings": [claim.booking_id for claim in claims],
        }
    yield ids
    with Session(engine) as session:
        session.execute(
            delete(AuditEvent).where(
                AuditEvent.subject_type == "SupplyClaim", AuditEvent.subject_id.in_(ids["claims"])
            )
        )
        session.execute(delete(SupplyClaim).where(SupplyClaim.id.in_(ids["claims"])))
        session.execute(delete(FundAllocation).where(FundAllocation.fund_id == ids["fund"]))
        session.execute(delete(fund_course).where(fund_course.c.fund_id == ids["fund"]))
        session.execute(delete(SupplyFund).where(SupplyFund.id == ids["fund"]))
        sessions = select(Booking.session_id).where(Booking.id.in_(ids["bookings"]))
        held = list(session.scalars(sessions))
        session.execute(delete(Booking).where(Booking.id.in_(ids["bookings"])))
        session.execute(delete(CourseSession).where(CourseSession.id.in_(held)))
        session.execute(delete(Course).where(Course.id == ids["course"]))
        session.commit()


def test_two_approvals_at_once_never_exceed_the_allocation(
    seeded_app: Flask, committed: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both administrators have marked their claim approved and reach the allocation together.
    together = threading.Barrier(2, timeout=30)
    raise_approved = claim_decisions._raise_approved

    def at_the_same_moment(fund_id: int, school_id: int, amount: int) -> bool:
        together.wait()
        return raise_approved(fund_id, school_id, amount)

    monkeypatch.setattr(claim_decisions, "_raise_approved", at_the_same_moment)
    outcomes: list[claim_decisions.Decided] = []
    failures: list[BaseException] = []

    def approve(claim_id: int) -> None:
        try:
            with seeded_app.app_context():
                admin = db.session.scalars(
                    select(User).where(User.email == "admin@council.example")
                ).one()
                claim = db.session.get(SupplyClaim, claim_id)
                decision = claim_decisions.Decision(claim_decisions.Verdict.APPROVE, None, "")
                outcomes.append(claim_decisions.decide(claim, decision, admin))
        except BaseException as error:
            failures.append(error)

    threads = [
        threading.Thread(target=approve, args=(claim_id,)) for claim_id in committed["claims"]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert len(outcomes) == 2
    refused = [outcome for outcome in outcomes if outcome.errors]
    assert len(refused) == 1
    # The administrator whose approval did not fit is told what is left: £100.
    assert "£100.00" in refused[0].errors["verdict"]
    engine = seeded_app.extensions["portal.db"].engine
    with Session(engine) as session:
        allocation = session.get(FundAllocation, committed["allocation"])
        assert allocation.approved_pence == 20_000 <= allocation.amount_pence
        statuses = sorted(
            session.scalars(
                select(SupplyClaim.status).where(SupplyClaim.id.in_(committed["claims"]))
            )
        )
        assert statuses == sorted([ClaimStatus.APPROVED, ClaimStatus.SUBMITTED])
