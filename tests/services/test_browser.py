"""Services for schools in a real browser: the catalogue's filters (htmx with JavaScript on, the
"Apply filters" button with it off), every catalogue, service and publishing page through axe
and the CSP guard, and a publisher taking a new traded service from nothing to published, seen
by a school, and withdrawn. See tests/browser_fixtures.py for the fixtures.

The live server's database is shared by the whole session: what a test adds is named uniquely,
and what it withdraws from the demo offer it publishes again.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

from playwright.sync_api import BrowserContext, Locator, Page, Request, expect

from portal.models import ServiceKind
from portal_seed.services import SERVICES
from tests.helpers.browser import assert_no_page_load, h1, set_marker, visit

if TYPE_CHECKING:
    from tests.browser_fixtures import CheckPage, PageGuard, SignIn

OAKFIELD = "Oakfield Primary School"
NEXT_YEAR_LABEL = "2027-28"
LAST_YEAR_LABEL = "2026-27"

# The demo's traded ICT services (both published for 2027-28).
ICT_TRADED = sorted(
    s["name"] for s in SERVICES if s["category"] == "ICT" and s["kind"] is ServiceKind.TRADED
)
SERVICE_COUNT = re.compile(r"^\d+ services?$")


def result_names(page: Page) -> list[str]:
    """The names of the services listed in #results, in order."""
    return page.locator("#results .council-service-list__item h3").all_inner_texts()


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def this_financial_year() -> int:
    today = date.today()
    return today.year if today.month >= 4 else today.year - 1


def service_path(page: Page, name: str) -> str:
    """The path of the published service called ``name``, found through the catalogue."""
    visit(page, f"/services/?{urlencode({'q': name})}")
    link = page.locator("#results").get_by_role("link", name=name, exact=True)
    href = link.get_attribute("href")
    assert href is not None and re.match(r"/services/\d+(\?|$)", href), href
    return href.split("?")[0]


# --- 1. the catalogue's filters -----------------------------------------------------------------


def test_filters_swap_only_the_results(page: Page, sign_in: SignIn, check_page: CheckPage) -> None:
    sign_in(page, "head@oakfield.example")
    visit(page, "/services/")
    results = page.locator("#results")
    count = results.get_by_role("heading", level=2)
    expect(h1(page)).to_have_text("Services for schools")
    expect(results).to_contain_text(f"The offer for 2027-28, with prices for {OAKFIELD}.")
    expect(page.get_by_label("Financial year", exact=True)).to_have_value("2027")
    expect(
        page.get_by_label("Only services available to the school", exact=True)
    ).not_to_be_checked()
    expect(count).to_have_text(SERVICE_COUNT)
    everything = count.inner_text()
    expect(results.get_by_text(re.compile(r"^Your price: ")).first).to_be_visible()
    check_page(page, "/services/ as a school user")
    set_marker(page)

    page.get_by_label("Traded", exact=True).check()
    expect(page).to_have_url(re.compile(r"/services/?\?(.*&)?kind=traded(&|$)"))
    expect(count).not_to_have_text(everything)
    expect(results.locator(".govuk-tag", has_text="Free")).to_have_count(0)

    page.get_by_label("Category", exact=True).select_option(label="ICT")
    ict = page.get_by_label("Category", exact=True).input_value()
    expect(page).to_have_url(re.compile(f"[?&]category={ict}(&|$)"))
    expect(count).to_have_text(f"{len(ICT_TRADED)} services")
    assert result_names(page) == ICT_TRADED
    assert query_of(page.url)["kind"] == ["traded"]
    # The fragment goes inside the live region, not a second #results nested in it.
    expect(page.locator("[id=results]")).to_have_count(1)
    expect(page.get_by_label("Traded", exact=True)).to_be_checked()
    assert_no_page_load(page, "ticking Traded and choosing ICT")
    check_page(page, "/services/ filtered to traded ICT services")

    # Typing is debounced: one request for the word, not one a letter.
    asked: list[str] = []

    def on_request(request: Request) -> None:
        if request.headers.get("hx-request") == "true":
            asked.append(request.url)

    page.on("request", on_request)
    word = "broadband"
    page.get_by_label("Service name", exact=True).press_sequentially(word, delay=20)
    expect(page).to_have_url(re.compile(f"[?&]q={word}(&|$)"))
    expect(count).to_have_text("1 service")
    assert result_names(page) == ["Broadband and filtering"]
    # The same price as the service's page: including VAT, and saying so.
    expect(results.locator(".council-service-list__item")).to_contain_text(
        "Your price: Annual service £3,610.80 including VAT"
    )
    page.remove_listener("request", on_request)
    assert 1 <= len(asked) < len(word), f"{len(asked)} requests for {len(word)} letters: {asked}"
    assert query_of(asked[-1])["q"] == [word]
    assert query_of(page.url)["category"] == [ict]
    assert_no_page_load(page, "typing a service name")
    check_page(page, "/services/ searched for 'broadband'")

    # No match says so.
    page.get_by_label("Service name", exact=True).fill("no such service at all")
    expect(count).to_have_text("0 services")
    expect(results).to_contain_text("No services match. Try removing a filter.")
    assert_no_page_load(page, "searching for nothing")


def test_filters_work_without_javascript_and_can_be_bookmarked(
    no_js_page: Page, sign_in: SignIn, page_guard: PageGuard
) -> None:
    # Only the guard here, not axe: with JavaScript off axe.run never settles (see
    # tests/app/test_browser.py). The same templates go through axe with JavaScript on.
    page = no_js_page
    sign_in(page, "head@oakfield.example")
    visit(page, "/services/")
    count = page.locator("#results").get_by_role("heading", level=2)
    expect(count).to_have_text(SERVICE_COUNT)

    page.get_by_label("Traded", exact=True).check()
    page.get_by_label("Category", exact=True).select_option(label="ICT")
    ict = page.get_by_label("Category", exact=True).input_value()
    page.get_by_role("button", name="Apply filters", exact=True).click()

    expect(page).to_have_url(re.compile(r"/services/?\?(.*&)?kind=traded(&|$)"))
    expect(page).to_have_url(re.compile(f"[?&]category={ict}(&|$)"))
    expect(count).to_have_text(f"{len(ICT_TRADED)} services")
    assert result_names(page) == ICT_TRADED
    expect(page.get_by_label("Traded", exact=True)).to_be_checked()
    expect(page.get_by_label("Category", exact=True)).to_have_value(ict)
    page_guard.check("/services/ filtered to traded ICT services without JavaScript")

    page.get_by_label("Service name", exact=True).fill("broadband")
    page.get_by_role("button", name="Apply filters", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]q=broadband(&|$)"))
    expect(count).to_have_text("1 service")
    assert result_names(page) == ["Broadband and filtering"]

    # The address is the search: opened afresh, it shows the same results and filters.
    bookmark = page.url
    again = page.context.new_page()
    visit(again, bookmark)
    expect(again.get_by_label("Service name", exact=True)).to_have_value("broadband")
    expect(again.get_by_label("Category", exact=True)).to_have_value(ict)
    expect(again.get_by_label("Traded", exact=True)).to_be_checked()
    expect(again.get_by_label("Financial year", exact=True)).to_have_value("2027")
    assert result_names(again) == ["Broadband and filtering"]
    page_guard.check("a bookmarked catalogue search without JavaScript")


# --- 2. every page through axe ------------------------------------------------------------------


def test_catalogue_is_accessible_for_a_publisher(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    # The school user's catalogue goes through axe in test_filters_swap_only_the_results.
    sign_in(page, "publisher@council.example")
    visit(page, "/services/")
    expect(h1(page)).to_have_text("Services for schools")
    expect(page.get_by_role("link", name="Add a service", exact=True)).to_be_visible()
    expect(page.get_by_text("Only services available to")).to_have_count(0)
    expect(page.locator("#results").get_by_text(re.compile(r"^Your price"))).to_have_count(0)
    expect(page.locator("#results .council-service-list__item").first).to_be_visible()
    check_page(page, "/services/ as a publisher")


def test_service_pages_are_accessible_for_a_school(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, "head@oakfield.example")
    # Banded: 412 pupils this year, 415 last; the 101+ band, £1,224.00 uplifted by 3%.
    path = service_path(page, "Governor services")
    page.locator("#results").get_by_role("link", name="Governor services", exact=True).click()
    expect(page).to_have_url(re.compile(f"{path}(\\?|$)"))
    expect(h1(page)).to_have_text("Governor services")
    price = page.get_by_role("heading", name=f"Your price for {NEXT_YEAR_LABEL}: £1,260.72")
    expect(price).to_be_visible()
    expect(page.get_by_text(f"Based on 412 pupils on roll at {OAKFIELD}.")).to_be_visible()
    expect(page.get_by_text(f"Up £36.72 from {LAST_YEAR_LABEL} (before VAT).")).to_be_visible()
    workings = page.get_by_text("412 pupils on roll: the band for 101 or more pupils is £1,260.72")
    expect(workings).to_be_hidden()
    page.get_by_text("How this was worked out", exact=True).click()
    expect(workings).to_be_visible()
    check_page(page, "a traded service's page with its workings open, as a school user")

    visit(page, service_path(page, "Home to school transport"))
    expect(h1(page)).to_have_text("Home to school transport")
    expect(page.get_by_text("This service is free to schools.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Your price"))).to_have_count(0)
    expect(page.get_by_role("heading", name="Publishing")).to_have_count(0)
    check_page(page, "a free service's page as a school user")


def test_publishing_pages_are_accessible(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, "publisher@council.example")
    path = service_path(page, "Governor services")

    # The service page, previewed as Oakfield would see it.
    visit(page, path)
    expect(page.get_by_role("heading", name="Publishing", level=2)).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Your price"))).to_have_count(0)
    page.get_by_label("Preview as a school would see it", exact=True).select_option(label=OAKFIELD)
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]preview=1(&|$)"))
    banner = page.get_by_role("region", name="Preview")
    expect(banner).to_contain_text(
        f"This is how {OAKFIELD} would see the published offer for {NEXT_YEAR_LABEL}."
    )
    expect(
        page.get_by_role("heading", name=f"Your price for {NEXT_YEAR_LABEL}: £1,260.72")
    ).to_be_visible()
    check_page(page, f"{path} previewed as {OAKFIELD}")

    # A new service, empty and then sent empty.
    visit(page, "/services/new")
    expect(h1(page)).to_have_text("Add a service")
    check_page(page, "/services/new")
    page.get_by_role("button", name="Save service", exact=True).click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expected = {
        "Enter the service's name": "name",
        "Choose a category": "category",
        "Select the kind of service": "kind",
        "Enter a one-line summary": "summary",
        "Enter what is included": "included",
        "Enter the team that provides it": "provider_team",
        "Enter a contact e-mail address": "contact_email",
    }
    expect(summary.get_by_role("link")).to_have_text(list(expected))
    check_page(page, "/services/new sent empty")
    # Each error links to its field, and GOV.UK Frontend moves the focus there.
    for message, field_id in expected.items():
        link = summary.get_by_role("link", name=message, exact=True)
        assert link.get_attribute("href") == f"#{field_id}"
        field = page.locator(f"[id={field_id}]")
        expect(field).to_have_count(1)
        assert field.evaluate("e => e.tagName") in ("INPUT", "SELECT", "TEXTAREA")
        expect(page.locator(f"[id={field_id}-error]")).to_contain_text(message)
        link.click()
        expect(field).to_be_focused()

    # Changing the service, its offers, and one year's offer.
    visit(page, f"{path}/edit")
    expect(h1(page)).to_have_text("Change Governor services")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Governor services")
    expect(page.get_by_label("Category", exact=True)).to_have_value(re.compile(r"^\d+$"))
    expect(page.get_by_label("Traded", exact=True)).to_be_checked()
    check_page(page, f"{path}/edit")

    visit(page, f"{path}/offers")
    expect(h1(page)).to_have_text("Offers, year by year")
    offers = page.get_by_role("table", name="Offers for Governor services")
    expect(offers.get_by_role("row")).to_have_count(3)
    expect(
        page.get_by_role("button", name="Draft the offer for 2028-29", exact=True)
    ).to_be_visible()
    check_page(page, f"{path}/offers")

    offers.get_by_role("link", name=NEXT_YEAR_LABEL, exact=True).click()
    expect(page).to_have_url(re.compile(f"{path}/offers/2027$"))
    expect(h1(page)).to_have_text(f"Offer for {NEXT_YEAR_LABEL}")
    expect(page.locator("main .govuk-tag").first).to_have_text("Published")
    expect(page.get_by_role("heading", name="Clerking and training", level=3)).to_be_visible()
    expect(page.get_by_role("link", name="Add a price option")).to_have_count(0)
    expect(page.get_by_role("button", name="Withdraw this offer", exact=True)).to_be_visible()
    check_page(page, f"{path}/offers/2027")

    visit(page, "/services/copy-year")
    expect(h1(page)).to_have_text("Draft next year's offer")
    expect(page.get_by_label("Copy the offer of", exact=True)).to_have_value("2027")
    expect(page.get_by_label("Uplift every price by (%)", exact=True)).to_have_value("0")
    check_page(page, "/services/copy-year")


def test_price_option_form_is_accessible_and_keeps_bad_bands(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    """On the demo's Fire risk assessment, withdrawn for 2027-28 and published again after."""
    sign_in(page, "publisher@council.example")
    path = service_path(page, "Fire risk assessment")
    visit(page, f"{path}/offers/2027")
    banner = page.locator(".govuk-notification-banner--success")
    status = page.locator("main .govuk-tag").first
    page.get_by_role("button", name="Withdraw this offer", exact=True).click()
    expect(banner).to_contain_text(
        f"Fire risk assessment has been withdrawn for {NEXT_YEAR_LABEL}."
    )
    expect(status).to_have_text("Withdrawn")
    check_page(page, f"{path}/offers/2027 withdrawn")
    try:
        page.get_by_role("link", name="Add a price option", exact=True).click()
        expect(page).to_have_url(re.compile(f"{path}/offers/2027/options/new$"))
        expect(h1(page)).to_have_text("Add a price option")
        check_page(page, "the price option form")

        name = page.get_by_label("Name of the option", exact=True)
        bands = page.get_by_label("Bands by pupils on roll", exact=True)
        typed = "0-100: 10.00\n90-200: 20.00"
        name.fill("Overlapping bands")
        page.get_by_label("Banded by pupils on roll", exact=True).check()
        bands.fill(typed)
        page.get_by_role("button", name="Save price option", exact=True).click()

        message = "Bands must not overlap: 0 to 100 and 90 to 200"
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_contain_text("There is a problem")
        expect(summary.get_by_role("link")).to_have_text([message])
        expect(summary.get_by_role("link")).to_have_attribute("href", "#bands")
        expect(page.locator("#bands-error")).to_contain_text(message)
        expect(bands).to_have_value(typed)
        expect(bands).to_have_accessible_description(re.compile(re.escape(message)))
        expect(name).to_have_value("Overlapping bands")
        expect(page.get_by_label("Banded by pupils on roll", exact=True)).to_be_checked()
        check_page(page, "the price option form with overlapping bands")
        summary.get_by_role("link", name=message).click()
        expect(bands).to_be_focused()
    finally:
        visit(page, f"{path}/offers/2027")
        expect(page.get_by_role("heading", name="Overlapping bands")).to_have_count(0)
        page.get_by_role("button", name="Publish this offer", exact=True).click()
        expect(banner).to_contain_text(
            f"Fire risk assessment is published for {NEXT_YEAR_LABEL}. Schools can see it now."
        )
        expect(status).to_have_text("Published")


# --- 3. a publisher's journey -------------------------------------------------------------------


def test_publisher_adds_publishes_and_withdraws_a_service(
    page: Page,
    new_context: Callable[..., BrowserContext],
    sign_in: SignIn,
    check_page: CheckPage,
) -> None:
    name = f"Browser test service {uuid.uuid4().hex[:8]}"
    year = this_financial_year() + 1
    year_label = f"{year}-{(year + 1) % 100:02d}"
    sign_in(page, "publisher@council.example")
    visit(page, "/services/")
    page.get_by_role("link", name="Add a service", exact=True).click()
    expect(h1(page)).to_have_text("Add a service")

    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Category", exact=True).select_option(label="Finance")
    page.get_by_label("Traded", exact=True).check()
    page.get_by_label("Summary", exact=True).fill("A service added by the browser tests.")
    page.get_by_label("What is included", exact=True).fill("Everything the browser tests need.")
    page.get_by_label("Provider team", exact=True).fill("Browser test team")
    page.get_by_label("Contact e-mail address", exact=True).fill("browser.test@council.example")
    page.get_by_role("button", name="Save service", exact=True).click()

    expect(page).to_have_url(re.compile(r"/services/\d+/offers$"))
    path = urlsplit(page.url).path.removesuffix("/offers")
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text(f"{name} has been added. Now draft its offer for a year.")
    expect(page.get_by_text("No offers yet.")).to_be_visible()
    check_page(page, "a new service's offers")

    page.get_by_role("button", name=f"Draft the offer for {year_label}", exact=True).click()
    expect(page).to_have_url(re.compile(f"{path}/offers/{year}$"))
    expect(h1(page)).to_have_text(f"Offer for {year_label}")
    status = page.locator("main .govuk-tag").first
    expect(status).to_have_text("Draft")
    expect(page.get_by_text("No price options yet.")).to_be_visible()
    expect(page.locator(".govuk-warning-text")).to_contain_text(
        "Add at least one price option: this is a traded service"
    )
    check_page(page, f"the new service's draft offer for {year_label}")

    page.get_by_role("link", name="Add a price option", exact=True).click()
    page.get_by_label("Name of the option", exact=True).fill("Annual subscription")
    page.get_by_label("Banded by pupils on roll", exact=True).check()
    page.get_by_label("Bands by pupils on roll", exact=True).fill("0-250: 1000.00\n251+: 1500.00")
    page.get_by_role("button", name="Save price option", exact=True).click()

    expect(page).to_have_url(re.compile(f"{path}/offers/{year}$"))
    expect(banner).to_contain_text("The price option “Annual subscription” has been saved.")
    card = page.locator(".govuk-summary-card").filter(
        has=page.get_by_role("heading", name="Annual subscription")
    )
    expect(card.locator(".govuk-summary-card__content li")).to_have_text(
        ["0 to 250 pupils: £1,000.00 a year", "251+ pupils: £1,500.00 a year", "No VAT"]
    )
    expect(page.locator(".govuk-warning-text")).to_have_count(0)
    check_page(page, "the draft offer with a banded price option")

    page.get_by_role("button", name="Publish this offer", exact=True).click()
    expect(banner).to_contain_text(f"{name} is published for {year_label}. Schools can see it now.")
    expect(status).to_have_text("Published")
    expect(page.get_by_role("link", name="Add a price option")).to_have_count(0)
    check_page(page, "the offer, published")

    # The school sees it, with its price (Oakfield has 412 pupils: the 251+ band).
    school = new_context().new_page()
    sign_in(school, "head@oakfield.example")
    search = f"/services/?{urlencode({'q': name, 'year': year})}"
    visit(school, search)
    results = school.locator("#results")
    expect(results.get_by_role("heading", level=2)).to_have_text("1 service")
    item = results.locator(".council-service-list__item")
    expect(item.get_by_role("link")).to_have_text(name)
    expect(item).to_contain_text("Your price: Annual subscription £1,500.00")
    check_page(school, "the catalogue showing the new service to a school")
    item.get_by_role("link", name=name).click()
    expect(h1(school)).to_have_text(name)
    expect(
        school.get_by_role("heading", name=f"Your price for {year_label}: £1,500.00")
    ).to_be_visible()
    check_page(school, "the new service's page as a school user")

    # Withdrawn, it has gone from the catalogue, and its page with it.
    page.get_by_role("button", name="Withdraw this offer", exact=True).click()
    expect(banner).to_contain_text(f"{name} has been withdrawn for {year_label}.")
    expect(status).to_have_text("Withdrawn")
    visit(school, search)
    expect(results.get_by_role("heading", level=2)).to_have_text("0 services")
    expect(results).to_contain_text("No services match. Try removing a filter.")
    visit(school, path, status=404)


# --- 4. bugs these tests found, now fixed -----------------------------------------------------


def test_back_restores_the_filters_with_the_results(page: Page, sign_in: SignIn) -> None:
    sign_in(page, "head@oakfield.example")
    visit(page, "/services/")
    count = page.locator("#results").get_by_role("heading", level=2)
    page.get_by_label("Traded", exact=True).check()
    expect(page).to_have_url(re.compile(r"[?&]kind=traded(&|$)"))
    traded = count.inner_text()
    page.get_by_label("Category", exact=True).select_option(label="ICT")
    expect(count).to_have_text(f"{len(ICT_TRADED)} services")

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"[?&]category=\d"))
    expect(count).to_have_text(traded)
    expect(page.get_by_label("Category", exact=True)).to_have_value("", timeout=2_000)
    expect(page.get_by_label("Traded", exact=True)).to_be_checked(timeout=2_000)


def test_choosing_another_school_says_whose_prices_are_shown(page: Page, sign_in: SignIn) -> None:
    sign_in(page, "trust@meadowtrust.example")
    visit(page, "/services/")
    choose = page.get_by_label("Prices for", exact=True)
    first = choose.locator("option:checked").inner_text()
    other = choose.locator("option").nth(2).inner_text()
    assert other != first
    choose.select_option(label=other)
    expect(page).to_have_url(re.compile(r"[?&]school=\d+(&|$)"))
    expect(page.locator("#results")).to_contain_text(f"with prices for {other}.", timeout=2_000)
    expect(page.locator("#results")).not_to_contain_text(f"with prices for {first}.")


def test_choosing_another_year_says_which_year(page: Page, sign_in: SignIn) -> None:
    sign_in(page, "head@oakfield.example")
    visit(page, "/services/")
    said = page.locator("#results .council-offer-for")
    expect(said).to_contain_text(f"The offer for {NEXT_YEAR_LABEL}")
    page.get_by_label("Financial year", exact=True).select_option(label=LAST_YEAR_LABEL)
    expect(page).to_have_url(re.compile(r"[?&]year=2026(&|$)"))
    expect(said).to_contain_text(f"The offer for {LAST_YEAR_LABEL}", timeout=2_000)


def test_a_per_unit_price_says_what_it_buys(page: Page, sign_in: SignIn) -> None:
    sign_in(page, "head@oakfield.example")
    visit(page, f"/services/?{urlencode({'q': 'Educational psychology: traded time'})}")
    item = page.locator("#results .council-service-list__item")
    expect(item).to_contain_text("Your price: Days £575.00")
    expect(item).to_contain_text(re.compile(r"Days £575\.00 per day"), timeout=1_000)


# --- 5. the price-option form asks only what the basis needs -------------------------------------

# The demo's new service still being drafted for 2027-28, with no price yet.
UNPRICED_DRAFT = "Outdoor learning residentials"


def new_option_form(page: Page) -> None:
    """The price-option form for the demo's unpriced draft, reached from the drafts list."""
    visit(page, "/services/drafts?year=2027")
    page.get_by_role("link", name=f"Change the offer of {UNPRICED_DRAFT}").click()
    expect(h1(page)).to_have_text(f"Offer for {NEXT_YEAR_LABEL}")
    page.get_by_role("link", name="Add a price option", exact=True).click()
    expect(h1(page)).to_have_text("Add a price option")


def priced_fields(page: Page) -> Locator:
    """The form's price fields: every field but the name, the basis and the audience."""
    return page.locator("#basis-fields").locator("input:not([type=hidden]), select, textarea")


def test_choosing_a_basis_swaps_in_its_fields(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, "publisher@council.example")
    new_option_form(page)
    # The basis first: no price fields, and "Continue" rather than "Save".
    expect(priced_fields(page)).to_have_count(0)
    expect(page.get_by_role("button", name="Continue", exact=True)).to_be_visible()
    check_page(page, "the price option form before a basis is chosen")
    set_marker(page)

    page.get_by_label("Name of the option", exact=True).fill("Residential week")
    page.get_by_label("Per unit", exact=True).check()
    expect(page.get_by_label("Unit", exact=True)).to_be_visible()
    expect(page.get_by_label("Price per unit, or per pack (£)", exact=True)).to_be_visible()
    expect(page.get_by_label("Pack size (optional)", exact=True)).to_be_visible()
    expect(page.get_by_label("Volume tiers (optional)", exact=True)).to_be_visible()
    expect(page.get_by_label("Minimum charge (£, optional)", exact=True)).to_be_visible()
    expect(priced_fields(page)).to_have_count(5)
    expect(page.get_by_role("button", name="Continue", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Save price option", exact=True)).to_be_visible()
    check_page(page, "the price option form for a per unit price")

    page.get_by_label("Banded by pupils on roll", exact=True).check()
    expect(page.get_by_label("Bands by pupils on roll", exact=True)).to_be_visible()
    expect(priced_fields(page)).to_have_count(1)
    expect(page.get_by_label("Unit", exact=True)).to_have_count(0)
    page.get_by_label("Per pupil", exact=True).check()
    expect(page.get_by_label("Rate per pupil (£)", exact=True)).to_be_visible()
    page.get_by_text("Different per-pupil rates by phase", exact=True).click()
    expect(page.get_by_label("Rate per pupil for primary schools (£, optional)")).to_be_visible()
    expect(priced_fields(page)).to_have_count(6)
    # What was typed before the basis changed is still there; nothing loaded a new page.
    expect(page.get_by_label("Name of the option", exact=True)).to_have_value("Residential week")
    assert_no_page_load(page, "choosing a pricing basis")
    check_page(page, "the price option form for a per pupil price, rates by phase open")


def test_without_javascript_continue_draws_the_basis_fields(
    no_js_page: Page, sign_in: SignIn, page_guard: PageGuard
) -> None:
    page = no_js_page
    sign_in(page, "publisher@council.example")
    new_option_form(page)
    expect(priced_fields(page)).to_have_count(0)
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select the pricing basis")
    page_guard.check("the price option form continued without a basis")

    page.get_by_label("Name of the option", exact=True).fill("Residential week")
    page.get_by_label("Per school", exact=True).check()
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_label("Price per school a year (£)", exact=True)).to_be_visible()
    expect(priced_fields(page)).to_have_count(1)
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    expect(page.get_by_label("Name of the option", exact=True)).to_have_value("Residential week")
    expect(page.get_by_label("Per school", exact=True)).to_be_checked()

    # Changing the basis and pressing Save draws the new basis's fields, and saves nothing.
    page.get_by_label("Flat fee plus a rate per pupil", exact=True).check()
    page.get_by_role("button", name="Save price option", exact=True).click()
    expect(h1(page)).to_have_text("Add a price option")
    expect(page.get_by_label("Flat fee a year (£)", exact=True)).to_be_visible()
    expect(page.get_by_label("Rate per pupil (£)", exact=True)).to_be_visible()
    expect(page.locator(".govuk-notification-banner--success")).to_have_count(0)
    page_guard.check("the price option form for a flat fee plus a rate per pupil")


# --- 6. a year copied, then its drafts published together ---------------------------------------

COPIED_YEAR, COPIED_LABEL = 2028, "2028-29"


def copy_next_year(page: Page) -> None:
    """2027-28 copied to 2028-29, from the catalogue; lands on the year's drafts. Another test
    may have copied it already: then nothing more is drafted, and the drafts are the same."""
    visit(page, "/services/")
    page.get_by_role("link", name="Draft next year's offer from this year's").click()
    expect(page.get_by_label("Copy the offer of", exact=True)).to_have_value("2027")
    page.get_by_role("button", name="Draft next year's offer", exact=True).click()
    expect(page).to_have_url(re.compile(f"/services/drafts\\?year={COPIED_YEAR}$"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        re.compile(f"(\\d+ offers?|0 offers) drafted for {COPIED_LABEL}\\.")
    )
    expect(h1(page)).to_have_text(f"Draft offers for {COPIED_LABEL}")


def offer_row(page: Page, name: str) -> Locator:
    return page.locator("#offers tbody tr").filter(has=page.get_by_label(name, exact=True))


def offer_path(page: Page, name: str) -> str:
    """A draft's offer page, from its row in the drafts list."""
    href = offer_row(page, name).get_by_role("link").get_attribute("href")
    assert href is not None and re.fullmatch(f"/services/\\d+/offers/{COPIED_YEAR}", href), href
    return href


def withdraw(page: Page, path: str) -> None:
    visit(page, path)
    withdraw_button = page.get_by_role("button", name="Withdraw this offer", exact=True)
    if withdraw_button.count():
        withdraw_button.click()
        expect(page.locator("main .govuk-tag").first).to_have_text("Withdrawn")


def test_publisher_copies_a_year_and_publishes_many_at_once(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, "publisher@council.example")
    copy_next_year(page)
    check_page(page, "a copied year's drafts")
    chosen, broken = ["Governor services", "Payroll"], "Health and safety advice"
    paths = {name: offer_path(page, name) for name in [*chosen, broken]}
    try:
        # Since it was copied, one of them has lost its only price.
        visit(page, paths[broken])
        page.get_by_role("button", name="Remove Annual service").click()
        expect(page.get_by_text("No price options yet.")).to_be_visible()
        visit(page, f"/services/drafts?year={COPIED_YEAR}")
        expect(offer_row(page, broken)).to_contain_text(
            "Add at least one price option: this is a traded service"
        )
        for name in chosen:
            expect(offer_row(page, name)).to_contain_text("Ready")
        for name in [*chosen, broken]:
            page.get_by_label(name, exact=True).check()
        page.get_by_role("button", name="Publish the selected offers", exact=True).click()

        expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
            f"2 offers published for {COPIED_LABEL}. Schools can see them now."
        )
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_contain_text("1 offer was not published.")
        expect(summary.get_by_role("link")).to_have_text(
            [f"{broken}: Add at least one price option: this is a traded service"]
        )
        expect(page).to_have_title(re.compile(r"^Error: "))
        for name in chosen:
            expect(page.get_by_label(name, exact=True)).to_have_count(0)
        expect(page.get_by_label(broken, exact=True)).to_be_checked()
        expect(offer_row(page, broken)).to_contain_text("Not published")
        check_page(page, "the drafts after publishing some, one refused")
        summary.get_by_role("link").click()
        expect(page.get_by_label(broken, exact=True)).to_be_focused()

        # The catalogue offers the publisher the new year, and a school what was published.
        visit(page, "/services/")
        expect(page.locator("#year option")).to_contain_text([COPIED_LABEL, NEXT_YEAR_LABEL])
        expect(page.get_by_label("Financial year", exact=True)).to_have_value("2028")
        visit(page, f"/services/?year={COPIED_YEAR}")
        expect(page.locator("#results")).to_contain_text(f"for {COPIED_LABEL} are drafts")
        assert sorted(result_names(page)) == chosen
        check_page(page, "the catalogue of a year mostly in draft, as a publisher")
    finally:
        for name in chosen:
            withdraw(page, paths[name])


def test_publishing_many_drafts_works_without_javascript(
    no_js_page: Page,
    new_context: Callable[..., BrowserContext],
    sign_in: SignIn,
    page_guard: PageGuard,
) -> None:
    page = no_js_page
    sign_in(page, "publisher@council.example")
    copy_next_year(page)
    boxes = page.locator('#offers input[type="checkbox"]')
    total = boxes.count()
    assert total > 3
    expect(page.locator("#offers input:checked")).to_have_count(0)
    page.get_by_role("link", name=f"Select all {total}", exact=True).click()
    expect(page.locator("#offers input:checked")).to_have_count(total)
    page_guard.check("every draft selected without JavaScript")
    page.get_by_role("link", name="clear the selection", exact=True).click()
    expect(page.locator("#offers input:checked")).to_have_count(0)

    chosen = ["Broadband and filtering", "Education financial services"]
    paths = {name: offer_path(page, name) for name in chosen}
    try:
        for name in chosen:
            page.get_by_label(name, exact=True).check()
        page.get_by_role("button", name="Publish the selected offers", exact=True).click()
        expect(page).to_have_url(re.compile(f"/services/drafts\\?year={COPIED_YEAR}$"))
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
            f"2 offers published for {COPIED_LABEL}. Schools can see them now."
        )
        for name in chosen:
            expect(page.get_by_label(name, exact=True)).to_have_count(0)
        expect(boxes).to_have_count(total - 2)
        page_guard.check("the drafts after publishing two without JavaScript")

        # Nothing ticked: asked to choose, beside the list.
        page.get_by_role("button", name="Publish the selected offers", exact=True).click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("Select the offers to publish")
        expect(page.locator("#offer-error")).to_contain_text("Select the offers to publish")

        school = new_context(java_script_enabled=False).new_page()
        sign_in(school, "head@oakfield.example")
        visit(school, f"/services/?year={COPIED_YEAR}")
        assert sorted(result_names(school)) == chosen
    finally:
        for name in chosen:
            withdraw(page, paths[name])
