"""A fund shared among schools by its formula: whole pence that add up to the fund exactly,
each school less than a penny from its exact share, shown before it is confirmed."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from portal.models import (
    FundAllocation,
    FundEligibility,
    FundStatus,
    School,
    SchoolRoll,
    SupplyFund,
)
from portal.training.allocation import MICRO, AllocationRefused, Roll, allocate
from tests.conftest import csrf_token
from tests.helpers.html import error_summary, ok_soup
from tests.training.factories import make_course, make_fund

rolls = st.lists(st.integers(min_value=0, max_value=5_000), min_size=1, max_size=40)


@given(
    total=st.integers(min_value=1, max_value=100_000_000),
    lump=st.integers(min_value=0, max_value=1_000_000),
    pupils=rolls,
)
def test_the_allocations_add_up_to_the_fund_and_each_is_within_a_penny(
    total: int, lump: int, pupils: list[int]
) -> None:
    schools = [Roll(i, 100_000 + i, f"School {i}", n) for i, n in enumerate(pupils)]
    try:
        shown = allocate(total, lump, schools)
    except AllocationRefused:
        # Refused only when the formula cannot be met.
        assert lump * len(pupils) > total or sum(pupils) == 0
        return
    assert sum(share.amount_pence for share in shown.shares) == total
    left = total - lump * len(pupils)
    for share in shown.shares:
        exact = Fraction(left * share.pupils, sum(pupils)) if sum(pupils) else Fraction(0)
        assert abs(share.pupil_share_pence - exact) < 1
        assert share.lump_sum_pence == lump
        # The exact share kept is the exact share, to the millionth of a penny.
        assert abs(Fraction(share.exact_pupil_share_micropence, MICRO) - exact) <= Fraction(
            1, 2 * MICRO
        )


def test_the_pennies_left_over_go_to_the_largest_remainders_then_the_lower_urn() -> None:
    # £0.10 by 3 equal schools: 3.33p each, one penny over, to the lowest URN.
    schools = [Roll(1, 300, "C", 10), Roll(2, 100, "A", 10), Roll(3, 200, "B", 10)]
    shown = allocate(10, 0, schools)
    given_pence = {share.urn: share.pupil_share_pence for share in shown.shares}
    assert given_pence == {100: 4, 200: 3, 300: 3}
    # Read in another order, the same answer.
    assert allocate(10, 0, list(reversed(schools))).shares == shown.shares
    # 11p by 1, 2 and 7 pupils: 1.1, 2.2 and 7.7; 1p over goes to 7.7 (0.7 lost).
    uneven = allocate(11, 0, [Roll(1, 1, "A", 1), Roll(2, 2, "B", 2), Roll(3, 3, "C", 7)])
    assert [(s.urn, s.pupil_share_pence, s.rounded_up) for s in uneven.shares] == [
        (1, 1, False),
        (2, 2, False),
        (3, 8, True),
    ]


def test_a_formula_that_cannot_be_met_is_refused_saying_why() -> None:
    with pytest.raises(AllocationRefused, match="more than the fund"):
        allocate(1_000, 600, [Roll(1, 1, "A", 10), Roll(2, 2, "B", 10)])
    with pytest.raises(AllocationRefused, match="No eligible school has pupils"):
        allocate(1_000, 100, [Roll(1, 1, "A", 0), Roll(2, 2, "B", 0)])
    with pytest.raises(AllocationRefused, match="No open school"):
        allocate(1_000, 0, [])
    # Lump sums that use the whole fund need no pupils.
    assert allocate(1_000, 500, [Roll(1, 1, "A", 0), Roll(2, 2, "B", 0)]).allocated_pence == 1_000


def _form(session, **changes) -> dict[str, object]:
    course = make_course(duration_minutes=360, session=session)
    session.commit()
    data = {
        "name": "Integrated working supply cover",
        "total": "154,000.00",
        "courses": [str(course.id)],
        "covers_from": ["1", "9", "2026"],
        "covers_to": ["31", "3", "2027"],
        "claims_close_on": ["30", "4", "2027"],
        "daily_rate": "200",
        "half_day_rate": "110",
        "eligibility": "all_schools",
        "lump_sum": "500",
        "roll_year": "2026",
    }
    return {**data, **changes}


def test_an_administrator_sets_up_a_fund_checks_its_allocation_and_confirms_it(
    client_for, session
) -> None:
    admin = client_for("la_admin")
    data = _form(session)
    response = admin.post(
        "/training/funds/new", data={**data, "csrf_token": csrf_token(admin, "/training/funds/new")}
    )
    assert response.status_code == 303, error_summary(response)
    fund = session.scalars(select(SupplyFund).where(SupplyFund.name == data["name"])).one()
    assert (fund.total_pence, fund.lump_sum_pence, fund.status) == (
        15_400_000,
        50_000,
        FundStatus.DRAFT,
    )
    page = ok_soup(admin.get(f"/training/funds/{fund.id}/allocation"))
    rows = page.select("#allocation tbody tr")
    open_schools = session.scalars(
        select(FundAllocation.id).where(FundAllocation.fund_id == fund.id)
    ).all()
    assert open_schools == []  # nothing written before it is confirmed
    assert len(rows) >= 5
    assert page.select_one("#allocated-total").get_text(strip=True) == "£154,000.00"
    # Each row says how its share was rounded; the pennies added are counted in the total.
    rounding = [row.select("td")[4].get_text(strip=True) for row in rows]
    up = [text for text in rounding if text.startswith("Rounded up by")]
    assert all(text.startswith(("Rounded up by", "Rounded down by", "Exact")) for text in rounding)
    footer = page.select_one("#allocation tfoot").get_text(" ", strip=True)
    assert f"{len(up)} rounded up by a penny" in footer
    # The exact shares add up to what is left after the lump sums.
    left = 15_400_000 - 50_000 * len(rows)
    assert f"£{left // 100:,}.{left % 100:02d}00" in footer
    token = page.select_one("input[name=fingerprint]")["value"]
    confirmed = admin.post(
        f"/training/funds/{fund.id}/allocation",
        data={
            "csrf_token": csrf_token(admin, f"/training/funds/{fund.id}/allocation"),
            "fingerprint": token,
        },
    )
    assert confirmed.status_code == 303
    session.refresh(fund)
    assert fund.status is FundStatus.ALLOCATED and fund.allocated_at is not None
    written = session.scalars(select(FundAllocation).where(FundAllocation.fund_id == fund.id)).all()
    assert sum(row.amount_pence for row in written) == 15_400_000
    assert len(written) == len(rows)
    assert all(
        abs(row.pupil_share_pence * MICRO - row.exact_pupil_share_micropence) < MICRO
        for row in written
    )
    # Confirmed: the page shows it as fixed, with no button, and the fund can no longer change.
    after = ok_soup(admin.get(f"/training/funds/{fund.id}/allocation"))
    assert "These amounts are fixed" in after.get_text()
    assert after.select_one("input[name=fingerprint]") is None
    assert admin.get(f"/training/funds/{fund.id}/edit").status_code == 303


def test_maintained_only_leaves_academies_out(client_for, session) -> None:
    fund = make_fund(
        courses=[make_course(duration_minutes=360, session=session)],
        eligibility=FundEligibility.MAINTAINED,
        session=session,
    )
    session.commit()
    page = ok_soup(client_for("la_admin").get(f"/training/funds/{fund.id}/allocation"))
    names = page.select_one("#allocation tbody").get_text()
    assert "Oakfield" in names
    assert "Riverside Academy" not in names


def test_a_formula_that_cannot_be_met_is_explained_on_the_page(client_for, session) -> None:
    fund = make_fund(
        courses=[make_course(duration_minutes=360, session=session)],
        total_pence=1_000,
        lump_sum_pence=999,
        session=session,
    )
    session.commit()
    page = ok_soup(client_for("la_admin").get(f"/training/funds/{fund.id}/allocation"))
    assert "The formula cannot be met" in page.get_text()
    assert "Lower the lump sum" in page.get_text()
    assert page.select_one("input[name=fingerprint]") is None


def test_the_form_explains_bad_input_beside_each_field_and_keeps_it(client_for, session) -> None:
    admin = client_for("la_admin")
    data = _form(session, total="lots", half_day_rate="300", lump_sum="200000", courses=[])
    response = admin.post(
        "/training/funds/new", data={**data, "csrf_token": csrf_token(admin, "/training/funds/new")}
    )
    assert response.status_code == 200
    errors = error_summary(response)
    assert "Enter an amount in pounds and pence, like 1250.00" in errors
    assert "Select the courses the fund covers" in errors
    assert "The half-day rate must be no more than the daily rate" in errors
    page = ok_soup(response)
    assert page.select_one("input[name=total]")["value"] == "lots"


def test_an_allocation_that_changed_since_it_was_shown_is_not_confirmed(
    client_for, session
) -> None:
    fund = make_fund(courses=[make_course(duration_minutes=360, session=session)], session=session)
    session.commit()
    admin = client_for("la_admin")
    page = ok_soup(admin.get(f"/training/funds/{fund.id}/allocation"))
    token = page.select_one("input[name=fingerprint]")["value"]
    oakfield = session.scalars(select(School).where(School.urn == 125601)).one()
    oakfield.pupils_on_roll += 7
    for roll in session.scalars(select(SchoolRoll).where(SchoolRoll.school_id == oakfield.id)):
        roll.pupils_on_roll += 7
    session.commit()
    response = admin.post(
        f"/training/funds/{fund.id}/allocation",
        data={
            "csrf_token": csrf_token(admin, f"/training/funds/{fund.id}/allocation"),
            "fingerprint": token,
        },
    )
    assert response.status_code == 303
    session.refresh(fund)
    assert fund.status is FundStatus.DRAFT
    assert "changed while you were reading it" in admin.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_a_draft_fund_is_changed_and_a_change_made_meanwhile_is_not_lost(
    client_for, session
) -> None:
    fund = make_fund(courses=[make_course(duration_minutes=360, session=session)], session=session)
    session.commit()
    admin = client_for("la_admin")
    path = f"/training/funds/{fund.id}/edit"
    page = ok_soup(admin.get(path))
    assert page.select_one("input[name=total]")["value"] == "10000.00"
    version = page.select_one("input[name=version]")["value"]
    data = _form(session, name="Renamed fund", version=version)
    assert admin.post(path, data={**data, "csrf_token": csrf_token(admin, path)}).status_code == 303
    session.refresh(fund)
    assert (fund.name, fund.total_pence) == ("Renamed fund", 15_400_000)
    # The same form again, from the version before the change: refused, nothing lost.
    stale = _form(session, name="Stale name", version=version)
    response = admin.post(path, data={**stale, "csrf_token": csrf_token(admin, path)})
    assert response.status_code == 303
    session.refresh(fund)
    assert fund.name == "Renamed fund"
    assert "Someone else changed this fund" in admin.get(response.headers["Location"]).get_data(
        as_text=True
    )
