"""Finding a course and booking a place in a real browser, with JavaScript on (search as
you type, axe on every page) and off (the plain form). The live server's demo data has no
training, so each test adds its own course and session through the app's database."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select

from portal.db import db
from portal.models import (
    Approver,
    AuditEvent,
    Booking,
    Course,
    CourseSession,
    SchoolTrainingSettings,
)
from tests.helpers.browser import visit
from tests.training.factories import OAKFIELD, make_course, make_session, school_by_urn

if TYPE_CHECKING:
    from tests.browser_fixtures import CheckPage, PageGuard, SignIn

# Named test_browser_booking.py, not test_browser.py: marked here as the fixtures mark those.
pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEARCH_LABEL = "Title, description or who it is for"


@pytest.fixture
def course_title(live_app: Flask) -> Iterator[str]:
    """A published, priced course with one countywide session in a month, on the live
    portal; removed afterwards with whatever was booked on it. Oakfield's places need no
    approval meanwhile (the demo's head teacher approves them): the journey is a booking's."""
    title = f"Browser journey {uuid.uuid4().hex[:8]}"
    with live_app.app_context():
        course = make_course(title=title, price_pence=4500, audience="New teaching assistants")
        make_session(course, capacity=5)
        settings = db.session.get(SchoolTrainingSettings, school_by_urn(OAKFIELD).id)
        approver = settings.approver if settings is not None else None
        if settings is not None:
            settings.approver = Approver.NOBODY
        db.session.commit()
        course_id = course.id
    yield title
    with live_app.app_context():
        settings = db.session.get(SchoolTrainingSettings, school_by_urn(OAKFIELD).id)
        if settings is not None and approver is not None:
            settings.approver = approver
        sessions = select(CourseSession.id).where(CourseSession.course_id == course_id)
        bookings = select(Booking.id).where(Booking.session_id.in_(sessions))
        db.session.execute(
            delete(AuditEvent).where(
                AuditEvent.subject_type == "Booking", AuditEvent.subject_id.in_(bookings)
            )
        )
        db.session.execute(delete(Booking).where(Booking.session_id.in_(sessions)))
        db.session.execute(delete(CourseSession).where(CourseSession.course_id == course_id))
        db.session.execute(delete(Course).where(Course.id == course_id))
        db.session.commit()


def test_staff_find_a_course_and_book_a_place(
    page: Page, sign_in: SignIn, check_page: CheckPage, course_title: str
) -> None:
    sign_in(page, "staff@oakfield.example")
    page.get_by_role("link", name="Training", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Training")
    check_page(page, "/training/ as school staff")

    page.get_by_label(SEARCH_LABEL, exact=True).press_sequentially(course_title)
    results = page.locator("#results")
    expect(results.get_by_role("heading", level=2)).to_have_text("1 session")
    expect(page).to_have_url(re.compile(r"/training/\?(.*&)?q=Browser"))
    expect(results).to_contain_text("£45.00")
    check_page(page, "/training/ after searching as you type")

    results.get_by_role("link", name=course_title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(course_title)
    expect(page.locator("main")).to_contain_text("£45.00 a place for Oakfield")
    check_page(page, "the course's page")

    page.get_by_role("link", name=re.compile(r"^Book")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a place")
    check_page(page, "the booking form")
    # A colleague left half-typed: the errors say what is missing and keep what was typed.
    page.get_by_label("A colleague").check()
    page.get_by_label("Colleague's full name").fill("Sam Patel")
    page.get_by_role("button", name="Book a place").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter your colleague's e-mail address"
    )
    expect(page.get_by_label("Colleague's full name")).to_have_value("Sam Patel")
    check_page(page, "the booking form with errors")

    page.get_by_label("Myself").check()
    page.get_by_role("button", name="Book a place").click()
    expect(page).to_have_url(re.compile(r"/training/bookings/\d+$"))
    expect(page.get_by_role("heading", name="Place booked")).to_be_visible()
    expect(page.locator("#booking-status")).to_have_text("Booked")
    check_page(page, "the booking's page")

    visit(page, "/training/bookings")
    expect(page.locator("#results")).to_contain_text(course_title)
    check_page(page, "the school's bookings")


def test_booking_works_without_javascript(
    no_js_page: Page, sign_in: SignIn, page_guard: PageGuard, course_title: str
) -> None:
    # Only the guard here, not axe: with JavaScript off axe.run never settles (see
    # tests/app/test_browser.py). The same templates go through axe with JavaScript on.
    page = no_js_page
    sign_in(page, "head@oakfield.example")
    visit(page, "/training/")
    page.get_by_label(SEARCH_LABEL, exact=True).fill(course_title)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"/training/\?(.*&)?q=Browser"))
    results = page.locator("#results")
    expect(results.get_by_role("heading", level=2)).to_have_text("1 session")
    page_guard.check("/training/ searched without JavaScript")

    results.get_by_role("link", name=course_title).click()
    page.get_by_role("link", name=re.compile(r"^Book")).click()
    page.get_by_label("A colleague").check()
    page.get_by_label("Colleague's full name").fill("Jo Green")
    page.get_by_label("Colleague's e-mail address").fill("jo.green@oakfield.example")
    page.get_by_label("Colleague's job title").fill("Teaching assistant")
    page.get_by_role("button", name="Book a place").click()
    expect(page).to_have_url(re.compile(r"/training/bookings/\d+$"))
    expect(page.locator("#booking-status")).to_have_text("Booked")
    expect(page.locator("main")).to_contain_text("Jo Green, Teaching assistant")
    page_guard.check("the booking's page without JavaScript")
