"""The supply-cover funds for the Schools Forum: each fund's money, one fund's by area, the
page and its download."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.access import Principal
from portal.models import (
    Attendance,
    Booking,
    ClaimStatus,
    FundStatus,
    School,
    SupplyFund,
    User,
)
from portal.training.fund_report import FundFigures, FundReport, fund_charts, fund_report
from tests.helpers.html import ok_soup
from tests.training.factories import (
    make_allocation,
    make_area,
    make_booking,
    make_claim,
    make_course,
    make_fund,
    make_school,
    make_session,
)
from tests.training.test_take_up import clear_training


@dataclass
class Funds:
    cover: SupplyFund
    older: SupplyFund
    draft: SupplyFund


@pytest.fixture
def funds(session: Session) -> Funds:
    """Supply Cover 2026 has allocations in two areas of the tests' own and claims of every
    kind; an older fund has one allocation; a draft has one that is not reported."""
    clear_training(session)
    vale, wold = make_area("Test Vale", session=session), make_area("Test Wold", session=session)
    a, b = (
        make_school(vale, "Vale School A", session=session),
        make_school(vale, "Vale School B", session=session),
    )
    e = make_school(wold, "Wold School E", session=session)
    course = make_course(title="Safeguarding basics", session=session)
    held = make_session(course, starts_at=datetime(2026, 6, 10, 8, 30, tzinfo=UTC), session=session)

    def attended(school: School) -> Booking:
        return make_booking(held, school, attendance=Attendance.ATTENDED, session=session)

    cover = make_fund(
        name="Supply Cover 2026",
        total_pence=100_000,
        covers_from=date(2026, 4, 1),
        status=FundStatus.ALLOCATED,
        session=session,
    )
    make_allocation(cover, a, 40_000, approved=25_000, paid=10_000, session=session)
    make_allocation(cover, b, 35_000, approved=0, session=session)
    make_allocation(cover, e, 25_000, approved=20_000, paid=20_000, session=session)
    make_claim(
        cover,
        attended(a),
        cost_pence=10_000,
        status=ClaimStatus.PAID,
        approved_pence=10_000,
        session=session,
    )
    make_claim(
        cover,
        attended(a),
        cost_pence=18_000,
        status=ClaimStatus.PART_APPROVED,
        approved_pence=15_000,
        session=session,
    )
    make_claim(cover, attended(b), cost_pence=9_000, status=ClaimStatus.REFUSED, session=session)
    make_claim(cover, attended(b), cost_pence=7_001, status=ClaimStatus.SUBMITTED, session=session)
    make_claim(
        cover,
        attended(e),
        cost_pence=20_000,
        status=ClaimStatus.PAID,
        approved_pence=20_000,
        session=session,
    )

    older = make_fund(
        name="Supply Cover 2025",
        covers_from=date(2025, 4, 1),
        status=FundStatus.ALLOCATED,
        session=session,
    )
    make_allocation(older, a, 5_000, session=session)
    older.status = FundStatus.CLOSED
    draft = make_fund(name="Next year's fund", session=session)
    make_allocation(draft, a, 99_999, session=session)
    session.flush()
    return Funds(cover, older, draft)


def report(app: Flask, session: Session, fund: str | None = None) -> FundReport | None:
    admin = session.query(User).filter_by(email="admin@council.example").one()
    with app.test_request_context():
        return fund_report(Principal.of(admin), fund)


def test_each_fund_is_allocated_claimed_approved_paid_and_remaining(
    app: Flask, session: Session, funds: Funds
) -> None:
    found = report(app, session)
    assert found is not None
    # The newest first; a draft's allocations may still change, so it is not reported.
    assert [fund.name for fund in found.funds] == ["Supply Cover 2026", "Supply Cover 2025"]
    cover = found.funds[0].figures
    assert cover == FundFigures(
        "Supply Cover 2026",
        schools=3,
        allocated=100_000,
        claims=5,
        claimed=64_001,  # every claim made, refused ones too
        approved=45_000,
        paid=30_000,
    )
    assert cover.remaining == 55_000
    assert found.total == FundFigures("Total", 4, 105_000, 5, 64_001, 45_000, 30_000)


def test_a_fund_by_area_adds_up_to_the_fund(app: Flask, session: Session, funds: Funds) -> None:
    found = report(app, session, str(funds.cover.id))
    assert found is not None and found.chosen is not None
    assert found.areas == (
        FundFigures("Test Vale", 2, 75_000, 4, 44_001, 25_000, 10_000),
        FundFigures("Test Wold", 1, 25_000, 1, 20_000, 20_000, 20_000),
    )
    assert found.area_total == FundFigures("Total", 3, 100_000, 5, 64_001, 45_000, 30_000)
    assert found.area_total.remaining == 55_000
    charts = fund_charts(found)
    assert [bar.label for bar in charts["areas"].bars] == [
        "Approved: Test Vale",
        "Remaining: Test Vale",
        "Approved: Test Wold",
        "Remaining: Test Wold",
    ]
    assert [bar.value for bar in charts["areas"].bars] == ["250", "500", "200", "50"]


@pytest.mark.parametrize("which", ["draft", "missing", "not a number"])
def test_a_fund_not_reported_is_not_found(
    app: Flask, session: Session, funds: Funds, which: str
) -> None:
    fund = {"draft": str(funds.draft.id), "missing": "999999", "not a number": "x1"}[which]
    assert report(app, session, fund) is None


# --- the page and its download --------------------------------------------------------------


@pytest.fixture
def admin(client_for: Callable[[str], FlaskClient]) -> FlaskClient:
    return client_for("la_admin")


def table_rows(page: BeautifulSoup) -> list[list[str]]:
    table = page.select_one("table")
    assert table is not None
    return [
        [cell.get_text(" ", strip=True) for cell in tr.find_all(["th", "td"])]
        for tr in table.select("tbody tr, tfoot tr")
    ]


def test_the_page_shows_every_fund_in_pounds(funds: Funds, admin: FlaskClient) -> None:
    page = ok_soup(admin.get("/training/reports/funds"))
    rows = table_rows(page)
    assert rows[0] == [
        "Supply Cover 2026",
        "3",
        "£1,000.00",
        "£640.01 5 claims",
        "£450.00",
        "£300.00",
        "£550.00",
    ]
    assert rows[-1][0] == "Total"
    assert "Next year's fund" not in page.get_text()
    link = page.select_one("tbody th a")
    assert link is not None and link["href"].endswith(f"?fund={funds.cover.id}")


def test_a_funds_page_by_area_and_its_download_agree(funds: Funds, admin: FlaskClient) -> None:
    page = ok_soup(admin.get(f"/training/reports/funds?fund={funds.cover.id}"))
    assert page.h1 is not None and page.h1.get_text(strip=True).startswith("Supply Cover 2026")
    shown = table_rows(page)
    assert [row[0] for row in shown] == ["Test Vale", "Test Wold", "Total"]
    link = page.select_one("a[download]")
    assert link is not None
    response = admin.get(link["href"])
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header, *rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert header[:3] == ["Area", "Schools allocated", "Allocated £"]
    for csv_row, cells in zip(rows, shown, strict=True):
        claimed, claims = cells[3].split(" ", 1)
        as_shown = [cells[0], cells[1], cells[2], claims.split()[0], claimed, *cells[4:]]
        assert csv_row == [value.replace("£", "").replace(",", "") for value in as_shown]


def test_the_coordinator_sees_the_funds_without_managing_them(
    funds: Funds, client_for: Callable[[str], FlaskClient], session: Session
) -> None:
    browser = client_for("training_coordinator")
    assert browser.get(f"/training/reports/funds?fund={funds.cover.id}").status_code == 200
    assert browser.get(f"/training/reports/funds?fund={funds.draft.id}").status_code == 404
