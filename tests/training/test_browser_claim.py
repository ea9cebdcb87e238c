"""Supply cover in a real browser: Oakfield's head teacher claims for a session a member of
staff attended (the invoice uploaded; a wrong file first, refused beside the field), and a
council administrator approves it; with JavaScript on (every page through axe and the CSP
guard) and off (the guard). See tests/browser_fixtures.py.

Named for its part, not test_browser.py, so it is marked as the browser tests are here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from portal.db import db
from portal.models import Attendance
from tests.helpers.browser import h1, visit
from tests.training.factories import (
    PDF_BYTES,
    allocate_to,
    make_booking,
    make_course,
    make_fund,
    make_session,
    school_by_urn,
)

if TYPE_CHECKING:
    from tests.browser_fixtures import CheckPage, PageGuard, SignIn

pytestmark = [pytest.mark.browser, pytest.mark.slow]

Checkpoint = Callable[[Page, str], None]


@dataclass(frozen=True)
class Claimable:
    fund_id: int
    fund_name: str
    course_title: str
    attendee: str


@pytest.fixture
def claimable(
    live_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Claimable]:
    """A fund open for claims with £500 for Oakfield, covering a course one of its staff
    attended in October, before the fund was set up."""
    monkeypatch.setitem(live_app.config, "CLAIM_EVIDENCE_DIRECTORY", str(tmp_path / "evidence"))
    attendee = f"Attendee {uuid.uuid4().hex[:8]}"
    with live_app.app_context():
        session = db.session
        course = make_course(title="Browser supply course", duration_minutes=360, session=session)
        fund = make_fund(courses=[course], session=session)
        oakfield = school_by_urn(125601, session=session)
        allocate_to(fund, {oakfield: 50_000}, session=session)
        make_booking(
            make_session(course, on=date(2026, 10, 14), session=session),
            oakfield,
            attendance=Attendance.ATTENDED,
            attendee_name=attendee,
            session=session,
        )
        session.commit()
        yield Claimable(fund.id, fund.name, course.title, attendee)


def guard_only(page_guard: PageGuard) -> Checkpoint:
    """With JavaScript off axe.run never settles: the guard only."""
    return lambda page, where: page_guard.check(where)


def claim_and_approve(
    head: Page,
    admin: Page,
    claimable: Claimable,
    sign_in: SignIn,
    checkpoint: Checkpoint,
    tmp_path: Path,
) -> None:
    sign_in(head, "head@oakfield.example")
    visit(head, "/training/supply")
    expect(h1(head)).to_have_text("Supply cover")
    checkpoint(head, "the school's supply cover page")
    head.get_by_role("link", name="Make a claim").click()
    expect(h1(head)).to_have_text("Claim supply cover")
    checkpoint(head, "the claim form")

    head.get_by_label("Fund", exact=True).select_option(
        label=f"{claimable.fund_name} (claims close 30 April 2030)"
    )
    head.get_by_label("Session the cover was for").select_option(
        label=f"{claimable.course_title}, 14 October 2026: {claimable.attendee} "
        "(Oakfield Primary School)"
    )
    head.get_by_label("Days of supply cover").fill("1")
    head.get_by_label("What the cover cost, in pounds").fill("175.50")
    head.get_by_label("The agency's invoice reference").fill("AGY-BROWSER-1")
    # A text file named like an image first: refused, by what it is.
    wrong = tmp_path / "invoice.png"
    wrong.write_text("not an image")
    head.get_by_label("The agency's invoice", exact=True).set_input_files(wrong)
    head.get_by_role("button", name="Send the claim").click()
    expect(head.locator(".govuk-error-summary")).to_contain_text("must be a PDF, PNG or JPEG")
    expect(head.locator("#evidence-error")).to_contain_text("must be a PDF, PNG or JPEG")
    expect(head.get_by_label("The agency's invoice reference")).to_have_value("AGY-BROWSER-1")
    checkpoint(head, "the claim form with its upload refused")

    invoice = tmp_path / "agency invoice.pdf"
    invoice.write_bytes(PDF_BYTES)
    head.get_by_label("The agency's invoice", exact=True).set_input_files(invoice)
    head.get_by_role("button", name="Send the claim").click()
    expect(h1(head)).to_have_text(re.compile(r"^Claim \d+$"))
    expect(head.locator("#claim-status")).to_have_text("Waiting for a decision")
    expect(head.get_by_role("link", name="agency invoice.pdf")).to_be_visible()
    checkpoint(head, "the claim just made")
    claim_heading = h1(head).inner_text()

    sign_in(admin, "admin@council.example")
    visit(admin, f"/training/funds/{claimable.fund_id}/claims")
    checkpoint(admin, "the fund's claims waiting for a decision")
    admin.get_by_role("link", name=claim_heading, exact=True).click()
    expect(h1(admin)).to_have_text(claim_heading)
    expect(admin.get_by_text("£200.00 for 1 day")).to_be_visible()
    checkpoint(admin, "the claim, to decide")
    admin.get_by_role("radio", name="Approve", exact=True).check()
    admin.get_by_role("button", name="Record the decision").click()
    expect(admin.locator(".govuk-notification-banner")).to_contain_text("Approved")
    checkpoint(admin, "the queue after approving")

    visit(head, "/training/supply")
    row = head.locator("#balances tbody tr").filter(has_text=claimable.fund_name)
    expect(row).to_contain_text("£175.50")
    expect(row).to_contain_text("£324.50")
    expect(head.locator("#claims")).to_contain_text("Approved")
    checkpoint(head, "the school's balance after the approval")


def test_a_head_teacher_claims_and_the_council_approves(
    new_context: Callable[..., BrowserContext],
    sign_in: SignIn,
    check_page: CheckPage,
    claimable: Claimable,
    tmp_path: Path,
) -> None:
    claim_and_approve(
        new_context().new_page(), new_context().new_page(), claimable, sign_in, check_page, tmp_path
    )


def test_claiming_and_approving_work_without_javascript(
    no_js_context: Callable[[], BrowserContext],
    sign_in: SignIn,
    page_guard: PageGuard,
    claimable: Claimable,
    tmp_path: Path,
) -> None:
    claim_and_approve(
        no_js_context().new_page(),
        no_js_context().new_page(),
        claimable,
        sign_in,
        guard_only(page_guard),
        tmp_path,
    )
