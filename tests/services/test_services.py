"""Services for schools: the catalogue, what a service costs a school, and publishing."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select, update

from portal.models import (
    Audience,
    AuditEvent,
    OfferStatus,
    Phase,
    PriceOption,
    PricingBasis,
    School,
    Service,
    ServiceCategory,
    ServiceKind,
    ServiceOffer,
    TradingDecision,
)
from portal.pricing import format_pence
from tests.buyback.test_buyback import reprice
from tests.conftest import csrf_token, same_markup
from tests.helpers.html import ok_soup as soup

PHASE_RATES = {"rate_nursery", "rate_primary", "rate_secondary", "rate_all_through"}


def listed(page: BeautifulSoup) -> list[str]:
    return [a.get_text(strip=True) for a in page.select("#results h3 a")]


def all_listed(client, query: str = "") -> list[str]:
    names, number = [], 1
    while True:
        page = soup(client.get(f"/services/?{query}&page={number}"))
        names += listed(page)
        if page.select_one("#results .govuk-pagination__next") is None:
            return names
        number += 1


def service(session, name: str) -> Service:
    return session.scalars(select(Service).where(Service.name == name)).one()


# --- the catalogue ------------------------------------------------------------------------------


def test_the_catalogue_lists_next_years_published_offer(client_for, session) -> None:
    page = soup(client_for("school_staff").get("/services/"))
    assert "The offer for 2027-28" in page.select_one("#results").get_text()
    names = all_listed(client_for("school_staff"))
    # Ceased for 2027-28; new in 2027-28.
    assert "Governor training only" not in names
    assert "Mental health in schools team" in names
    published = session.scalars(
        select(Service.name)
        .join(ServiceOffer)
        .where(ServiceOffer.year == 2027, ServiceOffer.status == OfferStatus.PUBLISHED)
    ).all()
    assert sorted(names) == sorted(published)


def test_last_years_offer_can_be_browsed(client_for) -> None:
    names = all_listed(client_for("school_staff"), "year=2026")
    assert "Governor training only" in names
    assert "Mental health in schools team" not in names


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "kind=statutory",
            {
                "Home to school transport",
                "School admissions and appeals",
                "Educational psychology: statutory assessment",
                "SEN monitoring and EHC plan reviews",
                "Prosecution for non-attendance",
                "Children missing education",
            },
        ),
        ("kind=statutory&kind=discretionary", None),
        ("q=payroll", {"Payroll"}),
        ("q=PAYroll", {"Payroll"}),
        # What is typed is matched as it is: not as a pattern.
        ("q=%25", set()),
        ("q=_", set()),
        ("q=pay%25", set()),
    ],
)
def test_filters_return_exactly_the_matching_services(
    client_for, session, query: str, expected
) -> None:
    names = set(all_listed(client_for("school_staff"), query))
    if expected is None:
        expected = set(
            session.scalars(select(Service.name).where(Service.kind != ServiceKind.TRADED))
        )
    assert names == expected


def test_a_page_past_the_last_shows_the_last(client_for) -> None:
    client = client_for("school_staff")
    first = soup(client.get("/services/"))
    pages = [a.get_text(strip=True) for a in first.select(".govuk-pagination__item a")]
    past = soup(client.get("/services/?page=999"))
    current = past.select_one(".govuk-pagination__item--current").get_text(strip=True)
    assert current == pages[-1] != "1"
    assert listed(past) and listed(past) == listed(soup(client.get(f"/services/?page={current}")))


def test_filter_by_category(client_for, session) -> None:
    ict = session.scalar(select(ServiceCategory.id).where(ServiceCategory.name == "ICT"))
    assert set(all_listed(client_for("school_staff"), f"category={ict}")) == {
        "ICT technical support",
        "Broadband and filtering",
    }


def test_available_to_my_school_leaves_out_what_it_cannot_buy(client_for) -> None:
    # Riverside is a secondary academy: not maintained-only finance, not primary music.
    everything = set(all_listed(client_for("academy_head")))
    mine = set(all_listed(client_for("academy_head"), "available=1"))
    assert "Education financial services" in everything - mine
    assert "Music service: whole class ensemble teaching" in everything - mine
    assert "Payroll" in mine


def test_htmx_filtering_swaps_only_the_results(client_for) -> None:
    response = client_for("school_staff").get(
        "/services/?q=payroll", headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert "<html" not in html and "Filter" not in html
    assert "Payroll" in html


# --- what it costs my school ---------------------------------------------------------------


def test_a_school_sees_its_price_how_it_was_worked_out_and_the_change(client_for) -> None:
    page = soup(client_for("head_teacher").get("/services/?q=financial"))
    link = page.select_one("#results h3 a")["href"]
    detail = soup(client_for("head_teacher").get(link))
    box = detail.select_one(".council-your-price").get_text(" ", strip=True)
    # Oakfield: 412 pupils on roll in 2027-28, band 301 to 1000, £3,603.66 uplifted 4%.
    assert "Your price for 2027-28: £3,747.81" in box
    assert "Based on 412 pupils on roll at Oakfield Primary School." in box
    assert "Up £144.15 from 2026-27" in box


def test_a_price_published_again_is_shown_at_once(app, client_for, session) -> None:
    """A published offer's prices are read once for its publication: re-priced (withdrawn,
    changed, published again), the catalogue and the service's page show the new price."""
    head = client_for("head_teacher")
    oakfield = session.scalars(select(School).where(School.urn == 125601)).one()
    offer = next(
        o
        for o in session.scalars(
            select(ServiceOffer)
            .where(ServiceOffer.year == 2027, ServiceOffer.status == OfferStatus.PUBLISHED)
            .order_by(ServiceOffer.id)
        )
        if len(o.options) == 1
        and o.options[0].basis is PricingBasis.PER_SCHOOL
        and not o.vat_applies
        and o.service.is_available_to(oakfield)
    )
    name, old_pence = offer.service.name, offer.options[0].amount_pence
    new_pence = old_pence + 12_345

    def shown() -> tuple[str, str]:
        listed = soup(head.get(f"/services/?q={name}&year=2027")).select_one("#results")
        page = soup(head.get(f"/services/{offer.service_id}?year=2027"))
        return listed.get_text(" ", strip=True), page.select_one(".council-your-price").get_text(
            " ", strip=True
        )

    for text in shown():
        assert f"£{old_pence / 100:,.2f}" in text
    reprice(app, offer.id, new_pence)
    for text in shown():
        assert f"£{new_pence / 100:,.2f}" in text
        assert f"£{old_pence / 100:,.2f}" not in text


def test_a_service_changed_while_published_is_shown_as_it_is_now(client_for, session) -> None:
    """What a service says (its name, who may use it) can change while its offer stays
    published: pages read it afresh."""
    payroll = service(session, "Payroll")
    head = client_for("head_teacher")
    assert "Payroll" in listed(soup(head.get("/services/?q=payroll")))
    payroll.name, payroll.eligible = "Payroll and pensions", ["academy"]
    session.commit()
    page = soup(head.get("/services/?q=payroll"))
    assert listed(page) == ["Payroll and pensions"]
    assert "Not available to Oakfield Primary School." in page.select_one("#results").get_text()
    box = soup(head.get(f"/services/{payroll.id}")).get_text(" ", strip=True)
    assert "This service is not available to Oakfield Primary School." in box


def test_a_maintained_school_is_not_offered_an_academy_price(client_for) -> None:
    client = client_for("head_teacher")
    link = soup(client.get("/services/?q=hr+advisory")).select_one("#results h3 a")["href"]
    box = soup(client.get(link)).select_one(".council-your-price").get_text(" ", strip=True)
    # Only the maintained schools' option applies: £800 + 412 x £4.50, uplifted 3%.
    assert "Your price for 2027-28: £2,735.68" in box
    assert "Academies" not in box


def test_an_academy_is_told_a_maintained_only_service_is_not_for_it(client_for, session) -> None:
    finance = service(session, "Education financial services")
    box = soup(client_for("academy_head").get(f"/services/{finance.id}")).get_text(" ", strip=True)
    assert "This service is not available to Riverside Academy." in box


def test_a_trust_lead_chooses_which_academys_price(client_for, session) -> None:
    payroll = service(session, "Payroll")
    client = client_for("trust_lead")
    page = soup(client.get(f"/services/{payroll.id}"))
    choices = [o.get_text(strip=True) for o in page.select("#school option")]
    assert "Riverside Academy" in choices and "Oakfield Primary School" not in choices


def test_council_staff_see_no_school_price_but_publishers_preview_one(client_for, session) -> None:
    finance = service(session, "Education financial services")
    assert (
        soup(client_for("caf_officer").get(f"/services/{finance.id}")).select_one(
            ".council-your-price"
        )
        is None
    )
    school = session.scalars(select(School).where(School.urn == 125601)).one()
    preview = soup(
        client_for("publisher").get(f"/services/{finance.id}?preview=1&school={school.id}")
    )
    assert "Your price for 2027-28" in preview.select_one(".council-your-price").get_text()


def test_a_price_from_one_session_says_one_session(client_for, session) -> None:
    outreach = service(session, "Behaviour support outreach")
    text = soup(client_for("head_teacher").get(f"/services/{outreach.id}")).get_text(" ")
    # The demo's tiers start at 1 and 10 sessions, uplifted 2.5% for 2027-28.
    assert "From 1 session: £189.63 a session" in text
    assert "From 10 sessions: £169.13 a session" in text
    assert "1 sessions" not in text


@pytest.mark.parametrize(
    ("pupils", "words"), [(0, "0 pupils"), (1, "1 pupil"), (2, "2 pupils"), (1200, "1,200 pupils")]
)
def test_templates_count_in_words(app, pupils: int, words: str) -> None:
    from flask import render_template_string

    with app.test_request_context():
        assert render_template_string('{{ n | plural("pupil") }}', n=pupils) == words


# --- publishing ---------------------------------------------------------------------------


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/services/"), **data})


def test_a_publisher_drafts_prices_previews_publishes_and_withdraws(client_for, session) -> None:
    publisher, school = client_for("publisher"), client_for("head_teacher")
    category = session.scalar(select(ServiceCategory.id).where(ServiceCategory.name == "ICT"))
    created = post(
        publisher,
        "/services/new",
        name="Cyber security training",
        category=str(category),
        kind="traded",
        summary="Training for staff on staying safe online.",
        included="Two sessions a year.",
        provider_team="ICT team",
        contact_email="ict@council.example",
    )
    assert created.status_code == 303
    new = service(session, "Cyber security training")
    assert (
        post(publisher, f"/services/{new.id}/offers", year="2027").headers["Location"]
        == f"/services/{new.id}/offers/2027"
    )
    # Not publishable without a price.
    refused = post(publisher, f"/services/{new.id}/offers/2027/publish")
    assert (
        "Not published: Add at least one price option"
        in soup(publisher.get(refused.headers["Location"])).get_text()
    )
    added = post(
        publisher,
        f"/services/{new.id}/offers/2027/options/new",
        name="Annual",
        basis="banded",
        shown_basis="banded",
        audience="all",
        bands="0-200: 300.00\n201+: 450.00",
    )
    assert added.status_code == 303
    assert "Cyber security training" not in all_listed(school)
    oakfield = session.scalar(select(School.id).where(School.urn == 125601))
    preview = soup(publisher.get(f"/services/{new.id}?preview=1&year=2027&school={oakfield}"))
    # Oakfield has 412 pupils on roll: the open band.
    assert "Your price for 2027-28: £450.00" in preview.get_text(" ", strip=True)
    assert post(publisher, f"/services/{new.id}/offers/2027/publish").status_code == 303
    assert "Cyber security training" in all_listed(school)
    post(publisher, f"/services/{new.id}/offers/2027/withdraw")
    assert "Cyber security training" not in all_listed(school)
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-5:] == [
        "service.created",
        "offer.created",
        "price_option.created",
        "offer.published",
        "offer.withdrawn",
    ]


def test_prices_of_a_published_offer_cannot_be_changed(client_for, session) -> None:
    payroll = service(session, "Payroll")
    response = client_for("publisher").get(f"/services/{payroll.id}/offers/2027/options/new")
    assert response.status_code == 303


def test_an_offer_published_since_it_was_read_cannot_be_changed(app, session) -> None:
    """The check is on the offer as it is when the change is made: a colleague may have
    published it since the publisher's page read it as a draft."""
    from portal.db import db
    from portal.models import User
    from portal.services import publishing

    payroll_id = service(session, "Payroll").id
    with app.app_context():
        publisher = db.session.scalars(
            select(User).where(User.email == "publisher@council.example")
        ).one()
        payroll = db.session.get(Service, payroll_id)
        draft = publishing.start_offer(payroll, 2031, publisher)
        option = publishing.save_option(
            draft,
            None,
            publishing.OptionDetails(
                "Annual", PricingBasis.PER_SCHOOL, Audience.ALL, 50_000, 0, None, None, {}
            ),
            publisher,
        )
        # Published by a colleague since this session read the draft (which it still holds).
        db.session.execute(
            update(ServiceOffer)
            .where(ServiceOffer.id == draft.id)
            .values(status=OfferStatus.PUBLISHED)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        assert draft.status is OfferStatus.DRAFT
        details = publishing.OptionDetails(
            "Annual", PricingBasis.PER_SCHOOL, Audience.ALL, 1, 0, None, None, {}
        )
        with pytest.raises(publishing.PublishingError, match="Withdraw the offer"):
            publishing.save_option(draft, option, details, publisher)
        db.session.rollback()
        with pytest.raises(publishing.PublishingError, match="Withdraw the offer"):
            publishing.delete_option(draft, option, publisher)
        db.session.rollback()
        with pytest.raises(publishing.PublishingError, match="Withdraw the offer"):
            publishing.update_offer(draft, draft.decision, not draft.vat_applies, publisher)
    session.expire_all()
    assert session.get(PriceOption, option.id).amount_pence == 50_000


def test_vat_on_a_published_offer_cannot_be_changed(client_for, session) -> None:
    payroll = service(session, "Payroll")
    offer = next(o for o in payroll.offers if o.year == 2027)
    before = offer.vat_applies
    publisher = client_for("publisher")
    path = f"/services/{payroll.id}/offers/2027"
    flipped = "no" if before else "yes"
    decision = offer.decision.value
    response = post(publisher, path, decision=decision, vat=flipped)
    page = soup(response)
    assert response.status_code == 200
    error = page.select_one("#vat-error").get_text(" ", strip=True)
    assert "Withdraw the offer before changing whether VAT applies" in error
    summary = page.select_one(".govuk-error-summary a")
    assert summary["href"] == "#vat" and "Withdraw the offer" in summary.get_text()
    assert page.select_one(f'input[name="vat"][value="{flipped}"]').has_attr("checked")
    session.expire_all()
    assert session.get(type(offer), offer.id).vat_applies is before
    # Withdrawn, it can be changed (and published again with the new prices).
    assert post(publisher, f"{path}/withdraw").status_code == 303
    assert post(publisher, path, decision=decision, vat=flipped).status_code == 303
    session.expire_all()
    assert session.get(type(offer), offer.id).vat_applies is not before


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"basis": "banded", "bands": "0-100: 10.00\n90-200: 20.00"}, {"bands": None}),
        (
            {"basis": "per_school", "amount": "12.345"},
            {"amount": "no more than 2 decimal places"},
        ),
        ({"basis": "per_pupil"}, {"per_pupil": "Enter the rate per pupil"}),
        ({"basis": "per_unit", "amount": "100"}, {"unit": "Choose the unit"}),
        ({"basis": "banded", "bands": "lots: 10"}, {"bands": "is not a band"}),
    ],
)
def test_bad_prices_are_explained_beside_the_field(client_for, session, fields, errors) -> None:
    publisher = client_for("publisher")
    new = service(session, "Fire risk assessment")
    withdrawn = post(publisher, f"/services/{new.id}/offers/2027/withdraw")
    assert withdrawn.status_code == 303
    response = post(
        publisher,
        f"/services/{new.id}/offers/2027/options/new",
        name="Test",
        audience="all",
        shown_basis=fields["basis"],
        **fields,
    )
    page = soup(response)
    for name, message in errors.items():
        error = page.select_one(f"#{name}-error")
        assert error is not None, page.select_one(".govuk-error-summary")
        if message:
            assert message in error.get_text()


# What each basis asks for, beside the name, the basis and the audience every option has.
BASIS_FIELDS = {
    "per_school": {"amount"},
    "per_pupil": {"per_pupil", *PHASE_RATES, "minimum"},
    "flat_plus_per_pupil": {"amount", "per_pupil", *PHASE_RATES, "minimum"},
    "banded": {"bands"},
    "per_unit": {"unit", "amount", "pack_size", "tiers", "minimum"},
}
EVERY_OPTION = {"csrf_token", "name", "basis", "audience", "shown_basis"}


def fields_of(page: BeautifulSoup) -> set[str]:
    return {
        str(field["name"])
        for field in page.select("main form input, main form select, main form textarea")
    } - EVERY_OPTION


@pytest.fixture
def draft_path(client_for, session) -> str:
    """The price options of the demo's Fire risk assessment for 2027-28, withdrawn."""
    fire = service(session, "Fire risk assessment")
    assert (
        post(client_for("publisher"), f"/services/{fire.id}/offers/2027/withdraw").status_code
        == 303
    )
    return f"/services/{fire.id}/offers/2027"


@pytest.mark.parametrize("basis", list(BASIS_FIELDS))
def test_the_option_form_asks_only_what_the_basis_needs(
    client_for, draft_path: str, basis: str
) -> None:
    publisher = client_for("publisher")
    first = soup(publisher.get(f"{draft_path}/options/new"))
    # The basis first: nothing priced yet, and no "Save" until it is chosen.
    assert fields_of(first) == set()
    assert [b.get_text(strip=True) for b in first.select("main form button")] == ["Continue"]
    chosen = {"name": "Annual", "basis": basis, "audience": "all", "choose_basis": "Continue"}
    # Without JavaScript, "Continue" draws the whole form for the basis.
    page = soup(post(publisher, f"{draft_path}/options/new", **chosen))
    assert fields_of(page) == BASIS_FIELDS[basis]
    assert page.select_one("#shown_basis")["value"] == basis
    assert page.select_one(".govuk-error-summary") is None
    assert page.select_one("#name")["value"] == "Annual"
    assert [b.get_text(strip=True) for b in page.select("main form button")] == [
        "Save price option"
    ]
    # With htmx, choosing the basis swaps in the same fields, and only them.
    swapped = publisher.post(
        f"{draft_path}/options/new",
        data={"csrf_token": csrf_token(publisher, "/services/"), **chosen},
        headers={"HX-Request": "true"},
    )
    fragment = soup(swapped)
    assert "<html" not in swapped.get_data(as_text=True)
    assert fragment.select_one("div")["id"] == "basis-fields"
    assert {str(f["name"]) for f in fragment.select("input, select, textarea")} == BASIS_FIELDS[
        basis
    ] | {"shown_basis"}


def test_continue_without_a_basis_asks_for_one(client_for, draft_path: str) -> None:
    page = soup(
        post(client_for("publisher"), f"{draft_path}/options/new", name="A", choose_basis="1")
    )
    assert (
        page.select_one("#basis-error")
        .get_text(" ", strip=True)
        .endswith("Select the pricing basis")
    )
    assert fields_of(page) == set()


def test_saving_after_changing_the_basis_shows_the_new_fields_and_saves_nothing(
    client_for, session, draft_path: str
) -> None:
    publisher = client_for("publisher")
    before = session.scalar(select(func.count(PriceOption.id)))
    # The fields were drawn for a per school price; the basis was then changed to banded.
    page = soup(
        post(
            publisher,
            f"{draft_path}/options/new",
            name="Annual",
            basis="banded",
            shown_basis="per_school",
            audience="all",
            amount="100.00",
        )
    )
    assert fields_of(page) == BASIS_FIELDS["banded"]
    assert page.select_one(".govuk-error-summary") is None
    assert session.scalar(select(func.count(PriceOption.id))) == before


def test_only_the_basis_fields_are_saved(client_for, session, draft_path: str) -> None:
    """What another basis's fields held (typed before the basis changed) is not the price."""
    saved = post(
        client_for("publisher"),
        f"{draft_path}/options/new",
        name="Whole school",
        basis="per_school",
        shown_basis="per_school",
        audience="all",
        amount="250.00",
        bands="0-100: 10.00",
        per_pupil="3.00",
        minimum="900.00",
        unit="day",
    )
    assert saved.status_code == 303
    option = session.scalars(select(PriceOption).where(PriceOption.name == "Whole school")).one()
    assert (option.basis, option.amount_pence, option.per_pupil_pence) == (
        PricingBasis.PER_SCHOOL,
        25000,
        0,
    )
    assert (option.rates, option.minimum_pence, option.unit) == ({}, None, None)


def test_changing_an_option_shows_its_basis_fields(client_for, session) -> None:
    outreach = service(session, "Behaviour support outreach")
    publisher = client_for("publisher")
    post(publisher, f"/services/{outreach.id}/offers/2027/withdraw")
    option = next(o for o in outreach.offers if o.year == 2027).options[0]
    page = soup(publisher.get(f"/services/{outreach.id}/offers/2027/options/{option.id}"))
    assert fields_of(page) == BASIS_FIELDS["per_unit"]
    assert page.select_one("#unit option[selected]")["value"] == "session"
    assert page.select_one("#tiers").get_text() == "1: 189.63\n10: 169.13"


def test_copying_a_year_uplifts_every_price_and_leaves_ceased_services_behind(
    client_for, session
) -> None:
    publisher = client_for("publisher")
    response = post(publisher, "/services/copy-year", from_year="2027", uplift="10")
    assert response.status_code == 303
    drafted = session.scalars(select(ServiceOffer).where(ServiceOffer.year == 2028)).all()
    assert drafted and all(o.status is OfferStatus.DRAFT for o in drafted)
    assert all(o.decision is TradingDecision.REPRICED for o in drafted)
    payroll = service(session, "Payroll")
    before = next(o for o in payroll.offers if o.year == 2027).options[0]
    after = next(o for o in payroll.offers if o.year == 2028).options[0]
    assert after.amount_pence == round(before.amount_pence * 1.1)
    assert "Governor training only" not in {o.service.name for o in drafted}
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "offer.year_copied")
    ).one()
    assert event.detail["drafted"] == len(drafted)


def test_the_trading_decision_is_recorded_and_audited(client_for, session) -> None:
    payroll = service(session, "Payroll")
    publisher = client_for("publisher")
    response = post(publisher, f"/services/{payroll.id}/offers/2027", decision="ceased", vat="yes")
    assert response.status_code == 303
    session.expire_all()
    offer = next(o for o in service(session, "Payroll").offers if o.year == 2027)
    assert offer.decision is TradingDecision.CEASED
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "offer.updated")).one()
    assert event.detail["changes"] == {"decision": ["repriced", "ceased"]}


def test_every_pricing_basis_is_in_the_demo_offer(session) -> None:
    used = set(session.scalars(select(PriceOption.basis)))
    assert used == set(PricingBasis)
    assert session.scalar(select(PriceOption.id).where(PriceOption.minimum_pence.is_not(None)))
    assert len(session.scalars(select(Service)).all()) >= 25


def test_the_catalogues_queries_do_not_grow_with_the_services_listed(
    client_for, count_queries
) -> None:
    head = client_for("head_teacher")
    with count_queries() as few:
        assert head.get("/services/?q=payroll").status_code == 200
    with count_queries() as many:
        assert head.get("/services/").status_code == 200
    assert many.count == few.count


# --- a year's drafts, published together ---------------------------------------------------------


def copied_year(client, session) -> list[ServiceOffer]:
    """2027-28's offer copied to 2028-29: the drafts, by service name."""
    assert post(client, "/services/copy-year", from_year="2027", uplift="0").status_code == 303
    drafts = session.scalars(
        select(ServiceOffer).join(Service).where(ServiceOffer.year == 2028).order_by(Service.name)
    ).all()
    assert len(drafts) > 3 and all(o.status is OfferStatus.DRAFT for o in drafts)
    return list(drafts)


def ticked(page: BeautifulSoup) -> set[int]:
    return {int(box["value"]) for box in page.select('input[name="offer"][checked]')}


def rows(page: BeautifulSoup) -> dict[str, str]:
    """Each draft listed: its service's name, and what its row says before publishing."""
    return {
        row.select_one("label").get_text(strip=True): row.select("td")[-1].get_text(" ", strip=True)
        for row in page.select("#offers tbody tr")
    }


def test_copying_a_year_shows_its_drafts_each_checked(client_for, session) -> None:
    publisher = client_for("publisher")
    response = post(publisher, "/services/copy-year", from_year="2027", uplift="0")
    assert response.headers["Location"] == "/services/drafts?year=2028"
    drafts = session.scalars(select(ServiceOffer).where(ServiceOffer.year == 2028)).all()
    page = soup(publisher.get(response.headers["Location"]))
    assert page.select_one("h1").get_text(strip=True) == "Draft offers for 2028-29"
    banner = page.select_one(".govuk-notification-banner").get_text(" ", strip=True)
    assert f"{len(drafts)} offers drafted for 2028-29. Check them below, then publish them." in (
        banner
    )
    listed = rows(page)
    assert set(listed) == {offer.service.name for offer in drafts}
    assert all(said.startswith("Ready") for said in listed.values())
    assert ticked(page) == set()
    assert f"{len(drafts)} draft offers: {len(drafts)} ready to publish." in page.get_text(" ")


def test_the_demo_drafts_say_what_stops_them(client_for) -> None:
    page = soup(client_for("publisher").get("/services/drafts"))
    assert page.select_one("h1").get_text(strip=True) == "Draft offers for 2027-28"
    listed = rows(page)
    assert listed["Online safety training for staff"].startswith("Ready")
    assert listed["Outdoor learning residentials"].startswith(
        "Add at least one price option: this is a traded service"
    )
    assert "2 draft offers: 1 ready to publish, 1 needs changing first." in page.get_text(" ")
    # A ceased service's draft records that it stops: listed apart, not to publish.
    assert "Governor training only" not in listed
    ceased = page.find("h2", string="Ceased in 2027-28").find_next("ul").get_text(" ", strip=True)
    assert ceased == "Governor training only"


@pytest.mark.parametrize(("select_", "expected"), [("all", 2), ("ready", 1), ("", 0), ("x", 0)])
def test_select_all_works_without_javascript(client_for, session, select_, expected) -> None:
    page = soup(client_for("publisher").get(f"/services/drafts?year=2027&select={select_}"))
    chosen = session.scalars(select(ServiceOffer.id).where(ServiceOffer.id.in_(ticked(page))))
    names = {session.get(ServiceOffer, i).service.name for i in chosen}
    assert len(ticked(page)) == expected
    if expected == 1:
        assert names == {"Online safety training for staff"}


def test_a_publisher_publishes_many_at_once_and_is_told_which_failed(client_for, session) -> None:
    publisher, school = client_for("publisher"), client_for("head_teacher")
    drafts = copied_year(publisher, session)
    # One of those chosen has lost its prices since it was copied.
    broken = next(o for o in drafts if o.service.kind is ServiceKind.TRADED)
    fine = [o for o in drafts if o is not broken][:3]
    broken.options.clear()
    session.commit()
    before = session.scalar(select(func.max(AuditEvent.id)))
    chosen = [broken, *fine]
    response = publisher.post(
        "/services/drafts",
        data={
            "csrf_token": csrf_token(publisher, "/services/"),
            "year": "2028",
            "offer": [str(o.id) for o in chosen],
        },
    )
    page = soup(response)
    assert page.select_one("title").get_text().startswith("Error: ")
    banner = page.select_one(".govuk-notification-banner--success").get_text(" ", strip=True)
    assert "3 offers published for 2028-29. Schools can see them now." in banner
    summary = page.select_one(".govuk-error-summary")
    assert "1 offer was not published." in summary.get_text(" ", strip=True)
    link = summary.select_one(".govuk-error-summary__list a")
    assert link.get_text(strip=True) == (
        f"{broken.service.name}: Add at least one price option: this is a traded service"
    )
    assert link["href"] == f"#offer-{broken.id}"
    # The one refused is still a draft, listed and ticked to publish once put right.
    assert ticked(page) == {broken.id}
    assert rows(page)[broken.service.name].startswith("Not published")
    session.expire_all()
    statuses = {o.id: session.get(ServiceOffer, o.id).status for o in chosen}
    assert statuses == {
        broken.id: OfferStatus.DRAFT,
        **{o.id: OfferStatus.PUBLISHED for o in fine},
    }
    # Audited offer by offer, as publishing one is.
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.subject_type, e.subject_id, e.detail) for e in events] == [
        ("offer.published", "ServiceOffer", o.id, {"year": 2028})
        for o in sorted(fine, key=lambda o: o.service.name)
    ]
    # Schools see what was published, and not what was not.
    names = all_listed(school, "year=2028")
    assert sorted(names) == sorted(o.service.name for o in fine)


def test_when_every_offer_chosen_is_published_the_page_says_how_many(client_for, session) -> None:
    publisher = client_for("publisher")
    drafts = copied_year(publisher, session)
    response = publisher.post(
        "/services/drafts",
        data={
            "csrf_token": csrf_token(publisher, "/services/"),
            "year": "2028",
            "offer": [str(drafts[0].id)],
        },
    )
    assert response.status_code == 303
    page = soup(publisher.get(response.headers["Location"]))
    assert "1 offer published for 2028-29. Schools can see it now." in page.get_text(" ")
    assert drafts[0].service.name not in rows(page)
    assert len(rows(page)) == len(drafts) - 1
    # Sent again (Back, and the button pressed twice), it publishes nothing and says so.
    again = publisher.post(
        "/services/drafts",
        data={
            "csrf_token": csrf_token(publisher, "/services/"),
            "year": "2028",
            "offer": [str(drafts[0].id)],
        },
    )
    summary = soup(again).select_one(".govuk-error-summary").get_text(" ", strip=True)
    assert f"{drafts[0].service.name}: It is already published" in summary
    assert soup(again).select_one(".govuk-notification-banner--success") is None
    assert (
        session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "offer.published", AuditEvent.subject_id == drafts[0].id
            )
        )
        == 1
    )


def test_publishing_none_asks_for_a_choice(client_for) -> None:
    page = soup(post(client_for("publisher"), "/services/drafts", year="2027"))
    summary = page.select_one(".govuk-error-summary a")
    assert summary.get_text(strip=True) == "Select the offers to publish"
    assert (
        page.select_one("#offer-error")
        .get_text(" ", strip=True)
        .endswith("Select the offers to publish")
    )
    assert summary["href"] == f"#{page.select_one('input[name=offer]')['id']}"


def test_a_ceased_draft_is_never_published(client_for, session) -> None:
    governor = service(session, "Governor training only")
    ceased = next(o for o in governor.offers if o.year == 2027)
    page = soup(post(client_for("publisher"), "/services/drafts", year="2027", offer=ceased.id))
    assert "A ceased service is not offered" in page.select_one(".govuk-error-summary").get_text()
    session.expire_all()
    assert session.get(ServiceOffer, ceased.id).status is OfferStatus.DRAFT


def test_only_those_who_edit_services_can_publish_them(app) -> None:
    from portal.access import Principal
    from portal.db import db
    from portal.models import User
    from portal.services.publishing import publish_many

    with app.app_context():
        draft = db.session.scalars(
            select(ServiceOffer)
            .join(Service)
            .where(Service.name == "Online safety training for staff")
        ).one()

        def who(email: str) -> Principal:
            return Principal.of(db.session.scalars(select(User).where(User.email == email)).one())

        result = publish_many(who("head@oakfield.example"), [draft.id])
        assert (result.published, result.refused) == ((), ())
        assert draft.status is OfferStatus.DRAFT
        assert publish_many(who("publisher@council.example"), [draft.id]).published == (draft,)
        assert draft.status is OfferStatus.PUBLISHED


def test_the_catalogues_years_include_a_year_only_drafted_for_publishers(
    client_for, session
) -> None:
    publisher, school = client_for("publisher"), client_for("head_teacher")
    drafts = copied_year(publisher, session)

    def years(client) -> list[str]:
        return [
            o.get_text(strip=True) for o in soup(client.get("/services/")).select("#year option")
        ]

    assert years(school) == ["2027-28", "2026-27"]
    assert years(publisher) == ["2028-29", "2027-28", "2026-27"]
    # Publishers still see first what schools see, and each year's drafts are a link away.
    page = soup(publisher.get("/services/"))
    assert page.select_one("#year option[selected]").get_text(strip=True) == "2027-28"
    note = " ".join(page.select_one("#results").get_text().split())
    assert "2 offers for 2027-28 are drafts: check and publish them." in note
    page = soup(publisher.get("/services/?year=2028"))
    results = page.select_one("#results")
    assert f"{len(drafts)} offers for 2028-29 are drafts" in " ".join(results.get_text().split())
    assert (
        results.find("a", string="check and publish them")["href"] == "/services/drafts?year=2028"
    )
    assert "0 services" in results.get_text(" ", strip=True)


_CATALOGUE_LOOP = Path(__file__).with_name("services_catalogue_loop.html")


def test_the_written_out_catalogue_is_the_pages_loop(app, session) -> None:
    """The catalogue's services are written out in Python (display.catalogue_items) for
    speed: they must stay what the page's Jinja loop drew, for free and traded services,
    a school that may buy them or not, prices with and without VAT, per unit, to be agreed,
    and names that need escaping."""
    from portal.pricing import Quote
    from portal.services import display
    from portal.services.catalogue import CategoryName, Listed, SchoolPrice

    school = session.scalars(select(School).order_by(School.id)).first()
    other_phase = next(p.value for p in Phase if p is not school.phase)
    category = CategoryName(4, 'Fish & <chips> "co\'s"')
    anyone = frozenset[str]()

    def listed_service(service_id: int, kind: ServiceKind, phases=anyone) -> Listed:
        return Listed(
            service_id,
            f"Service <{service_id}> & co",
            kind,
            category,
            "What it's for: <b>this</b>",
            anyone,
            phases,
            (service_id * 10, OfferStatus.PUBLISHED, None),
        )

    items = [
        listed_service(1, ServiceKind.STATUTORY),
        listed_service(2, ServiceKind.TRADED),
        listed_service(3, ServiceKind.TRADED, frozenset({other_phase})),
        listed_service(4, ServiceKind.TRADED),
        listed_service(5, next(k for k in ServiceKind if k.value not in {"traded", "statutory"})),
    ]
    prices = {
        2: [
            SchoolPrice("Annual <full>", 300, Quote(100_000, 20_000, 120_000, ())),
            SchoolPrice("Per visit", 300, Quote(8_000, 0, 8_000, ()), per=" per visit & more"),
            SchoolPrice("Bespoke", 300, None, "no price"),
        ],
        3: [SchoolPrice("Annual", 300, Quote(1, 0, 1, ()))],
    }
    loop = app.jinja_env.from_string(_CATALOGUE_LOOP.read_text())
    with app.test_request_context("/"):
        link = app.jinja_env.globals["link_for_each"]("services.show", "service_id", year=2027)
        for who in (school, None):
            theirs = loop.render(
                page=SimpleNamespace(items=items),
                school=who,
                prices=prices if who else {},
                service_link=link,
                format_pence=format_pence,
            )
            ours = display.catalogue_items(items, who, prices if who else {}, link)
            assert same_markup(str(ours)) == same_markup(theirs)
            # Both sides drew what is compared: for the school, whether it may buy each
            # service and its prices; for nobody's school, neither.
            for_a_school = "Not available to" in theirs and "Your price: " in theirs
            assert for_a_school == (who is not None)
    assert "Your price: Annual &lt;full&gt; £1,200.00 including VAT" in str(
        display.catalogue_items(items, school, prices, link)
    )


@pytest.mark.parametrize(
    "shape",
    [
        {},
        {"category": True},
        {"searched": True},
        {"priced": True},
        {"kinds": (ServiceKind.TRADED, ServiceKind.STATUTORY)},  # an IN list, spelled out
    ],
)
def test_the_catalogues_statements_read_by_the_driver_are_what_sqlalchemy_reads(
    app, session, shape
) -> None:
    """The catalogue's statements go through the driver itself (db.driver_records and
    driver_rows): each row must come back as SQLAlchemy's own results give it, by name and
    position, each value of the same type (enums, datetimes), with the values the statement
    was built with (a status, a literal) sent as SQLAlchemy sends them."""
    from portal.db import db, driver_records, driver_rows
    from portal.services import catalogue, service_page

    listing = catalogue._Listing(
        category=shape.get("category", False),
        kinds=shape.get("kinds", ()),
        searched=shape.get("searched", False),
        priced=shape.get("priced", False),
    )
    year = session.scalar(select(func.max(ServiceOffer.year)))
    some = session.scalars(select(Service).order_by(Service.id)).first()
    school = session.scalars(select(School).order_by(School.id)).first()
    values = {
        "year": year,
        "category": some.category_id,
        "search": some.name[1:4].lower(),
        "school": school.id,
        "page_size": 5,
        "page_offset": 0,
        "service_id": some.id,
    }
    statements = [
        catalogue._catalogue_rows(listing),
        catalogue._catalogue_pages(listing).page,
        catalogue._choices_query(True),
        catalogue._choices_query(False),
        # A service's page, with a school's rolls and without.
        service_page._service_query(True),
        service_page._service_query(False),
    ]
    with app.test_request_context():
        for statement in statements:
            theirs = db.session.connection().execute(statement, values).all()
            ours = driver_records(statement, values)
            assert theirs, statement  # something to compare
            assert [row._asdict() for row in ours] == [row._asdict() for row in theirs]
            assert [[type(value) for value in row] for row in ours] == [
                [type(value) for value in row] for row in theirs
            ]
            assert [list(row) for row in driver_rows(statement, values)] == [
                list(row) for row in theirs
            ]
