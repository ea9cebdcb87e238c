"""Buy-back in a real browser: Oakfield's staff prepare a category of the draft (the total
follows each change without a page load), the head teacher finishes the other categories,
submits with a purchase order and reads the confirmation; the same pages without JavaScript
("Update total", "Save and return to your choices"); a trust lead's table and an academy's
read-only pages; the council's windows, the window form and an analysis.

The demo's maintained schools' 2027-28 window is open (the live server runs on the real
clock), the academies' is upcoming. Only the first test submits Oakfield's choices, and every
test reads what it changes from the page rather than assuming it, so they pass in any order.
Pages with JavaScript on go through axe and the CSP guard (see tests/browser_fixtures.py); with
it off, the guard only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from flask import Flask
from playwright.sync_api import BrowserContext, Locator, Page, expect
from sqlalchemy import select

from portal.db import db
from portal.models import OutboxMessage
from portal_seed.demo import SCHOOLS
from tests.helpers.browser import assert_no_page_load, h1, set_marker, visit

if TYPE_CHECKING:
    from tests.browser_fixtures import CheckPage, PageGuard, SignIn

OAKFIELD = "Oakfield Primary School"
MEADOW_ACADEMIES = sorted(name for name, *_, trust in SCHOOLS if trust == "TR01001")
YEAR = "2027-28"
MONEY = r"£[\d,]+\.\d\d"
TOTAL = re.compile(rf"^Total for {YEAR}: ({MONEY})$")
YEAR_TOTAL = re.compile(rf"Total for {YEAR}, every category: ({MONEY})\.")
CHOICE_PATH = re.compile(r"/buy-back/(\d+)$")
CATEGORY_PATH = re.compile(r"/buy-back/\d+/categories/\d+$")
SAVE = "Save and return to your choices"


# --- helpers ----------------------------------------------------------------------------------


def pence(money: str) -> int:
    """'£1,234.56' in pence."""
    return int(Decimal(money.replace("£", "").replace(",", "")) * 100)


def total_heading(page: Page) -> Locator:
    """The choice page's total for the year."""
    return page.locator("#choice-total h2")


def read_total(page: Page) -> str:
    """The choice page's total, as '£1,234.56': the one total or, for a choice changed since
    it was submitted, the total if submitted again now."""
    if page.locator("#draft-total").count():
        return page.locator("#draft-total").inner_text().split(":")[0].strip()
    expect(total_heading(page)).to_have_text(TOTAL)
    match = TOTAL.match(total_heading(page).inner_text().strip())
    assert match is not None
    return match.group(1)


def expect_total(page: Page, money: str) -> None:
    """The choice page shows ``money`` as what submitting now would send."""
    if page.locator("#draft-total").count():
        expect(page.locator("#draft-total")).to_contain_text(f"{money}:")
    else:
        expect(total_heading(page)).to_have_text(f"Total for {YEAR}: {money}")


def read_year_total(page: Page) -> str:
    """A category page's total for the whole year (every category), as '£1,234.56'."""
    text = page.locator("#choice-total p")
    expect(text).to_contain_text(YEAR_TOTAL)
    match = YEAR_TOTAL.search(text.inner_text())
    assert match is not None
    return match.group(1)


def task_link(page: Page, category: str) -> Locator:
    return page.locator("ul.govuk-task-list").get_by_role("link", name=category, exact=True)


def task_status(page: Page, category: str) -> Locator:
    item = page.locator(".govuk-task-list__item").filter(
        has=page.get_by_role("link", name=category, exact=True)
    )
    return item.locator(".govuk-task-list__status")


def categories(page: Page) -> list[str]:
    return [name.strip() for name in page.locator(".govuk-task-list__link").all_inner_texts()]


def service_block(page: Page, service: str) -> Locator:
    """One service's part of a category's form: its radios, and its Option and How many boxes."""
    return page.locator(".council-choice").filter(
        has=page.get_by_role("group", name=service, exact=True)
    )


def radio(page: Page, service: str, label: str) -> Locator:
    group = page.get_by_role("group", name=service, exact=True)
    return group.get_by_role("radio", name=label, exact=True)


def not_bought(page: Page) -> list[str]:
    """The services on a category's page answered "Not buying"."""
    legends = page.locator(".council-choice:has(input[type=radio][value=no]:checked) legend")
    return [name.strip() for name in legends.all_inner_texts()]


def open_category_with_a_service_not_bought(page: Page) -> tuple[str, str]:
    """From the choice page, the first category with a service not bought, opened: the
    category and that service."""
    for category in categories(page):
        task_link(page, category).click()
        expect(h1(page)).to_have_text(category)
        services = not_bought(page)
        if services:
            return category, services[0]
        page.go_back()
    raise AssertionError("every service on Oakfield's choice is bought")


def buy(page: Page, service: str) -> str | None:
    """Answer "Buying" for the service, saying how many if it is sold by the unit (an empty
    box is asked about, never taken as 1), and choosing its first option if it asks; that
    option."""
    how_many = page.get_by_label(f"How many (for prices per unit or pack) of {service}")
    if how_many.count() and not how_many.input_value():
        how_many.fill("2")
    radio(page, service, "Buying").check()
    if service_block(page, service).locator("select").count() == 0:
        return None
    options = page.get_by_label(f"Option for {service}", exact=True)
    option = options.locator("option").nth(1).inner_text().strip()
    options.select_option(label=option)
    return option


def unanswered(page: Page) -> list[str]:
    """The services on a category's page answered neither "Buying" nor "Not buying"."""
    legends = page.locator(".council-choice:not(:has(input[type=radio]:checked)) legend")
    return [name.strip() for name in legends.all_inner_texts()]


def open_oakfield(page: Page) -> str:
    """/buy-back/ as someone from Oakfield: straight to its choice page. Its path."""
    visit(page, "/buy-back/")
    expect(page).to_have_url(CHOICE_PATH)
    expect(h1(page)).to_have_text(f"Buy-back for {YEAR}")
    expect(page.locator(".govuk-caption-l")).to_have_text(OAKFIELD)
    match = CHOICE_PATH.search(page.url)
    assert match is not None
    return match.group(0)


def success_banner(page: Page) -> Locator:
    return page.locator(".govuk-notification-banner--success")


# --- 1. Oakfield's whole journey, with JavaScript -----------------------------------------------


def test_staff_prepare_and_the_head_submits_oakfields_choices(
    page: Page,
    new_context: Callable[..., BrowserContext],
    sign_in: SignIn,
    check_page: CheckPage,
) -> None:
    sign_in(page, "staff@oakfield.example")
    choice_path = open_oakfield(page)
    expect(
        page.get_by_text("Your head teacher submits the choices; you can prepare them.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Submit choices")).to_have_count(0)
    check_page(page, "Oakfield's choice page as a member of staff")

    # One service from "Not buying" to "Buying": the totals follow, without a page load.
    before = read_total(page)
    category, service = open_category_with_a_service_not_bought(page)
    expect(page).to_have_url(CATEGORY_PATH)
    assert read_year_total(page) == before
    set_marker(page)
    option = buy(page, service)
    expect(page.locator("#choice-total p")).not_to_contain_text(f"every category: {before}.")
    after = read_year_total(page)
    assert pence(after) > pence(before), f"buying {service} took the total from {before} to {after}"
    assert_no_page_load(page, "changing an answer")
    expect(radio(page, service, "Buying")).to_be_checked()
    check_page(page, f"Oakfield's {category} after the total changed")

    page.get_by_role("button", name=SAVE, exact=True).click()
    expect(page).to_have_url(re.compile(f"{choice_path}$"))
    expect(success_banner(page)).to_contain_text(
        f"Your choices for {category} have been saved as a draft."
    )
    expect_total(page, after)
    check_page(page, "Oakfield's choice page after saving a category")

    # --- the head teacher finds the draft
    head = new_context().new_page()
    sign_in(head, "head@oakfield.example")
    open_oakfield(head)
    expect(
        head.get_by_text(re.compile(r"Draft saved by Sol Demo-Staff on .*Not yet submitted\."))
    ).to_be_visible()
    expect_total(head, after)
    task_link(head, category).click()
    expect(radio(head, service, "Buying")).to_be_checked()
    if option is not None:
        expect(service_block(head, service).locator("select option:checked")).to_have_text(option)
    head.get_by_role("link", name="Back to your choices", exact=True).click()
    expect(head).to_have_url(re.compile(f"{choice_path}$"))

    # Submitting without the declaration (and with a category unfinished, as the demo's new
    # service leaves one): the error summary, with the purchase order kept.
    unfinished = [c for c in categories(head) if task_status(head, c).inner_text() != "Completed"]
    assert unfinished, "the demo's new service should leave a category unanswered"
    purchase_order = "PO-BROWSER-1"
    head.get_by_label("Purchase order number (optional)", exact=True).fill(purchase_order)
    head.get_by_role("button", name="Submit choices", exact=True).click()
    summary = head.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    declaration_error = "Confirm that you are authorised to commit the school to these purchases"
    expect(summary.get_by_role("link", name=declaration_error, exact=True)).to_be_visible()
    for name in unfinished:
        link = summary.get_by_role("link", name=re.compile(rf"^{name}: answer every service"))
        expect(link).to_be_visible()
    expect(head).to_have_title(re.compile(r"^Error: "))
    declaration = head.get_by_label(re.compile(r"^I am authorised to commit Oakfield"))
    expect(declaration).to_have_accessible_description(re.compile(declaration_error))
    expect(head.get_by_label("Purchase order number (optional)", exact=True)).to_have_value(
        purchase_order
    )
    expect_total(head, after)
    check_page(head, "Oakfield's choice page submitted without the declaration")

    # The error's link leads to the category; every service in it answered, and saved.
    summary.get_by_role("link", name=re.compile(rf"^{unfinished[0]}: answer every service")).click()
    expect(task_link(head, unfinished[0])).to_be_focused()
    for name in unfinished:
        task_link(head, name).click()
        expect(h1(head)).to_have_text(name)
        for left in unanswered(head):
            radio(head, left, "Not buying").check()
        assert not unanswered(head)
        head.get_by_role("button", name=SAVE, exact=True).click()
        expect(success_banner(head)).to_contain_text(f"Your choices for {name}")
        expect(task_status(head, name)).to_have_text("Completed")
    expect_total(head, after)

    # Now properly: the declaration ticked.
    head.get_by_label("Purchase order number (optional)", exact=True).fill(purchase_order)
    head.get_by_label(re.compile(r"^I am authorised to commit Oakfield")).check()
    head.get_by_role("button", name="Submit choices", exact=True).click()

    expect(head).to_have_url(re.compile(rf"{choice_path}/submissions/\d+$"))
    confirmation_url = head.url
    expect(head.locator(".govuk-panel__title")).to_have_text("Choices submitted")
    expect(head.locator(".govuk-panel__body")).to_contain_text(f"{OAKFIELD}, {YEAR}")
    expect(head.get_by_text(f"Purchase order {purchase_order}.")).to_be_visible()
    bought = head.get_by_role("table", name=f"What {OAKFIELD} is buying")
    row = bought.get_by_role("row").filter(
        has=head.get_by_role("rowheader", name=service, exact=True)
    )
    expect(row).to_have_count(1)
    if option is not None:
        expect(row.get_by_role("cell").first).to_contain_text(option)
    total_row = bought.get_by_role("row").filter(
        has=head.get_by_role("rowheader", name="Total", exact=True)
    )
    expect(total_row.get_by_role("cell")).to_have_text(after)
    invoices = head.locator("main .govuk-list").first.locator("li")
    expect(invoices).to_have_count(2)
    expect(invoices.nth(0)).to_have_text(
        re.compile(r"^April 2027: £[\d,]+\.\d\d \(7/12 of the year\)$")
    )
    expect(invoices.nth(1)).to_have_text(
        re.compile(r"^September 2027: £[\d,]+\.\d\d \(5/12 of the year\)$")
    )
    april, september = (
        pence(re.search(MONEY, text).group(0)) for text in invoices.all_inner_texts()
    )
    assert april == pence(after) * 7 // 12
    assert april + september == pence(after), "the invoices do not add up to the total"
    check_page(head, "the confirmation of Oakfield's choices")

    head.get_by_role("link", name="Back to your choices", exact=True).click()
    expect(head).to_have_url(re.compile(f"{choice_path}$"))
    expect(
        head.get_by_text(re.compile(r"Submitted \d+ times?; last by Hannah Demo-Head"))
    ).to_be_visible()
    see = head.get_by_role("link", name="See the confirmation", exact=True)
    expect(see).to_have_attribute("href", re.compile(r"/submissions/\d+$"))
    see.click()
    expect(head).to_have_url(confirmation_url)
    check_page(head, "the confirmation, reached from the choice page")


# --- 2. the same form without JavaScript -------------------------------------------------------


def test_update_total_and_save_work_without_javascript(
    no_js_context: Callable[[], BrowserContext], sign_in: SignIn, page_guard: PageGuard
) -> None:
    page = no_js_context().new_page()
    sign_in(page, "head@oakfield.example")
    choice_path = open_oakfield(page)
    page_guard.check("Oakfield's choice page without JavaScript")

    before = read_total(page)
    category, service = open_category_with_a_service_not_bought(page)
    category_path = page.url
    page_guard.check(f"Oakfield's {category} without JavaScript")
    option = buy(page, service)
    # Nothing posts by itself without JavaScript: the total stands until asked.
    assert read_year_total(page) == before
    page.get_by_role("button", name="Update total", exact=True).click()
    expect(page.locator("#choice-total p")).not_to_contain_text(f"every category: {before}.")
    after = read_year_total(page)
    assert pence(after) > pence(before), f"buying {service} took the total from {before} to {after}"
    expect(page).to_have_url(category_path)
    expect(radio(page, service, "Buying")).to_be_checked()
    if option is not None:
        expect(service_block(page, service).locator("select option:checked")).to_have_text(option)
    expect(success_banner(page)).to_have_count(0)
    page_guard.check("updating the total without JavaScript")

    page.get_by_role("button", name=SAVE, exact=True).click()
    expect(page).to_have_url(re.compile(f"{choice_path}$"))
    expect(success_banner(page)).to_contain_text(
        f"Your choices for {category} have been saved as a draft."
    )
    expect_total(page, after)
    task_link(page, category).click()
    expect(radio(page, service, "Buying")).to_be_checked()
    page_guard.check("saving a category without JavaScript")


# --- 3. trust leads and the council ------------------------------------------------------------


def test_trust_lead_sees_each_academy_the_deadline_and_a_csv(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, "trust@meadowtrust.example")
    visit(page, "/buy-back/")
    expect(h1(page)).to_have_text("Buy-back for your academies")
    table = page.get_by_role("table", name="Choices and totals per academy")
    for name in MEADOW_ACADEMIES:
        expect(table.get_by_role("link", name=name, exact=True)).to_be_visible()
    trust_total = table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="Trust total", exact=True)
    )
    expect(trust_total.get_by_role("cell")).to_have_text(re.compile(r"^£[\d,]+\.\d\d$"))
    # The academies' deadline (another test may have extended it): in the table, and said.
    academy = MEADOW_ACADEMIES[0]
    row = table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=academy, exact=True)
    )
    deadline = row.get_by_role("cell").nth(1).inner_text().strip()
    assert re.fullmatch(r"\d+ \w+ 20\d\d at \d+:\d\d[ap]m", deadline), deadline
    expect(page.get_by_text(f"Choices for {YEAR} are due by {deadline}")).to_be_visible()
    check_page(page, "/buy-back/ as a trust lead")

    download = page.get_by_role("link", name="Download each academy's submitted choices (CSV)")
    response = page.request.get(download.get_attribute("href") or "")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = response.text().splitlines()
    assert rows[0].startswith("School,URN,Financial year,Deadline,Status")
    for name in MEADOW_ACADEMIES:
        assert any(line.startswith(f"{name},") for line in rows[1:]), name

    # Each academy's page (its window open) leads back to the trust's.
    table.get_by_role("link", name=academy, exact=True).click()
    expect(page).to_have_url(CHOICE_PATH)
    expect(page.locator(".govuk-caption-l")).to_have_text(academy)
    expect(h1(page)).to_have_text(f"Buy-back for {YEAR}")
    expect(page.get_by_text(f"by {deadline}.", exact=False).first).to_be_visible()
    check_page(page, f"{academy}'s choice page, as its trust's lead")
    page.get_by_role("link", name="Back to your academies", exact=True).click()
    expect(page).to_have_url(re.compile(r"/buy-back/$"))
    expect(h1(page)).to_have_text("Buy-back for your academies")


def test_council_windows_window_form_and_analysis(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, "admin@council.example")
    visit(page, "/buy-back/")
    expect(h1(page)).to_have_text("Buy-back windows")
    windows = page.get_by_role("table", name="Buy-back windows")
    # A header, the demo's four windows, and any another test has set up.
    assert windows.get_by_role("row").count() >= 5
    check_page(page, "/buy-back/ as a council administrator")

    page.get_by_role("link", name="Set up a window", exact=True).click()
    expect(page).to_have_url(re.compile(r"/buy-back/windows/new$"))
    expect(h1(page)).to_have_text("Set up a buy-back window")
    check_page(page, "the form to set up a buy-back window")

    page.get_by_role("button", name="Set up the window", exact=True).click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    for message in (
        "Enter the year the financial year starts",
        "Select which schools the window is for",
        "Enter the date the window opens, like 6 1 2027",
        "Enter the date the window closes, like 2 3 2027",
    ):
        expect(summary.get_by_role("link", name=message, exact=True)).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: "))
    check_page(page, "the window form sent empty")

    page.get_by_role("link", name="Buy-back windows", exact=True).click()
    expect(page).to_have_url(re.compile(r"/buy-back/?$"))
    analysis = page.get_by_role(
        "link", name=f"Returns and analysis for maintained schools, {YEAR}", exact=True
    )
    analysis.click()
    expect(page).to_have_url(re.compile(r"/buy-back/windows/\d+/analysis$"))
    expect(h1(page)).to_have_text(f"Buy-back analysis: Maintained schools {YEAR}")
    for caption in (
        f"Take-up by service, {YEAR}",
        f"Income, cost of delivery and surplus or deficit by service, {YEAR}",
        f"Take-up and income by school phase, {YEAR}",
    ):
        expect(page.get_by_role("table", name=caption, exact=True)).to_be_visible()
    check_page(page, f"the analysis of maintained schools' {YEAR} returns")

    csv = page.get_by_role("link", name=re.compile(r"^Download the figures for each service"))
    response = page.request.get(csv.get_attribute("href") or "")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers.get("content-disposition", "")

    # The whole year: both cohorts' windows together, each linking to its own page.
    page.get_by_role("link", name=f"The whole of {YEAR}: every window of the year together").click()
    expect(page).to_have_url(re.compile(r"/buy-back/years/2027/analysis$"))
    expect(h1(page)).to_have_text(f"Buy-back analysis: the whole of {YEAR}")
    year_windows = page.get_by_role("table", name=f"Buy-back windows for {YEAR}", exact=True)
    expect(year_windows.get_by_role("row")).to_have_count(3)  # a header and two windows
    for caption in (
        f"Take-up by service, every window of {YEAR}",
        f"Income, cost of delivery and surplus or deficit by service, every window of {YEAR}",
    ):
        expect(page.get_by_role("table", name=caption, exact=True)).to_be_visible()
    check_page(page, f"the whole of {YEAR}'s buy-back analysis")

    # Last year's windows have closed: their figures are kept, and each page says so.
    visit(page, "/buy-back/years/2026/analysis")
    expect(page.get_by_role("table", name="Buy-back windows for 2026-27")).to_contain_text(
        "Kept since"
    )
    check_page(page, "the whole of 2026-27's buy-back analysis, both windows closed")
    page.get_by_role("link", name="Academies and free schools", exact=True).click()
    expect(h1(page)).to_have_text("Buy-back analysis: Academies and free schools 2026-27")
    expect(page.locator(".govuk-inset-text")).to_contain_text("do not change")
    check_page(page, "the analysis of academies' 2026-27 returns, kept since it closed")


def test_publisher_sees_the_windows_but_cannot_set_one_up(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, "publisher@council.example")
    visit(page, "/buy-back/")
    expect(h1(page)).to_have_text("Buy-back windows")
    expect(page.get_by_role("table", name="Buy-back windows")).to_be_visible()
    expect(page.get_by_role("link", name="Set up a window")).to_have_count(0)
    check_page(page, "/buy-back/ as a publisher")


# --- 4. a change after submission, and the council managing a window (issue #17) ---------------


WEDDINGTON = "Weddington Park Primary School"


def mail_to(live_app: Flask, recipient: str, subject: str) -> list[OutboxMessage]:
    with live_app.app_context():
        return list(
            db.session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.recipient == recipient, OutboxMessage.subject.contains(subject)
                )
            )
        )


def test_staff_change_a_submitted_choice_and_the_head_sends_it_again(
    page: Page,
    new_context: Callable[..., BrowserContext],
    no_js_context: Callable[[], BrowserContext],
    sign_in: SignIn,
    check_page: CheckPage,
    page_guard: PageGuard,
    live_app: Flask,
) -> None:
    """The demo's Weddington Park submitted in November. Staff (JavaScript on) buy one more
    service; the head is e-mailed, and sees the change not yet sent beside the submitted
    total (JavaScript on, then off), and submits again without JavaScript."""
    sign_in(page, "staff@weddingtonpark.example")
    visit(page, "/buy-back/")
    expect(page.locator(".govuk-caption-l")).to_have_text(WEDDINGTON)
    submitted = page.locator("#submitted")
    expect(submitted).to_contain_text(re.compile(r"Submitted 1 time; last by Wes Demo-Head"))
    sent = read_total(page)
    expect(submitted).to_contain_text(f"for {sent}.")
    expect(page.locator("#unsent")).to_have_count(0)

    category, service = open_category_with_a_service_not_bought(page)
    set_marker(page)
    buy(page, service)
    expect(page.locator("#choice-total p")).not_to_contain_text(f"every category: {sent}.")
    now_saved = read_year_total(page)
    assert_no_page_load(page, "changing an answer after submission")
    page.get_by_role("button", name=SAVE, exact=True).click()
    expect(success_banner(page)).to_contain_text(f"Your choices for {category}")
    unsent = page.locator("#unsent")
    expect(unsent.get_by_role("heading", level=2)).to_have_text(
        "Changes not yet sent to the council"
    )
    check_page(page, "Weddington Park's choice page with a change not yet sent, as staff")
    told = mail_to(live_app, "head@weddingtonpark.example", "Buy-back changes not yet sent")
    assert len(told) == 1 and "Wynn Demo-Staff has changed" in told[0].body

    # The head, with JavaScript: what changed, by whom, and both totals, each named.
    head = new_context().new_page()
    sign_in(head, "head@weddingtonpark.example")
    visit(head, "/buy-back/")
    changes = head.get_by_role("table", name="Changed since the last submission")
    change = changes.get_by_role("row").filter(
        has=head.get_by_role("rowheader", name=service, exact=True)
    )
    expect(change.get_by_role("cell").nth(0)).to_have_text("Not buying")
    expect(change.get_by_role("cell").nth(1)).to_contain_text("Buying")
    expect(change.get_by_role("cell").nth(2)).to_contain_text("Wynn Demo-Staff, ")
    expect(head.locator("#submitted-total")).to_have_text(sent)
    expect(head.locator("#draft-total")).to_contain_text(f"{now_saved}:")
    expect(head.locator("#submitted")).to_contain_text(f"for {sent}.")
    expect(task_status(head, category)).to_have_text("Changed, not yet sent")
    expect(head.get_by_role("heading", name="Submit your changes")).to_be_visible()
    check_page(head, "Weddington Park's choice page with a change not yet sent, as the head")

    # Without JavaScript, the head submits the change.
    quiet = no_js_context().new_page()
    sign_in(quiet, "head@weddingtonpark.example")
    visit(quiet, "/buy-back/")
    expect(quiet.locator("#unsent")).to_be_visible()
    page_guard.check("Weddington Park's changes not yet sent, without JavaScript")
    quiet.get_by_label(re.compile(r"^I am authorised to commit Weddington")).check()
    quiet.get_by_role("button", name="Submit choices", exact=True).click()
    expect(quiet.locator(".govuk-panel__title")).to_have_text("Choices submitted")
    expect(quiet.locator(".govuk-panel__body")).to_contain_text("Submission 2")
    quiet.get_by_role("link", name="Back to your choices", exact=True).click()
    expect(quiet.locator("#unsent")).to_have_count(0)
    expect(quiet.locator("#submitted")).to_contain_text(
        re.compile(rf"Submitted 2 times; last by Wes Demo-Head on .* for {re.escape(now_saved)}\.")
    )
    expect(total_heading(quiet)).to_have_text(f"Total for {YEAR}: {now_saved}")
    page_guard.check("Weddington Park's choice page submitted again, without JavaScript")


def test_a_council_administrator_extends_a_deadline_and_changes_a_window_before_it_opens(
    page: Page, sign_in: SignIn, check_page: CheckPage, live_app: Flask
) -> None:
    sign_in(page, "admin@council.example")
    visit(page, "/buy-back/")
    page.get_by_role(
        "link", name=f"{YEAR} window for academies and free schools", exact=True
    ).click()
    expect(h1(page)).to_have_text(f"Academies and free schools, {YEAR}")
    deadline = page.locator("#deadline").inner_text().strip()
    expect(page.get_by_role("table", name="Reminders sent")).to_be_visible()
    unreachable = page.get_by_role("table", name="Schools the portal cannot remind")
    expect(unreachable.get_by_role("link", name="Rugby Vale Academy", exact=True)).to_be_visible()
    check_page(page, f"the academies' {YEAR} window")

    # Its own reminders: a mistake is shown beside the field, then they are saved.
    days = page.get_by_label("Reminders, in days before the deadline", exact=True)
    days.fill("soon")
    page.get_by_role("button", name="Save the reminders", exact=True).click()
    error = "Enter days as whole numbers separated by commas, like 14, 3"
    expect(page.locator(".govuk-error-summary").get_by_role("link", name=error)).to_be_visible()
    expect(days).to_have_value("soon")
    check_page(page, "the window's reminders sent wrong")
    days.fill("10, 2")
    page.get_by_role("button", name="Save the reminders", exact=True).click()
    expect(success_banner(page)).to_contain_text("The reminders have been saved.")
    expect(page.get_by_text("e-mailed 10 and 2 days before the deadline")).to_be_visible()

    # Closing early asks first; kept open.
    page.get_by_role("link", name="Close the window now", exact=True).click()
    expect(h1(page)).to_have_text("Close the window now?")
    check_page(page, "closing the academies' window: the question")
    page.get_by_role("link", name="Keep it open", exact=True).click()
    expect(page.locator("#deadline")).to_have_text(deadline)

    page.get_by_role("link", name="Extend the deadline", exact=True).click()
    expect(h1(page)).to_have_text("Extend the deadline")
    check_page(page, "the form to extend a deadline")
    page.get_by_role("button", name="Extend the deadline", exact=True).click()
    summary = page.locator(".govuk-error-summary")
    message = "Enter the new deadline, like 16 3 2027"
    expect(summary.get_by_role("link", name=message, exact=True)).to_be_visible()
    check_page(page, "the deadline form sent empty")
    later = datetime.strptime(deadline.split(" at ")[0], "%d %B %Y") + timedelta(days=7)
    page.get_by_label("Day", exact=True).fill(str(later.day))
    page.get_by_label("Month", exact=True).fill(str(later.month))
    page.get_by_label("Year", exact=True).fill(str(later.year))
    page.get_by_role("button", name="Extend the deadline", exact=True).click()
    new_deadline = f"{later.day} {later:%B %Y} at 5:00pm"
    expect(success_banner(page)).to_contain_text(f"deadline has been extended to {new_deadline}")
    expect(page.locator("#deadline")).to_have_text(new_deadline)
    check_page(page, "the academies' window, its deadline extended")
    told = mail_to(live_app, "trust@meadowtrust.example", f"extended to {later.day} {later:%B %Y}")
    assert len(told) == 1 and f"from {deadline} to {new_deadline}" in told[0].body

    # A window for a later year, changed before it opens.
    visit(page, "/buy-back/windows/new")
    page.get_by_label("Financial year starting in April of", exact=True).fill("2029")
    page.get_by_label("Maintained schools", exact=True).check()
    for legend, (day, month, year) in (
        ("Opens on", ("1", "11", "2028")),
        ("Closes on", ("1", "3", "2029")),
    ):
        group = page.get_by_role("group", name=legend)
        group.get_by_label("Day", exact=True).fill(day)
        group.get_by_label("Month", exact=True).fill(month)
        group.get_by_label("Year", exact=True).fill(year)
    page.get_by_role("button", name="Set up the window", exact=True).click()
    expect(h1(page)).to_have_text("Maintained schools, 2029-30")
    page.get_by_role("link", name="Change the window", exact=True).click()
    expect(h1(page)).to_have_text("Change the buy-back window for maintained schools, 2029-30")
    check_page(page, "the form to change a window before it opens")
    reminders = "Reminders, in days before the deadline (optional)"
    page.get_by_label(reminders, exact=True).fill("21, 7")
    page.get_by_role("button", name="Save the changes", exact=True).click()
    expect(success_banner(page)).to_contain_text("has been changed")
    expect(page.get_by_text("e-mailed 21 and 7 days before the deadline")).to_be_visible()
    check_page(page, "an upcoming window, changed")
