"""The schools list: the first search-as-you-type page, and the model for later ones."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.html import soup


def school_names(page: BeautifulSoup) -> list[str]:
    return [a.get_text(strip=True) for a in page.select("#results tbody a")]


def test_search_finds_by_name_urn_or_postcode(client_for) -> None:
    client = client_for("la_admin")
    assert school_names(soup(client.get("/schools/?q=oakfield"))) == ["Oakfield Primary School"]
    assert school_names(soup(client.get("/schools/?q=140201"))) == ["Riverside Academy"]
    assert school_names(soup(client.get("/schools/?q=cv22"))) == [
        "Bilton Grange Primary Academy",
        "Dunchurch Hall Primary School",
        "Rugby Vale Academy",
    ]


def test_search_keeps_what_was_typed_and_says_when_nothing_matches(client_for) -> None:
    page = soup(client_for("la_admin").get("/schools/?q=zz%25top"))
    assert page.select_one("#q")["value"] == "zz%top"
    assert "No schools match your search for “zz%top”." in page.select_one("#results").get_text()


def test_percent_and_underscore_are_text_not_wildcards(client_for) -> None:
    client = client_for("la_admin")
    assert school_names(soup(client.get("/schools/?q=%25"))) == []
    assert school_names(soup(client.get("/schools/?q=_"))) == []


def test_a_school_user_finds_only_their_own_school(client_for) -> None:
    client = client_for("school_staff")
    assert school_names(soup(client.get("/schools/"))) == ["Oakfield Primary School"]
    assert school_names(soup(client.get("/schools/?q=riverside"))) == []


def test_a_caf_officer_sees_the_schools_of_their_area(client_for) -> None:
    page = soup(client_for("caf_officer").get("/schools/"))
    areas = {row.select("td")[-1].get_text(strip=True) for row in page.select("#results tbody tr")}
    assert areas == {"North"}
    assert len(school_names(page)) == 8


def test_the_list_is_paged_with_the_search_kept(client_for) -> None:
    client = client_for("la_admin")
    first = soup(client.get("/schools/"))
    assert "Showing 1 to 25 of 43 schools" in first.select_one("#results").get_text()
    next_link = first.select_one(".govuk-pagination__next a")["href"]
    assert next_link == "/schools/?page=2"
    second = soup(client.get(next_link))
    assert "Showing 26 to 43 of 43 schools" in second.select_one("#results").get_text()
    assert set(school_names(first)).isdisjoint(school_names(second))
    # Out-of-range pages show the nearest real page rather than an empty one or an error.
    assert "Showing 26 to 43" in soup(client.get("/schools/?page=99")).get_text()
    assert "Showing 1 to 25" in soup(client.get("/schools/?page=-3")).get_text()
    searched = soup(client.get("/schools/?q=cv"))
    href = searched.select_one(".govuk-pagination__next a")["href"]
    assert href == "/schools/?page=2&q=cv"


def test_htmx_gets_only_the_results_block_of_the_same_template(client_for) -> None:
    client = client_for("la_admin")
    full = client.get("/schools/?q=oak")
    fragment = client.get("/schools/?q=oak", headers={"HX-Request": "true"})
    fragment_html = fragment.get_data(as_text=True)
    assert "<html" not in fragment_html
    assert "<header" not in fragment_html
    # The fragment is exactly what the full page holds inside its live region, which htmx
    # swaps (innerHTML) so that screen readers hear the new count.
    in_page = soup(full).select_one("#results").decode_contents()
    assert " ".join(in_page.split()) == " ".join(soup(fragment).decode().split())
    assert "Showing 1 to 2 of 2 schools" in fragment_html
    # A boosted navigation wants a whole page.
    boosted = client.get("/schools/?q=oak", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)


def test_search_box_is_an_ordinary_form_that_htmx_enhances(client_for) -> None:
    page = soup(client_for("la_admin").get("/schools/"))
    form = page.select_one('form[role="search"]')
    assert form["method"] == "get"
    assert form["action"] == "/schools/"
    assert form.select_one("button").get_text(strip=True) == "Search"
    box = form.select_one("#q")
    assert box["name"] == "q"
    assert box["hx-get"] == "/schools/"
    assert box["hx-target"] == "#results"
    assert box["hx-push-url"] == "true"
    assert "delay:" in box["hx-trigger"]


@pytest.fixture
def admin(client_for):
    return client_for("la_admin")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=150), page=st.text(max_size=8))
def test_any_search_input_gets_a_page_never_an_error(admin, query: str, page: str) -> None:
    response = admin.get("/schools/", query_string={"q": query, "page": page})
    if "\x00" in query + page:
        # Refused whole, with a page that says so (PostgreSQL cannot store NUL).
        assert response.status_code == 400
        assert "there is a problem with your request" in response.get_data(as_text=True)
        return
    assert response.status_code == 200
    results = soup(response).select_one("#results")
    assert results is not None
    assert "schools" in results.get_text()


def test_an_htmx_search_with_several_pages_gets_its_pagination(client_for) -> None:
    fragment = client_for("la_admin").get("/schools/?q=cv", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert soup(fragment).select_one(".govuk-pagination__next a")["href"] == "/schools/?page=2&q=cv"
