"""The Open Referral UK 3.0 feed at /api/oruk/, checked as ORUK's validator would check it.

Every response is validated offline against ORUK's own 3.0 JSON schemas, copied into
tests/data/oruk/ (their sources in tests/data/SOURCES.md), with the URLs the schemas use to
refer to each other mapped to those files, as ORUK's validator resolves them against the
specification's own site.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012
from sqlalchemy.orm import Session

from portal.clock import LONDON
from portal.config import from_environment
from portal.models import (
    Audience,
    OfferStatus,
    PriceOption,
    PricingBasis,
    Service,
    ServiceCategory,
    ServiceKind,
    ServiceOffer,
)
from tests.conftest import skip_or_fail
from tests.data import DATA

SPECIFICATION = DATA / "oruk" / "specification-3.0"
MOCKS = DATA / "oruk" / "validator-mocks"
SCHEMA_URL = "https://openreferraluk.org/specifications/3.0/schema/"
API = "/api/oruk"
NIL = "00000000-0000-0000-0000-000000000000"


# --- validating against ORUK's schemas ---------------------------------------------------------


def _local_schema(uri: str) -> Resource:
    if not uri.startswith(SCHEMA_URL):
        raise NoSuchResource(ref=uri)
    path = SPECIFICATION / "schema" / uri.removeprefix(SCHEMA_URL)
    # The schemas name no dialect; the 3.0 OpenAPI file declares 2020-12 for all of them.
    return Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT202012)


@dataclass(frozen=True)
class Oruk:
    """ORUK's 3.0 specification: each endpoint's response schema, ready to validate."""

    openapi: dict[str, Any]
    registry: Registry

    def validator(self, endpoint: str) -> Draft202012Validator:
        """The validator for ``endpoint`` as the specification writes it, e.g. /services/{id}."""
        response = self.openapi["paths"][endpoint]["get"]["responses"]["200"]
        reference = response["content"]["application/json"]["schema"]["$ref"]
        return Draft202012Validator(
            {"$ref": reference},
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def errors(self, endpoint: str, document: Any) -> list[str]:
        found = self.validator(endpoint).iter_errors(document)
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


@cache
def _load_oruk() -> Oruk:
    openapi = json.loads((SPECIFICATION / "openapi.json").read_text())
    return Oruk(openapi, Registry(retrieve=_local_schema))


@pytest.fixture
def oruk() -> Oruk:
    if not (SPECIFICATION / "openapi.json").is_file():
        skip_or_fail(f"ORUK's specification is not at {SPECIFICATION} (see tests/data/SOURCES.md)")
    return _load_oruk()


def test_the_format_checker_checks_every_format_the_schemas_use() -> None:
    # jsonschema silently passes a format it has no checker for (uri and date-time need
    # optional packages), which would make every check below weaker than it looks.
    checked = Draft202012Validator.FORMAT_CHECKER.checkers
    assert {"uri", "date-time", "email", "uuid"} <= checked.keys()


def test_the_validators_own_examples_pass_and_fail_as_they_should(oruk: Oruk) -> None:
    for endpoint, example in [("/services/{id}", "service_full.json"), ("/", "api_details.json")]:
        passing = json.loads((MOCKS / "V3.0-UK-Default" / example).read_text())
        assert oruk.errors(endpoint, passing) == []
    failing = json.loads((MOCKS / "V3.0-UK-Fail" / "service_full.json").read_text())
    errors = oruk.errors("/services/{id}", failing)
    assert any("'email-example_com' is not a 'email'" in error for error in errors), errors
    assert any("'example/counselling' is not a 'uri'" in error for error in errors), errors
    failing_details = json.loads((MOCKS / "V3.0-UK-Fail" / "api_details.json").read_text())
    assert oruk.errors("/", failing_details)


# --- what the feed must never send ---------------------------------------------------------------


def blanks(value: Any, where: str = "$") -> Iterator[str]:
    """Where ``value`` holds a null, a blank string or an empty object or list."""
    if value is None or (isinstance(value, str) and not value.strip()):
        yield where
    elif isinstance(value, dict):
        if not value:
            yield where
        for key, item in value.items():
            yield from blanks(item, f"{where}.{key}")
    elif isinstance(value, list):
        # An empty page is still a page: its contents may be an empty list.
        if not value and where != "$.contents":
            yield where
        for index, item in enumerate(value):
            yield from blanks(item, f"{where}[{index}]")


def get_json(client: FlaskClient, path: str, status: int = 200) -> Any:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response.headers
    document = response.get_json()
    assert list(blanks(document)) == []
    return document


def valid(oruk: Oruk, client: FlaskClient, endpoint: str, path: str) -> Any:
    """The document at ``path``, after checking it against ``endpoint``'s schema."""
    document = get_json(client, path)
    assert oruk.errors(endpoint, document) == []
    return document


# --- services to publish ---------------------------------------------------------------------


@dataclass
class Catalogue:
    session: Session
    category: ServiceCategory

    def add(
        self,
        name: str,
        *,
        offers: tuple[tuple[int, OfferStatus], ...] = ((2027, OfferStatus.PUBLISHED),),
        kind: ServiceKind = ServiceKind.TRADED,
        options: tuple[PriceOption, ...] = (),
        included: str = "Visits to school and a termly report.",
        changed: datetime | None = None,
        category: ServiceCategory | None = None,
    ) -> Service:
        """A service with an offer per (year, status); ``options`` go on the last offer."""
        service = Service(
            name=name,
            category=category or self.category,
            kind=kind,
            summary=f"{name} for schools.",
            included=included,
            provider_team=f"{name} team",
            contact_email="services@council.example",
            **({"updated_at": changed} if changed else {}),
        )
        for year, status in offers:
            offer = ServiceOffer(year=year, status=status)
            if changed:
                offer.updated_at = changed
            service.offers.append(offer)
        if service.offers:
            service.offers[-1].options.extend(options)
        self.session.add(service)
        self.session.commit()
        return service


@pytest.fixture
def catalogue(session: Session) -> Catalogue:
    """Services in a category of the test's own, so the demo's services cannot be counted."""
    category = ServiceCategory(name=f"Test category {uuid.uuid4()}", description=None)
    session.add(category)
    session.commit()
    return Catalogue(session, category)


def in_category(catalogue: Catalogue, query: str = "") -> str:
    return f"{API}/services?taxonomy_term_id={catalogue.category.public_id}{query}"


def ids(document: dict[str, Any]) -> list[str]:
    return [item["id"] for item in document["contents"]]


# --- the endpoints, against the schemas -------------------------------------------------------


def test_api_details_say_which_specification_to_test_against(
    oruk: Oruk, client: FlaskClient
) -> None:
    details = valid(oruk, client, "/", f"{API}/")
    assert details == {
        "version": "HSDS-UK-3.0",
        "profile": "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md",
        "openapi_url": "https://openreferraluk.org/specifications/3.0/openapi.json",
    }


def test_every_page_of_services_is_valid(
    oruk: Oruk, client: FlaskClient, catalogue: Catalogue
) -> None:
    for number in range(5):
        catalogue.add(f"Paged service {number}")
    valid(oruk, client, "/services", f"{API}/services")
    # As the validator does: the first, the middle and the last page.
    for number in (1, 2, 3):
        page = valid(
            oruk, client, "/services", in_category(catalogue, f"&per_page=2&page={number}")
        )
        assert page["page_number"] == number


def test_a_full_service_is_valid_and_says_everything_it_knows(
    oruk: Oruk, client: FlaskClient, catalogue: Catalogue, app: Flask
) -> None:
    service = catalogue.add(
        "Attendance support",
        options=(PriceOption(name="Standard", basis=PricingBasis.PER_SCHOOL, amount_pence=76500),),
    )
    found = valid(oruk, client, "/services/{id}", f"{API}/services/{service.public_id}")
    organisation_id = app.config["COUNCIL_ORGANISATION_ID"]
    assert found["id"] == service.public_id
    assert found["organization_id"] == organisation_id
    assert found["organization"] == {
        "id": organisation_id,
        "name": app.config["COUNCIL_NAME"],
        "description": found["organization"]["description"],
        "email": app.config["COUNCIL_CONTACT_EMAIL"],
        "website": app.config["COUNCIL_WEBSITE"],
    }
    assert found["name"] == "Attendance support"
    assert found["description"] == (
        "Attendance support for schools.\n\nVisits to school and a termly report."
    )
    assert found["status"] == "active"
    assert found["email"] == "services@council.example"
    assert "url" not in found
    changed = datetime.fromisoformat(found["last_modified"])
    assert found["last_modified"].endswith("Z")
    assert abs(datetime.now(UTC) - changed) < timedelta(minutes=5)
    assert found["assured_date"] == changed.astimezone(LONDON).date().isoformat()
    assert found["contacts"][0]["name"] == "Attendance support team"
    (attribute,) = found["attributes"]
    assert attribute["taxonomy_term_id"] == catalogue.category.public_id
    assert attribute["taxonomy_term"]["name"] == catalogue.category.name


def test_taxonomies_and_terms_are_valid(
    oruk: Oruk, client: FlaskClient, catalogue: Catalogue
) -> None:
    taxonomies = valid(oruk, client, "/taxonomies", f"{API}/taxonomies")
    (taxonomy,) = taxonomies["contents"]
    assert taxonomy["name"] == "Schools Partner Portal service categories"
    assert taxonomies["total_items"] == 1

    one = valid(oruk, client, "/taxonomies/{id}", f"{API}/taxonomies/{taxonomy['id']}")
    assert catalogue.category.public_id in [term["id"] for term in one["taxonomy_terms"]]

    terms = valid(oruk, client, "/taxonomy_terms", f"{API}/taxonomy_terms?per_page=100")
    ours = [term for term in terms["contents"] if term["id"] == catalogue.category.public_id]
    # The category has no description, and the schema requires one: its name stands in.
    assert ours == [
        {
            "id": catalogue.category.public_id,
            "name": catalogue.category.name,
            "term": catalogue.category.name,
            "description": catalogue.category.name,
            "taxonomy": taxonomy["name"],
            "taxonomy_id": taxonomy["id"],
        }
    ]
    term = valid(
        oruk, client, "/taxonomy_terms/{id}", f"{API}/taxonomy_terms/{catalogue.category.public_id}"
    )
    assert term == ours[0]


def test_terms_filter_by_search_and_taxonomy(client: FlaskClient, catalogue: Catalogue) -> None:
    name = catalogue.category.name
    found = get_json(client, f"{API}/taxonomy_terms?search={name[-12:]}")
    assert ids(found) == [catalogue.category.public_id]
    taxonomy_id = get_json(client, f"{API}/taxonomies")["contents"][0]["id"]
    assert catalogue.category.public_id in ids(
        get_json(client, f"{API}/taxonomy_terms?per_page=100&taxonomy_id={taxonomy_id}")
    )
    assert get_json(client, f"{API}/taxonomy_terms?taxonomy_id={NIL}")["total_items"] == 0
    assert get_json(client, f"{API}/taxonomy_terms?parent_id={NIL}")["empty"] is True


# --- which services ------------------------------------------------------------------------------


def test_only_services_with_a_published_offer_appear(
    client: FlaskClient, catalogue: Catalogue
) -> None:
    published = catalogue.add("Published service")
    drafted = catalogue.add("Draft service", offers=((2027, OfferStatus.DRAFT),))
    withdrawn = catalogue.add("Withdrawn service", offers=((2027, OfferStatus.WITHDRAWN),))
    no_offer = catalogue.add("Service with no offer", offers=())
    next_year = catalogue.add(
        "Published last year, drafted this",
        offers=((2026, OfferStatus.PUBLISHED), (2027, OfferStatus.DRAFT)),
    )

    listed = ids(get_json(client, in_category(catalogue)))
    assert sorted(listed) == sorted([published.public_id, next_year.public_id])
    everything = ids(get_json(client, f"{API}/services?per_page=100"))
    for hidden in (drafted, withdrawn, no_offer):
        assert hidden.public_id not in everything
        get_json(client, f"{API}/services/{hidden.public_id}", status=404)


@pytest.mark.parametrize(
    "path",
    [
        f"/services/{NIL}",
        "/services/not-a-uuid",
        "/services/1",
        f"/taxonomy_terms/{NIL}",
        "/taxonomy_terms/not-a-uuid",
        f"/taxonomies/{NIL}",
        "/taxonomies/not-a-uuid",
    ],
)
def test_an_unknown_id_is_a_json_404(client: FlaskClient, path: str) -> None:
    found = get_json(client, API + path, status=404)
    assert found == {"status": 404, "message": "Page not found"}


def test_search_finds_words_in_the_name_or_description(
    client: FlaskClient, catalogue: Catalogue
) -> None:
    by_name = catalogue.add("Kingfisher outreach")
    by_text = catalogue.add("Reading recovery", included="Includes KINGFISHER phonics sessions.")
    catalogue.add("Something else")
    found = get_json(client, in_category(catalogue, "&search=kingfisher"))
    assert sorted(ids(found)) == sorted([by_name.public_id, by_text.public_id])
    # LIKE's wildcards are searched for as themselves.
    assert get_json(client, in_category(catalogue, "&search=%25"))["total_items"] == 0
    assert get_json(client, in_category(catalogue, "&search=_"))["total_items"] == 0


def test_taxonomy_term_filters_services_to_its_category(
    client: FlaskClient, catalogue: Catalogue, session: Session
) -> None:
    other = ServiceCategory(name=f"Other category {uuid.uuid4()}")
    session.add(other)
    session.commit()
    ours = catalogue.add("In our category")
    theirs = catalogue.add("In the other category", category=other)
    assert ids(get_json(client, in_category(catalogue))) == [ours.public_id]
    by_other = get_json(client, f"{API}/services?taxonomy_term_id={other.public_id}")
    assert ids(by_other) == [theirs.public_id]
    for nothing in (NIL, "not-a-uuid"):
        assert get_json(client, f"{API}/services?taxonomy_term_id={nothing}")["empty"] is True


def test_organisation_and_taxonomy_filters(
    client: FlaskClient, catalogue: Catalogue, app: Flask
) -> None:
    service = catalogue.add("Council service")
    ours = app.config["COUNCIL_ORGANISATION_ID"]
    assert ids(get_json(client, in_category(catalogue, f"&organization_id={ours}"))) == [
        service.public_id
    ]
    assert get_json(client, in_category(catalogue, f"&organization_id={NIL}"))["empty"] is True
    assert get_json(client, in_category(catalogue, f"&taxonomy_id={NIL}"))["empty"] is True


def test_modified_after_counts_offers_being_published(
    client: FlaskClient, catalogue: Catalogue
) -> None:
    old = datetime(2020, 1, 1, tzinfo=UTC)
    untouched = catalogue.add("Unchanged since 2020", changed=old)
    recent = catalogue.add("Changed now")
    repriced = catalogue.add("Re-published in 2025", changed=old)
    repriced.offers[0].updated_at = datetime(2025, 6, 1, 12, 30, tzinfo=UTC)
    catalogue.session.commit()

    after = get_json(client, in_category(catalogue, "&modified_after=2024-01-01T00:00:00Z"))
    assert sorted(ids(after)) == sorted([recent.public_id, repriced.public_id])
    assert untouched.public_id in ids(get_json(client, in_category(catalogue)))

    found = get_json(client, f"{API}/services/{repriced.public_id}")
    assert found["last_modified"] == "2025-06-01T12:30:00.000Z"
    # A date alone, or a time with no offset, is read as UTC.
    assert len(ids(get_json(client, in_category(catalogue, "&modified_after=2025-06-01")))) == 2
    too_late = in_category(catalogue, "&modified_after=2025-06-01T12:30:01")
    assert ids(get_json(client, too_late)) == [recent.public_id]


# --- pages ---------------------------------------------------------------------------------------


def test_page_numbers_at_the_boundaries(client: FlaskClient, catalogue: Catalogue) -> None:
    for number in range(5):
        catalogue.add(f"Service {number}")

    def page(query: str) -> dict[str, Any]:
        found = get_json(client, in_category(catalogue, query))
        return {key: value for key, value in found.items() if key != "contents"}

    assert page("&per_page=2") == {
        "total_items": 5,
        "total_pages": 3,
        "page_number": 1,
        "size": 2,
        "first_page": True,
        "last_page": False,
        "empty": False,
    }
    assert page("&per_page=2&page=3") == {
        "total_items": 5,
        "total_pages": 3,
        "page_number": 3,
        "size": 1,
        "first_page": False,
        "last_page": True,
        "empty": False,
    }
    # Exactly one full page, and a page past the end: empty, and still a page.
    assert page("&per_page=5")["total_pages"] == 1
    assert page("&per_page=5")["last_page"] is True
    past = get_json(client, in_category(catalogue, "&per_page=5&page=2"))
    assert past["empty"] is True
    assert past["contents"] == []
    assert past["size"] == 0
    # A page number far past the end is not an error on any database.
    assert page("&page=999999999")["empty"] is True
    # Pages do not overlap, and together hold every service once, in name order.
    seen = [
        name
        for number in (1, 2, 3)
        for name in (
            item["name"]
            for item in get_json(client, in_category(catalogue, f"&per_page=2&page={number}"))[
                "contents"
            ]
        )
    ]
    assert seen == [f"Service {number}" for number in range(5)]


def test_an_empty_result_is_one_empty_page(client: FlaskClient, catalogue: Catalogue) -> None:
    found = get_json(client, in_category(catalogue))
    assert found == {
        "total_items": 0,
        "total_pages": 1,
        "page_number": 1,
        "size": 0,
        "first_page": True,
        "last_page": True,
        "empty": True,
        "contents": [],
    }


def test_page_size_defaults_and_limits(client: FlaskClient, catalogue: Catalogue) -> None:
    for number in range(3):
        catalogue.add(f"Sized service {number}")
    assert get_json(client, in_category(catalogue))["size"] == 3
    # Asking for more than a page may hold gets the most it may hold, not an error.
    assert get_json(client, in_category(catalogue, "&per_page=100000"))["total_pages"] == 1


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=two",
        "page=1.5",
        "page=9999999999999999999999",
        "per_page=0",
        "per_page=ten",
        "modified_after=yesterday",
        "modified_after=0001-01-01T00:00:00%2B01:00",
        "modified_after=9999-12-31T23:59:59-05:00",
    ],
)
def test_bad_parameters_are_a_json_400(client: FlaskClient, query: str) -> None:
    found = get_json(client, f"{API}/services?{query}", status=400)
    assert found["status"] == 400
    assert query.split("=")[0] in found["message"]


def test_a_nul_character_is_refused_before_any_query(client: FlaskClient) -> None:
    # PostgreSQL cannot hold one: the portal refuses it whole, and the feed says so in JSON.
    assert get_json(client, f"{API}/services?search=a%00b", status=400)["status"] == 400


def test_unknown_and_unsupported_parameters_are_ignored(
    client: FlaskClient, catalogue: Catalogue
) -> None:
    service = catalogue.add("Ignoring service")
    found = get_json(client, in_category(catalogue, "&colour=blue&format=json&minimal=false"))
    assert ids(found) == [service.public_id]


def test_full_lists_fully_nested_services(
    oruk: Oruk, client: FlaskClient, catalogue: Catalogue
) -> None:
    catalogue.add(
        "Nested service",
        options=(PriceOption(name="Standard", basis=PricingBasis.PER_SCHOOL, amount_pence=100),),
    )
    found = valid(oruk, client, "/services", in_category(catalogue, "&full=true"))
    (service,) = found["contents"]
    assert service["cost_options"][0]["amount"] == 1
    assert "cost_options" not in get_json(client, in_category(catalogue))["contents"][0]


# --- prices --------------------------------------------------------------------------------------


def test_each_amount_a_school_could_pay_is_a_cost_option(
    oruk: Oruk, client: FlaskClient, catalogue: Catalogue
) -> None:
    options = (
        PriceOption(name="Whole school", basis=PricingBasis.PER_SCHOOL, amount_pence=76500),
        PriceOption(name="By roll", basis=PricingBasis.PER_PUPIL, per_pupil_pence=1250),
        PriceOption(
            name="Banded",
            basis=PricingBasis.BANDED,
            audience=Audience.ACADEMIES,
            rates={
                "bands": [
                    {"from": 0, "to": 100, "pence": 76500},
                    {"from": 101, "to": None, "pence": 99999},
                ]
            },
        ),
        PriceOption(
            name="Hours",
            basis=PricingBasis.PER_UNIT,
            amount_pence=5000,
            unit="hour",
            minimum_pence=10000,
            rates={"tiers": [{"from": 10, "pence": 4500}]},
        ),
    )
    service = catalogue.add("Priced service", options=options)
    found = valid(oruk, client, "/services/{id}", f"{API}/services/{service.public_id}")
    costs = [
        (cost["option"], cost["amount"], cost["amount_description"])
        for cost in found["cost_options"]
    ]
    assert costs == [
        ("Whole school", 765, "£765.00 per school per year"),
        ("By roll", 12.5, "£12.50 per pupil on roll per year"),
        (
            "Banded",
            765,
            "£765.00 per school per year for 0 to 100 pupils on roll, "
            "for academies and free schools",
        ),
        (
            "Banded",
            999.99,
            "£999.99 per school per year for 101 or more pupils on roll, "
            "for academies and free schools",
        ),
        ("Hours", 50, "£50.00 per hour, minimum charge £100.00"),
        ("Hours", 45, "£45.00 per hour when buying 10 hours or more, minimum charge £100.00"),
    ]
    for cost in found["cost_options"]:
        assert cost["currency"] == "GBP"
        assert (cost["valid_from"], cost["valid_to"]) == ("2027-04-01", "2028-03-31")
        assert cost["service_id"] == service.public_id
    assert len({cost["id"] for cost in found["cost_options"]}) == len(costs)
    # The ids are derived, not random: the same on every request.
    again = get_json(client, f"{API}/services/{service.public_id}")
    assert [cost["id"] for cost in again["cost_options"]] == [
        cost["id"] for cost in found["cost_options"]
    ]


def test_a_volume_tier_from_one_replaces_the_plain_unit_price(
    client: FlaskClient, catalogue: Catalogue
) -> None:
    days = PriceOption(
        name="Adviser days",
        basis=PricingBasis.PER_UNIT,
        amount_pence=60000,
        unit="day",
        rates={"tiers": [{"from": 1, "pence": 64375}, {"from": 5, "pence": 60770}]},
    )
    service = catalogue.add("Adviser", options=(days,))
    found = get_json(client, f"{API}/services/{service.public_id}")
    assert [(c["amount"], c["amount_description"]) for c in found["cost_options"]] == [
        (643.75, "£643.75 per day"),
        (607.7, "£607.70 per day when buying 5 days or more"),
    ]


def test_phase_rates_fixed_fees_and_vat_are_described(
    client: FlaskClient, catalogue: Catalogue
) -> None:
    service = catalogue.add(
        "Phase priced",
        options=(
            PriceOption(
                name="Subscription",
                basis=PricingBasis.FLAT_PLUS_PER_PUPIL,
                amount_pence=50000,
                per_pupil_pence=300,
                rates={"by_phase": {"Secondary": 450}},
            ),
        ),
    )
    service.offers[0].vat_applies = True
    catalogue.session.commit()
    found = get_json(client, f"{API}/services/{service.public_id}")
    assert [(c["amount"], c["amount_description"]) for c in found["cost_options"]] == [
        (
            500,
            "£500.00 per school per year plus £3.00 per pupil on roll "
            "for schools in other phases, plus VAT at 20%",
        ),
        (
            500,
            "£500.00 per school per year plus £4.50 per pupil on roll "
            "for schools in the Secondary phase, plus VAT at 20%",
        ),
    ]


def test_prices_come_from_the_latest_published_offer(
    client: FlaskClient, catalogue: Catalogue
) -> None:
    def per_school(pence: int) -> PriceOption:
        return PriceOption(name=f"Price {pence}", basis=PricingBasis.PER_SCHOOL, amount_pence=pence)

    service = catalogue.add(
        "Three years",
        offers=(
            (2026, OfferStatus.PUBLISHED),
            (2027, OfferStatus.PUBLISHED),
            (2028, OfferStatus.DRAFT),
        ),
    )
    for offer, pence in zip(service.offers, (1000, 2000, 3000), strict=True):
        offer.options.append(per_school(pence))
    catalogue.session.commit()
    found = get_json(client, f"{API}/services/{service.public_id}")
    assert [(c["option"], c["valid_from"]) for c in found["cost_options"]] == [
        ("Price 2000", "2027-04-01")
    ]


def test_a_free_service_says_it_is_free(
    oruk: Oruk, client: FlaskClient, catalogue: Catalogue
) -> None:
    service = catalogue.add("Statutory service", kind=ServiceKind.STATUTORY)
    found = valid(oruk, client, "/services/{id}", f"{API}/services/{service.public_id}")
    (cost,) = found["cost_options"]
    assert cost["amount"] == 0
    assert cost["option"] == "Free to schools"
    assert cost["amount_description"].startswith("Free")


# --- headers, cookies and cost -------------------------------------------------------------------


def test_any_web_page_may_read_the_feed_but_not_the_portal(
    client: FlaskClient, catalogue: Catalogue
) -> None:
    service = catalogue.add("Open service")
    for path in (
        f"{API}/",
        f"{API}/services",
        f"{API}/services/{service.public_id}",
        f"{API}/services/{NIL}",
        f"{API}/services?page=0",
        f"{API}/taxonomies",
        f"{API}/taxonomy_terms",
    ):
        response = client.get(path)
        assert response.headers["Access-Control-Allow-Origin"] == "*", path
        assert "Set-Cookie" not in response.headers, path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
    for path in ("/sign-in", "/healthz", "/"):
        assert "Access-Control-Allow-Origin" not in client.get(path).headers, path


def test_a_preflight_request_is_answered(client: FlaskClient) -> None:
    response = client.options(
        f"{API}/services",
        headers={"Origin": "https://directory.example", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "POST" not in response.headers["Access-Control-Allow-Methods"]


def test_the_feed_is_read_only(client: FlaskClient) -> None:
    # No form token is asked for (nothing is sent with a form), and nothing can be changed.
    assert client.post(f"{API}/services").status_code == 405


def test_a_list_costs_the_same_queries_however_many_services(
    client: FlaskClient,
    catalogue: Catalogue,
    count_queries: Callable[[], Any],
) -> None:
    def queries(query: str) -> int:
        with count_queries() as counter:
            found = get_json(client, in_category(catalogue, query))
        assert found["total_items"] == total
        # The test's own transaction adds a rollback to a savepoint: count what the API asks.
        return sum(statement.lstrip().startswith("SELECT") for statement in counter.statements)

    def priced(pence: int) -> tuple[PriceOption, ...]:
        return (
            PriceOption(name="A", basis=PricingBasis.PER_SCHOOL, amount_pence=pence),
            PriceOption(name="B", basis=PricingBasis.PER_PUPIL, per_pupil_pence=pence),
        )

    for number in range(2):
        catalogue.add(f"Small {number}", options=priced(number + 1))
    total = 2
    small, small_full = queries(""), queries("&full=true")
    for number in range(12):
        catalogue.add(
            f"Large {number}",
            options=priced(number + 1),
            offers=((2026, OfferStatus.PUBLISHED), (2027, OfferStatus.PUBLISHED)),
        )
    total = 14
    assert (queries(""), queries("&full=true")) == (small, small_full)
    # A count and a page; nested records add one query for offers and one for prices.
    assert (small, small_full) == (2, 4)


def test_a_failure_is_a_json_500_that_tells_nothing(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("portal.api.oruk.fetch_page", broken)
    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    response = app.test_client().get(f"{API}/services")
    assert response.status_code == 500
    assert response.get_json() == {
        "status": 500,
        "message": "Sorry, there is a problem with the service",
    }
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# --- settings ------------------------------------------------------------------------------------


def test_the_organisation_id_is_made_from_the_council_name_unless_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("COUNCIL_ORGANISATION_ID", raising=False)
    monkeypatch.setenv("COUNCIL_NAME", "Borsetshire County Council")
    made = from_environment(str(tmp_path))["COUNCIL_ORGANISATION_ID"]
    expected = uuid.uuid5(uuid.NAMESPACE_URL, "https://council.example/Borsetshire County Council")
    assert made == str(expected)

    chosen = "8A1C5F4E-3D2B-4C1A-9E8F-7D6C5B4A3F21"
    monkeypatch.setenv("COUNCIL_ORGANISATION_ID", chosen)
    assert from_environment(str(tmp_path))["COUNCIL_ORGANISATION_ID"] == chosen.lower()
    monkeypatch.setenv("COUNCIL_ORGANISATION_ID", "not-a-uuid")
    with pytest.raises(ValueError):
        from_environment(str(tmp_path))
