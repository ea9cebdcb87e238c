"""CAF officer support in a real browser: a school raises a request through the question pages
(with JavaScript on and off), an area's CAF officer finds it in the queue and works it to an
outcome, the school reads what it may; pressing "Send request" twice makes one request; the
administrator's queue and statistics, and a trust lead's first question. Every page with
JavaScript on goes through axe and the CSP guard (see tests/browser_fixtures.py); with it off, the
guard.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING

from playwright.sync_api import BrowserContext, Locator, Page, expect

from portal_seed.demo import SCHOOLS
from tests.helpers.browser import assert_no_page_load, h1, set_marker, visit

if TYPE_CHECKING:
    from tests.browser_fixtures import CheckPage, PageGuard, SignIn

Checkpoint = Callable[[Page, str], None]

OAKFIELD = "Oakfield Primary School"
MEADOW_ACADEMIES = sorted(name for name, *_, trust in SCHOOLS if trust == "TR01001")

START_HEADING = "Is a child in danger or at risk of significant harm?"
CONSENT_QUESTION = "Has the family agreed to you asking for this support?"
CHECK_HEADING = "Check your answers before sending your request"
DETAILS_LABEL = "Is there anything else the CAF officer should know? (optional)"
REFERENCE = re.compile(r"^CAF-\d{4}-\d{6}$")
SENT_PATH = re.compile(r"/support/(\d+)/sent$")


def unique(what: str) -> str:
    """Text no other test (or earlier run against the same database) has used."""
    return f"Browser test {what} {uuid.uuid4().hex[:10]}"


def summary_value(page: Page, key: str) -> Locator:
    """The value beside ``key`` in the page's summary list."""
    row = page.locator(".govuk-summary-list__row").filter(
        has=page.locator("dt.govuk-summary-list__key", has_text=re.compile(f"^\\s*{key}\\s*$"))
    )
    return row.locator("dd.govuk-summary-list__value")


def press_continue(page: Page) -> None:
    page.get_by_role("button", name="Continue", exact=True).click()


# --- raising a request ------------------------------------------------------------------------


def open_start_page(page: Page, checkpoint: Checkpoint) -> None:
    """The safeguarding interruption page, then its start button to the first question."""
    visit(page, "/support/new")
    expect(h1(page)).to_have_text(START_HEADING)
    expect(page.get_by_text("If a child is in immediate danger, call 999 now.")).to_be_visible()
    checkpoint(page, "the start page of a support request")
    page.get_by_role("button", name="Continue", exact=True).click()


def answer_questions(
    page: Page,
    checkpoint: Checkpoint,
    *,
    details: str,
    urgency: str = "Routine",
    consent_done: bool = False,
) -> None:
    """From the consent page to the check page, for a child, as a person answers."""
    if not consent_done:
        expect(page).to_have_url(re.compile(r"/support/new/consent$"))
        expect(h1(page)).to_have_text(CONSENT_QUESTION)
        checkpoint(page, "the consent question")
        page.get_by_role("radio", name="Yes, the family has given consent").check()
        press_continue(page)

    expect(page).to_have_url(re.compile(r"/support/new/kind$"))
    expect(h1(page)).to_have_text("What support do you need?")
    checkpoint(page, "the kind of support question")
    page.get_by_role("radio", name="Help completing an early help assessment").check()
    press_continue(page)

    expect(page).to_have_url(re.compile(r"/support/new/child$"))
    expect(h1(page)).to_have_text("About the child")
    checkpoint(page, "the questions about the child")
    page.get_by_label("The child's initials", exact=True).fill("jb")
    page.get_by_label("Year group", exact=True).select_option(label="Year 4")
    press_continue(page)

    expect(page).to_have_url(re.compile(r"/support/new/level$"))
    expect(h1(page)).to_have_text("What level of need do you think the child has?")
    checkpoint(page, "the level of need question")
    page.get_by_role("radio", name="Level 2a: early help assessment (CAF)").check()
    press_continue(page)

    expect(page).to_have_url(re.compile(r"/support/new/needs$"))
    expect(h1(page)).to_have_text("What are the child's or family's needs?")
    checkpoint(page, "the areas of need question")
    page.get_by_role("checkbox", name="Attendance", exact=True).check()
    page.get_by_role("checkbox", name="Emotional health and wellbeing", exact=True).check()
    press_continue(page)

    expect(page).to_have_url(re.compile(r"/support/new/urgency$"))
    expect(h1(page)).to_have_text("How soon do you need a response?")
    checkpoint(page, "the urgency question")
    page.get_by_role("radio", name=re.compile(f"^{urgency}: within \\d+ working days?$")).check()
    press_continue(page)

    expect(page).to_have_url(re.compile(r"/support/new/contact$"))
    expect(h1(page)).to_have_text("How to contact you")
    checkpoint(page, "the contact question")
    page.get_by_role("radio", name="By telephone", exact=True).check()
    page.get_by_label("Telephone number (if by telephone)", exact=True).fill("0121 496 0000")
    page.get_by_label("When is it best to contact you? (optional)", exact=True).fill(
        "Weekday mornings"
    )
    press_continue(page)

    expect(page).to_have_url(re.compile(r"/support/new/details$"))
    expect(h1(page)).to_have_text(DETAILS_LABEL)
    checkpoint(page, "the anything else question")
    page.get_by_label(DETAILS_LABEL, exact=True).fill(details)
    press_continue(page)

    expect(page).to_have_url(re.compile(r"/support/new/check$"))
    expect(h1(page)).to_have_text(CHECK_HEADING)


def answer_training_request(page: Page, details: str) -> None:
    """The shortest way through: training for staff skips the questions about a child."""
    visit(page, "/support/new")
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_role("radio", name="Yes, the family has given consent").check()
    press_continue(page)
    page.get_by_role("radio", name="Training for staff", exact=True).check()
    press_continue(page)
    expect(page).to_have_url(re.compile(r"/support/new/urgency$"))
    page.get_by_role("radio", name=re.compile(r"^Soon: ")).check()
    press_continue(page)
    page.get_by_role("radio", name="By e-mail", exact=True).check()
    press_continue(page)
    page.get_by_label(DETAILS_LABEL, exact=True).fill(details)
    press_continue(page)
    expect(h1(page)).to_have_text(CHECK_HEADING)
    expect(summary_value(page, "Anything else")).to_have_text(details)


def read_confirmation(page: Page) -> tuple[str, str]:
    """On the confirmation page: the reference in its panel, and the request's own path."""
    expect(page).to_have_url(SENT_PATH)
    panel = page.locator(".govuk-panel--confirmation")
    expect(panel.get_by_role("heading", level=1)).to_have_text("Request sent")
    reference = panel.locator("strong").inner_text().strip()
    assert REFERENCE.match(reference), f"not a CAF reference: {reference!r}"
    match = SENT_PATH.search(page.url)
    assert match is not None
    return reference, f"/support/{match.group(1)}"


def request_count(page: Page) -> int:
    """How many requests the signed-in person can see, of any status."""
    visit(page, "/support/?status=")
    text = page.locator("#queue > p").first.inner_text()
    if text.startswith("No requests match"):
        return 0
    found = re.match(r"(\d+) requests?\.", text)
    assert found, f"cannot read the number of requests from {text!r}"
    return int(found.group(1))


def newest_reference(page: Page) -> str:
    visit(page, "/support/?status=&sort=newest")
    return page.locator("#queue tbody tr").first.get_by_role("link").inner_text()


def guard_only(page_guard: PageGuard) -> Checkpoint:
    """With JavaScript off axe.run never settles (see tests/app/test_browser.py): the guard only."""
    return lambda page, where: page_guard.check(where)


# --- 1. the whole journey, with JavaScript --------------------------------------------------


def test_school_raises_a_request_an_officer_works_it_and_the_school_sees_the_outcome(
    page: Page,
    new_context: Callable[..., BrowserContext],
    sign_in: SignIn,
    check_page: CheckPage,
) -> None:
    details = unique("journey")
    shared_note = unique("shared note")
    council_note = unique("council-only note")

    # The North area's CAF officer, in a browser of their own, has the queue open already,
    # on a clock the test can move on.
    officer = new_context().new_page()
    officer.clock.install()
    sign_in(officer, "caf.north@council.example")
    visit(officer, "/support/")
    expect(h1(officer)).to_have_text("Support queue")
    set_marker(officer)

    # --- a member of staff asks for support
    sign_in(page, "staff@oakfield.example")
    open_start_page(page, check_page)

    # The consent page, sent with nothing chosen.
    expect(page).to_have_url(re.compile(r"/support/new/consent$"))
    expect(h1(page)).to_have_text(CONSENT_QUESTION)
    check_page(page, "the consent question")
    press_continue(page)
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(page).to_have_title(re.compile(r"^Error: "))
    message = "Select whether the family has given consent"
    link = summary.get_by_role("link", name=message, exact=True)
    expect(link).to_have_count(1)
    expect(page.locator(".govuk-error-message")).to_contain_text(message)
    check_page(page, "the consent question sent with nothing chosen")
    link.click()
    expect(page.get_by_role("radio", name="Yes, the family has given consent")).to_be_focused()
    page.get_by_role("radio", name="Yes, the family has given consent").check()
    press_continue(page)

    answer_questions(page, check_page, details=details, urgency="Routine", consent_done=True)

    # The check page, and one answer changed from it.
    expect(summary_value(page, "Family's consent")).to_have_text(
        "Yes, the family has given consent"
    )
    expect(summary_value(page, "The child")).to_have_text("JB, Year 4")
    expect(summary_value(page, "Areas of need")).to_have_text(
        "Attendance, Emotional health and wellbeing"
    )
    expect(summary_value(page, "Urgency")).to_have_text("Routine")
    expect(summary_value(page, "Contact me")).to_have_text(
        "By telephone on 0121 496 0000, Weekday mornings"
    )
    expect(summary_value(page, "Anything else")).to_have_text(details)
    expect(page.get_by_text("It goes to the CAF officers for the North area.")).to_be_visible()
    check_page(page, "the check your answers page")

    page.get_by_role("link", name="Change urgency", exact=True).click()
    expect(page).to_have_url(re.compile(r"/support/new/urgency\?change=1$"))
    expect(page.get_by_role("radio", name=re.compile(r"^Routine: "))).to_be_checked()
    expect(page.get_by_role("link", name="Back", exact=True)).to_have_attribute(
        "href", "/support/new/check"
    )
    check_page(page, "the urgency question, changing the answer")
    page.get_by_role("radio", name=re.compile(r"^Urgent: ")).check()
    press_continue(page)

    expect(page).to_have_url(re.compile(r"/support/new/check$"))
    expect(summary_value(page, "Urgency")).to_have_text("Urgent")
    expect(summary_value(page, "Anything else")).to_have_text(details)
    check_page(page, "the check page after changing the urgency")

    page.get_by_role("button", name="Send request", exact=True).click()

    reference, request_path = read_confirmation(page)
    expect(page.get_by_text("A CAF officer for the North area will respond by")).to_be_visible()
    check_page(page, f"the confirmation page of {reference}")

    page.get_by_role("link", name="Follow this request", exact=True).click()
    expect(page).to_have_url(re.compile(f"{request_path}$"))
    expect(h1(page)).to_have_text(reference)
    expect(page.locator(".govuk-caption-l")).to_have_text(OAKFIELD)
    expect(page.locator("main .govuk-tag").first).to_have_text("New")
    expect(summary_value(page, "Urgency")).to_have_text("Urgent")
    expect(summary_value(page, "The child")).to_have_text("JB, Year 4")
    expect(summary_value(page, "Anything else")).to_have_text(details)
    expect(page.get_by_role("heading", name="Update this request")).to_have_count(0)
    expect(page.locator(".council-history li")).to_have_count(1)
    check_page(page, f"{reference} as the member of staff who raised it")

    # --- the officer's queue, which refreshes itself every minute
    queue = officer.locator("#queue")
    mine = queue.get_by_role("link", name=reference, exact=True)
    expect(mine).to_have_count(0)
    refresher = officer.locator('#queue [hx-trigger="every 60s"]')
    expect(refresher).to_have_count(1)
    officer.clock.fast_forward("01:01")
    expect(mine).to_be_visible()
    expect(officer.locator("[id=queue]")).to_have_count(1)
    expect(refresher).to_have_count(1)
    assert_no_page_load(officer, "the queue refreshing itself")
    # Something to filter out: the demo's routine request from Oakfield is open in the North.
    routine = queue.get_by_role("cell", name="Routine", exact=True)
    expect(routine.first).to_be_visible()
    check_page(officer, "the North area's support queue")

    officer.get_by_label("Urgency", exact=True).select_option(label="Urgent")
    expect(officer).to_have_url(re.compile(r"/support/?\?(.*&)?urgency=urgent(&|$)"))
    expect(routine).to_have_count(0)
    expect(mine).to_be_visible()
    # The fragment goes inside #queue, and the refresher keeps the new filters.
    expect(officer.locator("[id=queue]")).to_have_count(1)
    expect(refresher).to_have_count(1)
    expect(refresher).to_have_attribute("hx-get", re.compile(r"[?&]urgency=urgent(&|$)"))
    assert_no_page_load(officer, "choosing an urgency")
    check_page(officer, "the support queue filtered to urgent requests")

    officer.get_by_label("Urgency", exact=True).select_option(label="Routine")
    expect(officer).to_have_url(re.compile(r"[?&]urgency=routine(&|$)"))
    expect(mine).to_have_count(0)
    expect(routine.first).to_be_visible()
    assert_no_page_load(officer, "choosing another urgency")

    officer.get_by_label("Urgency", exact=True).select_option(label="Any urgency")
    mine.click()
    expect(officer).to_have_url(re.compile(f"{request_path}$"))
    expect(h1(officer)).to_have_text(reference)
    expect(officer.get_by_role("heading", name="Update this request")).to_be_visible()
    check_page(officer, f"{reference} as the area's CAF officer")

    saved = officer.locator(".govuk-notification-banner--success")
    status = officer.locator("main p .govuk-tag").first
    timeline = officer.locator(".council-history")

    # Acknowledge, with a note the school can read.
    officer.get_by_role("radio", name="Acknowledge it", exact=True).check()
    officer.get_by_label("Note", exact=True).fill(shared_note)
    officer.get_by_role("radio", name="The school and the council", exact=True).check()
    officer.get_by_role("button", name="Save update", exact=True).click()
    expect(saved).to_contain_text("Your update has been saved.")
    expect(status).to_have_text("Acknowledged")
    expect(timeline.locator("li").first).to_contain_text("Acknowledged")
    expect(timeline.locator("li").first).to_contain_text(shared_note)
    expect(summary_value(officer, "CAF officer")).to_have_text("Chris Demo-North")
    check_page(officer, f"{reference} after acknowledging it")

    # In progress needs a meeting date: first without one.
    officer.get_by_role("radio", name="Arrange a meeting (in progress)", exact=True).check()
    officer.get_by_role("button", name="Save update", exact=True).click()
    errors = officer.locator(".govuk-error-summary")
    expect(errors).to_contain_text("There is a problem")
    expect(errors.get_by_role("link", name="Enter the meeting date", exact=True)).to_have_count(1)
    expect(officer).to_have_title(re.compile(r"^Error: "))
    expect(status).to_have_text("Acknowledged")
    expect(
        officer.get_by_role("radio", name="Arrange a meeting (in progress)", exact=True)
    ).to_be_checked()
    check_page(officer, f"{reference} after marking it in progress without a date")
    # (Where its error link takes the focus: test_the_meeting_date_error_links_to_the_day_box.)

    meeting = date.today() + timedelta(days=14)
    officer.get_by_label("Day", exact=True).fill(str(meeting.day))
    officer.get_by_label("Month", exact=True).fill(str(meeting.month))
    officer.get_by_label("Year", exact=True).fill(str(meeting.year))
    officer.get_by_role("button", name="Save update", exact=True).click()
    expect(saved).to_contain_text("Your update has been saved.")
    expect(status).to_have_text("In progress")
    expect(summary_value(officer, "Meeting")).to_have_text(
        f"{meeting.day} {meeting:%B} {meeting.year}"
    )
    check_page(officer, f"{reference} in progress")

    # Close it with an outcome, and a note for the council only.
    officer.get_by_role("radio", name="Close it with an outcome", exact=True).check()
    officer.get_by_role("radio", name="Advice given", exact=True).check()
    officer.get_by_label("Note", exact=True).fill(council_note)
    officer.get_by_role("radio", name="The council only", exact=True).check()
    officer.get_by_role("button", name="Save update", exact=True).click()
    expect(saved).to_contain_text("Your update has been saved.")
    expect(status).to_have_text("Closed")
    expect(summary_value(officer, "Outcome")).to_have_text("Advice given")
    newest = timeline.locator("li").first
    expect(newest).to_contain_text("Closed")
    expect(newest).to_contain_text("Council only")
    expect(newest).to_contain_text(council_note)
    # Nothing can follow a closed request: the page says so, and offers no form.
    expect(
        officer.get_by_text("This request is closed: nothing more can be recorded on it.")
    ).to_be_visible()
    expect(officer.get_by_role("heading", name="Update this request")).to_have_count(0)
    expect(officer.get_by_role("radio")).to_have_count(0)
    check_page(officer, f"{reference} closed")

    # --- back to the school: the outcome and the shared note, not the council's
    visit(page, request_path)
    expect(page.locator("main p .govuk-tag").first).to_have_text("Closed")
    expect(summary_value(page, "Outcome")).to_have_text("Advice given")
    expect(page.locator(".council-history")).to_contain_text(shared_note)
    expect(page.locator(".council-history")).not_to_contain_text(council_note)
    expect(page.get_by_text("Council only", exact=True)).to_have_count(0)
    expect(page.get_by_role("heading", name="Update this request")).to_have_count(0)
    check_page(page, f"{reference}, closed, as the school")


# --- 2. the same without JavaScript -----------------------------------------------------------


def test_raising_a_request_and_filtering_the_queue_work_without_javascript(
    no_js_context: Callable[[], BrowserContext],
    sign_in: SignIn,
    page_guard: PageGuard,
) -> None:
    checkpoint = guard_only(page_guard)
    details = unique("without JavaScript")
    page = no_js_context().new_page()
    sign_in(page, "head@oakfield.example")

    open_start_page(page, checkpoint)
    # The error summary is the server's: it needs no JavaScript.
    expect(page).to_have_url(re.compile(r"/support/new/consent$"))
    press_continue(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select whether the family has given consent"
    )
    checkpoint(page, "the consent question sent empty without JavaScript")
    page.get_by_role("radio", name="Yes, the family has given consent").check()
    press_continue(page)

    answer_questions(page, checkpoint, details=details, urgency="Soon", consent_done=True)
    expect(summary_value(page, "Urgency")).to_have_text("Soon")
    page.get_by_role("link", name="Change urgency", exact=True).click()
    page.get_by_role("radio", name=re.compile(r"^Routine: ")).check()
    press_continue(page)
    expect(page).to_have_url(re.compile(r"/support/new/check$"))
    expect(summary_value(page, "Urgency")).to_have_text("Routine")
    expect(summary_value(page, "Anything else")).to_have_text(details)
    checkpoint(page, "the check page without JavaScript")

    page.get_by_role("button", name="Send request", exact=True).click()
    reference, request_path = read_confirmation(page)
    checkpoint(page, "the confirmation page without JavaScript")
    page.get_by_role("link", name="Follow this request", exact=True).click()
    expect(page).to_have_url(re.compile(f"{request_path}$"))
    expect(h1(page)).to_have_text(reference)
    expect(summary_value(page, "Anything else")).to_have_text(details)
    checkpoint(page, f"{reference} without JavaScript")

    # The officer's filters, sent with the button.
    officer = no_js_context().new_page()
    sign_in(officer, "caf.north@council.example")
    visit(officer, "/support/")
    queue = officer.locator("#queue")
    mine = queue.get_by_role("link", name=reference, exact=True)
    expect(mine).to_be_visible()

    officer.get_by_label("Urgency", exact=True).select_option(label="Urgent")
    officer.get_by_role("button", name="Show requests", exact=True).click()
    expect(officer).to_have_url(re.compile(r"/support/?\?(.*&)?urgency=urgent(&|$)"))
    expect(officer.get_by_label("Urgency", exact=True)).to_have_value("urgent")
    expect(mine).to_have_count(0)
    expect(queue.get_by_role("cell", name="Routine", exact=True)).to_have_count(0)
    checkpoint(officer, "the queue filtered to urgent requests without JavaScript")

    officer.get_by_label("Urgency", exact=True).select_option(label="Routine")
    officer.get_by_label("School", exact=True).fill(OAKFIELD)
    officer.get_by_label("Sort by", exact=True).select_option(label="Newest first")
    officer.get_by_role("button", name="Show requests", exact=True).click()
    expect(officer).to_have_url(re.compile(r"[?&]urgency=routine(&|$)"))
    expect(officer).to_have_url(re.compile(r"[?&]sort=newest(&|$)"))
    expect(queue.locator("tbody tr").first.get_by_role("link")).to_have_text(reference)
    expect(queue.get_by_role("cell", name="Urgent", exact=True)).to_have_count(0)
    checkpoint(officer, "the queue filtered to Oakfield's routine requests without JavaScript")


# --- 3. pressing "Send request" twice ---------------------------------------------------------


def test_pressing_send_twice_with_javascript_makes_one_request(page: Page, sign_in: SignIn) -> None:
    details = unique("double-click")
    sign_in(page, "head@riverside.example")
    before = request_count(page)

    answer_training_request(page, details)
    page.get_by_role("button", name="Send request", exact=True).dblclick()
    reference, request_path = read_confirmation(page)

    assert request_count(page) == before + 1, "a double-click made more than one request"
    assert newest_reference(page) == reference
    visit(page, request_path)
    expect(summary_value(page, "Anything else")).to_have_text(details)


def test_sending_again_without_javascript_makes_one_request(
    no_js_context: Callable[[], BrowserContext], sign_in: SignIn, page_guard: PageGuard
) -> None:
    details = unique("sent twice without JavaScript")
    context = no_js_context()
    page = context.new_page()
    sign_in(page, "head@riverside.example")
    before = request_count(page)

    answer_training_request(page, details)
    # The same check page in a second tab: what a browser's back button shows from its
    # back-forward cache (which Playwright's Chromium turns off), Send button and all.
    kept = context.new_page()
    visit(kept, "/support/new/check")
    expect(summary_value(kept, "Anything else")).to_have_text(details)

    # Without JavaScript nothing stops a double-click sending the form twice.
    page.get_by_role("button", name="Send request", exact=True).dblclick()
    reference, request_path = read_confirmation(page)
    sent_url = page.url
    page_guard.check("sending a request with a double-click without JavaScript")

    # Back, when the browser asks the server again: the answers have gone with the request,
    # so a new request starts, rather than the old one being offered again.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/support/new/consent$"))
    expect(page.get_by_role("radio", name="Yes, the family has given consent")).not_to_be_checked()

    # Back, when the browser shows the check page it kept: sending again shows the first.
    kept.get_by_role("button", name="Send request", exact=True).click()
    expect(kept).to_have_url(sent_url)
    assert read_confirmation(kept) == (reference, request_path)
    page_guard.check("sending the same request again without JavaScript")

    assert request_count(page) == before + 1, "sending twice made more than one request"
    assert newest_reference(page) == reference


def test_the_meeting_date_error_links_to_the_day_box(page: Page, sign_in: SignIn) -> None:
    """GOV.UK's error summary links a date's error to its first box, which takes the focus."""
    sign_in(page, "caf.north@council.example")
    # Any request that can still have its meeting arranged; the update is refused, so
    # nothing changes.
    visit(page, "/support/?status=acknowledged")
    page.locator("#queue tbody tr").first.get_by_role("link").click()
    page.get_by_role("radio", name="Arrange a meeting (in progress)", exact=True).check()
    page.get_by_role("button", name="Save update", exact=True).click()

    link = page.locator(".govuk-error-summary").get_by_role("link", name="Enter the meeting date")
    link.click()
    expect(page.get_by_label("Day", exact=True)).to_be_focused(timeout=2_000)


# --- 4. the administrator's queue and statistics ---------------------------------------------


def test_admin_queue_and_statistics_are_accessible(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, "admin@council.example")
    visit(page, "/support/")
    expect(h1(page)).to_have_text("Support queue")
    expect(page.locator("#queue tbody tr").first).to_be_visible()
    check_page(page, "/support/ as a council administrator")

    page.get_by_role("link", name="Support request statistics", exact=True).click()
    expect(page).to_have_url(re.compile(r"/support/stats$"))
    expect(h1(page)).to_have_text("Support request statistics")
    expect(page.locator("main svg").first).to_be_visible()
    for caption in (
        "Support requests by area",
        "Support requests by status",
        "Support requests by school phase",
        "Support requests submitted in each of the last 12 months",
    ):
        expect(page.get_by_role("table", name=caption, exact=True)).to_be_visible()
    north = page.get_by_role("table", name="Support requests by area", exact=True).get_by_role(
        "row", name=re.compile(r"^North \d")
    )
    expect(north).to_have_count(1)
    check_page(page, "/support/stats")


# --- 5. a trust lead chooses the school first ------------------------------------------------


def test_trust_lead_is_asked_which_school_first(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, "trust@meadowtrust.example")
    open_start_page(page, check_page)

    expect(page).to_have_url(re.compile(r"/support/new/school$"))
    expect(h1(page)).to_have_text("Which school is the request for?")
    radios = page.get_by_role("radio")
    expect(radios).to_have_count(len(MEADOW_ACADEMIES))
    for name in MEADOW_ACADEMIES:
        expect(page.get_by_role("radio", name=name, exact=True)).to_be_visible()
    check_page(page, "the school question for a trust lead")

    press_continue(page)
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("link", name="Choose the school the request is for")).to_be_visible()
    check_page(page, "the school question sent with nothing chosen")

    page.get_by_role("radio", name=MEADOW_ACADEMIES[0], exact=True).check()
    press_continue(page)
    expect(page).to_have_url(re.compile(r"/support/new/consent$"))
    expect(page.get_by_role("link", name="Back", exact=True)).to_have_attribute(
        "href", "/support/new/school"
    )


# --- 6. an officer gives a request to a colleague ------------------------------------------

COLLEAGUE = "caf2.north@council.example"


def raise_training_request(page: Page, sign_in: SignIn, details: str) -> tuple[str, str]:
    """A new request from Oakfield (North), by its head teacher."""
    sign_in(page, "head@oakfield.example")
    answer_training_request(page, details)
    page.get_by_role("button", name="Send request", exact=True).click()
    return read_confirmation(page)


def give_to_colleague(officer: Page, request_path: str, checkpoint: Checkpoint) -> None:
    visit(officer, request_path)
    expect(officer.get_by_role("heading", name="Who is working on it")).to_be_visible()
    checkpoint(officer, f"{request_path} before giving it to a colleague")
    officer.get_by_label("CAF officer", exact=True).select_option(label="Jo Demo-North")
    officer.get_by_role("button", name="Assign", exact=True).click()
    expect(officer).to_have_url(re.compile(f"{request_path}$"))
    expect(officer.locator(".govuk-notification-banner--success")).to_contain_text(
        "This request is with Jo Demo-North now: they have been told by e-mail."
    )
    expect(officer.locator(".council-history li").first).to_contain_text(
        "Assigned to Jo Demo-North"
    )
    expect(summary_value(officer, "CAF officer")).to_have_text("Jo Demo-North")
    expect(officer.get_by_label("CAF officer", exact=True)).to_have_value(re.compile(r"^\d+$"))
    checkpoint(officer, f"{request_path} after giving it to a colleague")


def test_an_officer_gives_a_request_to_a_colleague_who_finds_it_under_mine(
    page: Page,
    new_context: Callable[..., BrowserContext],
    sign_in: SignIn,
    check_page: CheckPage,
) -> None:
    reference, request_path = raise_training_request(page, sign_in, unique("assignment"))

    # Chris's home counts his queue; "new" opens the queue at its new requests.
    officer = new_context().new_page()
    sign_in(officer, "caf.north@council.example")
    counts = officer.locator("#support-queue + ul")
    expect(counts.locator("#queue-new")).to_have_text(re.compile(r"^\d+ new$"))
    expect(counts.locator("#queue-overdue")).to_have_text(re.compile(r"^[1-9]\d* overdue$"))
    check_page(officer, "a CAF officer's home page")
    officer.locator("#queue-new").click()
    expect(officer).to_have_url(re.compile(r"/support/\?status=new$"))
    row = officer.locator("#queue tbody tr").filter(
        has=officer.get_by_role("link", name=reference, exact=True)
    )
    expect(row.get_by_role("cell", name="Nobody yet", exact=True)).to_be_visible()
    check_page(officer, "the queue of new requests, from the home page")

    give_to_colleague(officer, request_path, check_page)

    # Jo, in a browser of her own: her home counts it, and "mine" lists it.
    colleague = new_context().new_page()
    sign_in(colleague, COLLEAGUE)
    expect(colleague.locator("#queue-mine")).to_have_text(re.compile(r"^[1-9]\d* assigned to you$"))
    check_page(colleague, "the colleague's home page")
    visit(colleague, "/support/")
    set_marker(colleague)
    queue = colleague.locator("#queue")
    mine = queue.get_by_role("link", name=reference, exact=True)
    colleague.get_by_label("Assigned to", exact=True).select_option(label="Nobody yet")
    expect(colleague).to_have_url(re.compile(r"[?&]owner=unassigned(&|$)"))
    expect(mine).to_have_count(0)
    colleague.get_by_label("Assigned to", exact=True).select_option(label="Me")
    expect(colleague).to_have_url(re.compile(r"[?&]owner=mine(&|$)"))
    expect(mine).to_be_visible()
    mine_row = queue.locator("tbody tr").filter(
        has=colleague.get_by_role("link", name=reference, exact=True)
    )
    expect(mine_row.get_by_role("cell", name="Jo Demo-North (you)", exact=True)).to_be_visible()
    expect(queue.get_by_role("cell", name="Chris Demo-North", exact=True)).to_have_count(0)
    assert_no_page_load(colleague, "filtering the queue to her own requests")
    check_page(colleague, "the colleague's queue filtered to her requests")

    # Chris's statistics for his area, over a period: a wrong date first.
    visit(officer, "/support/stats")
    expect(officer.get_by_text("Requests from the schools of your area: North.")).to_be_visible()
    check_page(officer, "a CAF officer's statistics")
    period = officer.get_by_role("group", name="From")
    period.get_by_label("Day", exact=True).fill("31")
    period.get_by_label("Month", exact=True).fill("2")
    period.get_by_label("Year", exact=True).fill("2026")
    officer.get_by_role("button", name="Show figures", exact=True).click()
    message = "The from date must be a real date, like 1 4 2026"
    summary = officer.locator(".govuk-error-summary")
    expect(summary.get_by_role("link", name=message)).to_be_visible()
    expect(officer.locator("#date_from-error")).to_contain_text(message)
    check_page(officer, "the statistics with a date that does not exist")
    summary.get_by_role("link", name=message).click()
    expect(period.get_by_label("Day", exact=True)).to_be_focused()
    period.get_by_label("Day", exact=True).fill("1")
    officer.get_by_role("button", name="Show figures", exact=True).click()
    expect(officer.locator(".govuk-error-summary")).to_have_count(0)
    expect(officer.get_by_text(re.compile(r"received from 1 February 2026\."))).to_be_visible()
    expect(
        officer.get_by_role("link", name="Download these figures as CSV", exact=True)
    ).to_have_attribute("href", re.compile(r"^/support/stats\.csv\?.*date_from=1&"))
    check_page(officer, "a CAF officer's statistics from 1 February 2026")


def test_giving_a_request_to_a_colleague_works_without_javascript(
    page: Page,
    no_js_context: Callable[[], BrowserContext],
    sign_in: SignIn,
    page_guard: PageGuard,
) -> None:
    checkpoint = guard_only(page_guard)
    reference, request_path = raise_training_request(page, sign_in, unique("assignment no JS"))

    officer = no_js_context().new_page()
    sign_in(officer, "caf.north@council.example")
    give_to_colleague(officer, request_path, checkpoint)

    colleague = no_js_context().new_page()
    sign_in(colleague, COLLEAGUE)
    colleague.locator("#queue-mine").click()
    expect(colleague).to_have_url(re.compile(r"/support/\?owner=mine$"))
    expect(colleague.get_by_role("link", name=reference, exact=True)).to_be_visible()
    checkpoint(colleague, "the colleague's requests from her home page without JavaScript")

    # The filters, sent with the button.
    colleague.get_by_label("Assigned to", exact=True).select_option(label="Anyone")
    colleague.get_by_label("First response", exact=True).select_option(label="Overdue")
    colleague.get_by_role("button", name="Show requests", exact=True).click()
    expect(colleague).to_have_url(re.compile(r"[?&]due=overdue(&|$)"))
    expect(colleague.get_by_role("link", name=reference, exact=True)).to_have_count(0)
    overdue = colleague.locator("#queue tbody tr")
    expect(overdue.first).to_contain_text("Overdue")
    colleague.get_by_label("Assigned to", exact=True).select_option(label="Me")
    colleague.get_by_label("First response", exact=True).select_option(label="Any date")
    colleague.get_by_role("button", name="Show requests", exact=True).click()
    expect(colleague).to_have_url(re.compile(r"[?&]owner=mine(&|$)"))
    expect(colleague.get_by_role("link", name=reference, exact=True)).to_be_visible()
    checkpoint(colleague, "the colleague's queue filtered without JavaScript")
