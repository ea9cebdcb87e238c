"""A council administrator's home page lists each fund's supply-cover claims waiting for a
decision, linked to the fund's claims (which list those waiting); nobody else's does."""

from __future__ import annotations

from portal.models import Attendance, ClaimStatus
from tests.helpers.html import ok_soup
from tests.training.factories import (
    OAKFIELD,
    RIVERSIDE,
    allocate_to,
    make_booking,
    make_claim,
    make_course,
    make_fund,
    make_session,
    school_by_urn,
)


def _claims_on(session, fund, statuses: list[ClaimStatus]) -> None:
    course = fund.courses[0]
    oakfield, riverside = (school_by_urn(urn, session=session) for urn in (OAKFIELD, RIVERSIDE))
    for day, status in enumerate(statuses, start=1):
        held = make_session(course, on=fund.covers_from.replace(day=day), session=session)
        booking = make_booking(
            held,
            oakfield if day % 2 else riverside,
            attendance=Attendance.ATTENDED,
            session=session,
        )
        make_claim(fund, booking, status=status, session=session)


def _funds(session):
    course = make_course(duration_minutes=360, session=session)
    funds = [make_fund(courses=[course], session=session) for _ in range(3)]
    for fund in funds:
        allocate_to(
            fund,
            {school_by_urn(urn, session=session): 50_000 for urn in (OAKFIELD, RIVERSIDE)},
            session=session,
        )
    return funds


def test_each_funds_claims_waiting_are_counted_and_linked(client_for, session) -> None:
    first, second, decided = _funds(session)
    waiting, approved, refused = ClaimStatus.SUBMITTED, ClaimStatus.APPROVED, ClaimStatus.REFUSED
    _claims_on(session, first, [waiting, approved, waiting, refused, waiting])
    _claims_on(session, second, [waiting])
    _claims_on(session, decided, [approved, refused, ClaimStatus.PAID])
    session.commit()

    home = ok_soup(client_for("la_admin").get("/"))

    links = {
        link.get_text(" ", strip=True): link["href"]
        for link in home.select("a")
        if "waiting for a decision" in link.get_text()
    }
    assert links == {
        "3 supply-cover claims waiting for a decision": f"/training/funds/{first.id}/claims",
        "1 supply-cover claim waiting for a decision": f"/training/funds/{second.id}/claims",
    }
    text = home.get_text(" ")
    assert f"{first.name}: approve, part-approve or refuse each." in text
    assert decided.name not in text


def test_the_claims_page_it_links_to_lists_those_waiting(client_for, session) -> None:
    fund = _funds(session)[0]
    _claims_on(session, fund, [ClaimStatus.SUBMITTED, ClaimStatus.APPROVED])
    session.commit()
    admin = client_for("la_admin")
    home = ok_soup(admin.get("/"))
    link = next(a for a in home.select("a") if "waiting for a decision" in a.get_text())
    claims = ok_soup(admin.get(link["href"]))
    rows = claims.select("tbody tr")
    assert len(rows) == 1


def test_nothing_waiting_lists_nothing_and_others_never_see_it(client_for, session) -> None:
    fund = _funds(session)[0]
    _claims_on(session, fund, [ClaimStatus.APPROVED])
    session.commit()
    assert "waiting for a decision" not in ok_soup(client_for("la_admin").get("/")).get_text()
    _claims_on(session, _funds(session)[0], [ClaimStatus.SUBMITTED])
    session.commit()
    for role in ("head_teacher", "trust_lead", "training_coordinator", "publisher"):
        text = ok_soup(client_for(role).get("/")).get_text()
        assert "waiting for a decision" not in text, role
