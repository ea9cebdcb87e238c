"""The price of a place for a school: the one rule (training/prices.py), and what a school
buys in a year read from its buy-back submissions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from portal.models import (
    BuybackChoice,
    BuybackSubmission,
    BuybackWindow,
    ChoiceStatus,
    Cohort,
    Service,
    ServiceKind,
    User,
)
from portal.models.training import MAX_TRAINING_PENCE
from portal.training.prices import late_charge_rule, place_price
from tests.helpers.html import ok_soup
from tests.training.factories import OAKFIELD, make_course, make_session, school_by_urn


@dataclass(frozen=True)
class Terms:
    price_pence: int
    member_price_pence: int | None
    member_service_id: int | None
    academy_price_pence: int | None


pence = st.integers(min_value=0, max_value=MAX_TRAINING_PENCE)


@st.composite
def terms(draw: st.DrawFn) -> Terms:
    price = draw(pence)
    member = draw(st.none() | st.integers(min_value=0, max_value=price))
    return Terms(
        price_pence=price,
        member_price_pence=member,
        member_service_id=None if member is None else 7,
        academy_price_pence=draw(st.none() | pence),
    )


@given(terms(), st.booleans(), st.booleans())
def test_a_school_pays_the_lowest_price_it_qualifies_for(
    course: Terms, academy: bool, buys: bool
) -> None:
    price = place_price(course, academy=academy, buys_member_service=buys)
    listed = course.price_pence
    if academy and course.academy_price_pence is not None:
        listed = course.academy_price_pence
    assert price <= listed
    if buys and course.member_price_pence is not None:
        assert price == min(listed, course.member_price_pence)
    else:
        assert price == listed
    assert 0 <= price <= MAX_TRAINING_PENCE


@given(terms())
def test_a_maintained_school_buying_nothing_pays_the_price(course: Terms) -> None:
    assert place_price(course, academy=False, buys_member_service=False) == course.price_pence


@given(pence, st.none() | pence, st.integers(min_value=0, max_value=90))
def test_the_late_rule_names_the_charge(price: int, late: int | None, days: int) -> None:
    rule = late_charge_rule(price, late, days)
    charge = price if late is None else late
    assert ("no charge" in rule) == (charge == 0)


def test_a_school_that_buys_the_member_service_in_the_sessions_year_pays_less(
    session, client_for
) -> None:
    oakfield = school_by_urn(OAKFIELD, session=session)
    service = session.scalars(
        select(Service).where(Service.kind == ServiceKind.TRADED).order_by(Service.id)
    ).first()
    head = session.scalars(select(User).where(User.email == "head@oakfield.example")).one()
    course = make_course(
        session=session,
        title="Member priced",
        price_pence=10000,
        member_price_pence=6000,
        member_service_id=service.id,
    )
    # Financial year 2031-32 bought, 2032-33 not.
    bought_year = make_session(
        course, session=session, starts_at=datetime(2031, 6, 3, 9, 0, tzinfo=UTC)
    )
    next_year = make_session(
        course, session=session, starts_at=datetime(2032, 6, 3, 9, 0, tzinfo=UTC)
    )
    window = BuybackWindow(
        year=2031,
        cohort=Cohort.ALL,
        opens_at=datetime(2031, 1, 1, tzinfo=UTC),
        closes_at=datetime(2031, 2, 1, tzinfo=UTC),
    )
    session.add(window)
    session.flush()
    choice = BuybackChoice(
        school_id=oakfield.id, window_id=window.id, status=ChoiceStatus.SUBMITTED
    )
    session.add(choice)
    session.flush()
    line = {"service_id": service.id, "buying": True, "net_pence": 100, "vat_pence": 20}
    session.add(
        BuybackSubmission(
            choice_id=choice.id,
            number=1,
            submission_key="training-price-test",
            submitted_by_id=head.id,
            lines=[line],
            net_pence=100,
            vat_pence=20,
        )
    )
    session.commit()
    page = ok_soup(client_for("school_staff").get(f"/training/courses/{course.id}"))
    prices = {
        row.select("td")[0].get_text(" ", strip=True)[:15]: row.select("td")[4].get_text(strip=True)
        for row in page.select("tbody tr")
    }
    assert list(prices.values()) == ["£60.00", "£100.00"], prices
    assert bought_year.id and next_year.id
    # A later submission not buying it: the price goes back up.
    session.add(
        BuybackSubmission(
            choice_id=choice.id,
            number=2,
            submission_key="training-price-test-2",
            submitted_by_id=head.id,
            lines=[{**line, "buying": False}],
            net_pence=0,
            vat_pence=0,
        )
    )
    session.commit()
    page = ok_soup(client_for("school_staff").get(f"/training/courses/{course.id}"))
    assert [row.select("td")[4].get_text(strip=True) for row in page.select("tbody tr")] == [
        "£100.00",
        "£100.00",
    ]
