"""Times are stored in UTC and shown as people in England read them; what every page's
template puts around its content."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from bs4 import BeautifulSoup

from portal.clock import london_time, long_date


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        # Winter: London is on GMT, the same as UTC.
        (datetime(2027, 3, 2, 9, 5, tzinfo=UTC), "2 March 2027 at 9:05am"),
        # Summer: British Summer Time, an hour ahead of UTC.
        (datetime(2027, 6, 30, 23, 30, tzinfo=UTC), "1 July 2027 at 12:30am"),
        # The clocks went forward at 01:00 UTC on 28 March 2027.
        (datetime(2027, 3, 28, 0, 59, tzinfo=UTC), "28 March 2027 at 12:59am"),
        (datetime(2027, 3, 28, 1, 0, tzinfo=UTC), "28 March 2027 at 2:00am"),
        (datetime(2026, 11, 22, 14, 0, tzinfo=UTC), "22 November 2026 at 2:00pm"),
    ],
)
def test_stored_utc_is_shown_in_london_time(stored: datetime, shown: str) -> None:
    assert london_time(stored) == shown


def test_nothing_to_show_shows_nothing() -> None:
    assert london_time(None) == ""
    assert long_date(None) == ""
    assert long_date(date(2027, 4, 1)) == "1 April 2027"


# --- the back link, in a landmark ------------------------------------------------------------


def test_the_back_link_sits_in_a_landmark_of_its_own_before_main(client) -> None:
    """Before <main> as GOV.UK places it (the skip link skips it), but inside a labelled
    navigation landmark: content outside every landmark is missed by people who move around
    a page by its landmarks (axe's region rule)."""
    page = BeautifulSoup(client.get("/account/forgot").get_data(as_text=True), "html.parser")
    [back] = page.select(".govuk-back-link")
    landmark = back.parent
    assert landmark.name == "nav"
    assert landmark["aria-label"] == "Back"
    assert landmark.find_parent("main") is None
    assert landmark.find_next("main") is not None


def test_a_page_without_a_back_link_has_no_empty_landmark(client) -> None:
    page = BeautifulSoup(client.get("/sign-in").get_data(as_text=True), "html.parser")
    assert page.select(".govuk-back-link") == []
    assert page.select('nav[aria-label="Back"]') == []


# --- GOV.UK components drawn once per set of parameters ----------------------------------------


def test_a_kept_component_is_what_its_macro_draws_for_exactly_those_parameters(app) -> None:
    """portal/components.py keeps what a macro drew, keyed on its parameters: each set of
    parameters must give what the macro itself gives for them, however many were drawn
    before, with text and markup that read the same kept apart."""
    from markupsafe import Markup

    from portal.components import govuk_component

    macro = app.jinja_env.from_string(
        '{% from "govuk_frontend_jinja/components/select/macro.html" import govukSelect %}'
        "{{ govukSelect(params) }}"
    )

    def select(chosen: str, text: str) -> dict[str, object]:
        return {
            "id": "area",
            "name": "area",
            "label": {"text": "Area"},
            "items": [
                {"value": "1", "text": text, "selected": chosen == "1"},
                {"value": "2", "text": "Rugby", "selected": chosen == "2"},
            ],
        }

    variants = [
        select("1", "North"),
        select("2", "North"),
        select("2", "North Warwickshire"),
        select("1", "<b>North</b>"),
        select("1", Markup("<b>North</b>")),
    ]
    with app.test_request_context():
        for _ in range(2):  # drawn, then kept
            drawn = [govuk_component("select", params) for params in variants]
            assert drawn == [macro.render(params=params) for params in variants]
    assert len(set(drawn)) == len(variants)
    assert "&lt;b&gt;North" in drawn[3] and "<b>North</b>" in drawn[4]


def test_a_written_out_summary_list_is_what_govuk_summary_list_draws(app) -> None:
    """Summary lists of plain rows are written out rather than drawn by the macro: they must
    stay what govukSummaryList makes, text escaped, markup kept, empty rows left out."""
    from markupsafe import Markup

    from portal.components import summary_list_html
    from tests.contacts.test_contacts import squeeze

    macro = app.jinja_env.from_string(
        '{% from "govuk_frontend_jinja/components/summary-list/macro.html" import '
        "govukSummaryList %}{{ govukSummaryList({'rows': rows}) }}"
    )
    rows = [
        {"key": {"text": "Support needed"}, "value": {"text": "Advice & <guidance>"}},
        None,
        {"key": {"text": "Anything else"}, "value": {"text": "Two lines,\nas typed  "}},
        {"key": {"text": "Telephone"}, "value": {"html": Markup('<a href="tel:1">1</a>')}},
        {},
        {"key": {"html": Markup("<b>Key</b>")}, "value": {"text": 'Mr O\'Brien "Ob"'}},
    ]
    assert squeeze(str(summary_list_html(rows))) == squeeze(macro.render(rows=rows))
    with_classes = app.jinja_env.from_string(
        '{% from "govuk_frontend_jinja/components/summary-list/macro.html" import '
        "govukSummaryList %}{{ govukSummaryList({'rows': rows, 'classes': classes}) }}"
    )
    classes = "govuk-summary-list--no-border <x>"
    assert squeeze(str(summary_list_html(rows, classes))) == squeeze(
        with_classes.render(rows=rows, classes=classes)
    )
    with pytest.raises(ValueError, match="only a key and a value"):
        summary_list_html([{"key": {"text": "k"}, "value": {"text": "v"}, "actions": {}}])


def test_form_fields_are_drawn_as_govuk_draws_them_and_typing_is_never_kept(app) -> None:
    """The officer's update form draws its fields through portal/components.py: each must be
    what govuk_frontend_wtf's own widget draws, and what someone typed (a note, a date) must be
    drawn afresh, never kept."""
    from govuk_frontend_wtf.wtforms_widgets import (
        GovDateInput,
        GovRadioInput,
        GovSubmitInput,
        GovTextArea,
    )
    from werkzeug.datastructures import MultiDict

    from portal import components
    from portal.models import SupportStatus
    from portal.support.officer_forms import UpdateForm
    from tests.contacts.test_contacts import squeeze

    upstream = {
        "action": GovRadioInput(),
        "meeting_on": GovDateInput(),
        "note": GovTextArea(),
        "shared": GovRadioInput(),
        "submit": GovSubmitInput(),
    }
    typed = MultiDict(
        {
            "action": "in_progress",
            "meeting_on": ["27", "3", "2027"],
            "note": "Spoke to Mum: private words",
            "shared": "council",
        }
    )
    drawn: dict[str, str] = {}
    with app.test_request_context():
        for formdata in (None, typed):
            form = UpdateForm(
                formdata=formdata, status=SupportStatus.ACKNOWLEDGED, meta={"csrf": False}
            )
            for name, widget in upstream.items():
                field = form[name]
                drawn[name] = str(field())
                assert squeeze(drawn[name]) == squeeze(str(widget(field))), name
        # What is kept of this form's fields (other pages' fields, kept by earlier tests,
        # may hold a "27" of their own, such as a service's id in a list of options).
        kept = "".join(
            str(html)
            for html in components._rendered.values()
            if any(f'name="{name}' in str(html) for name in upstream)
        )
    assert "private words" in drawn["note"] and 'value="27"' in drawn["meeting_on"]
    assert 'name="note"' in kept  # the empty note's box was kept...
    assert "private words" not in kept and 'value="27"' not in kept  # ...never what was typed


@pytest.mark.parametrize(
    ("number", "pages"), [(1, 2), (2, 2), (1, 3), (2, 3), (5, 12), (12, 12), (1, 40)]
)
def test_written_out_pagination_is_what_govuk_pagination_draws(
    app, number: int, pages: int
) -> None:
    """Pagination is written out (its links hold what someone searched for, so its drawing
    is never kept): it must stay what govukPagination makes of the same parameters."""
    from portal.components import pagination_html
    from portal.pagination import Page, pagination_params
    from tests.contacts.test_contacts import squeeze

    macro = app.jinja_env.from_string(
        '{% from "govuk_frontend_jinja/components/pagination/macro.html" import '
        "govukPagination %}{{ govukPagination(params) }}"
    )
    page = Page(items=[], number=number, per_page=10, total=pages * 10)
    params = pagination_params(page, lambda n: f"/contacts/?q=caf+%26+%3Cb%3E&page={n}")
    assert squeeze(str(pagination_html(params))) == squeeze(macro.render(params=params))


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"q": "caf & <b>", "role": None, "area": ""},
        {"school": "987654321987", "status": "open"},
        {"q": "page=987654321987", "kind": ["a", "b"]},
        {"q": "ünïcode 50% _x_", "sort": "newest"},
    ],
)
def test_pagination_links_are_what_url_for_builds(app, filters: dict[str, object]) -> None:
    """pagination() builds one link with a stand-in page number and puts each page's number
    in its place: each link must be what url_for builds for that page, whatever was typed
    in the filters (the stand-in's own digits included)."""
    from flask import url_for

    from portal.pagination import Page
    from portal.templating import pagination

    kept = {name: value for name, value in filters.items() if value not in (None, "")}
    with app.test_request_context("/"):
        for endpoint in ("support.index", "contacts.index", "services.index"):
            page = Page(items=[], number=6, per_page=10, total=120)
            params = pagination(page, endpoint, **filters)
            links = [params["previous"]["href"], params["next"]["href"]] + [
                item["href"] for item in params["items"] if "href" in item
            ]
            numbers = [5, 7] + [item["number"] for item in params["items"] if "href" in item]
            assert links == [url_for(endpoint, page=n, **kept) for n in numbers]


@pytest.mark.parametrize("value", [None, "", "caf", "<script>\"&'</script>", 125613])
def test_an_input_drawn_once_has_each_value_as_govuk_input_would(app, value: object) -> None:
    """govuk_input keeps its drawing with a stand-in for the value (what someone typed): each
    copy must be what govukInput draws with the value itself, and the value never kept."""
    from markupsafe import escape

    from portal import components
    from portal.components import govuk_input

    macro = app.jinja_env.from_string(
        '{% from "govuk_frontend_jinja/components/input/macro.html" import govukInput %}'
        "{{ govukInput(params) }}"
    )
    params = {
        "id": "q",
        "name": "q",
        "type": "search",
        "label": {"text": "Name or URN", "classes": "govuk-label--s"},
        "hint": {"text": "A hint"},
        "spellcheck": False,
        "value": value,
        "attributes": {"maxlength": "100", "aria-controls": "results"},
    }
    with app.test_request_context():
        for _ in range(2):
            assert str(govuk_input(params)) == macro.render(params=params)
        kept = "".join(str(html) for html in components._rendered.values())
    if value:
        assert f'value="{escape(value)}"' not in kept


def test_a_link_for_each_id_is_the_url_for_it(app) -> None:
    from flask import url_for

    from portal.templating import link_for_each

    with app.test_request_context():
        link = link_for_each("services.show", "service_id", year=2027, school=5)
        for service_id in (1, 9, 98, 987_654, 2027):
            assert link(service_id) == url_for(
                "services.show", service_id=service_id, year=2027, school=5
            )
        assert link_for_each("contacts.show", "contact_id")(7) == url_for(
            "contacts.show", contact_id=7
        )


def test_a_global_changed_after_a_template_is_loaded_is_what_the_template_sees(app) -> None:
    """Templates' globals are plain dicts copied when a template loads (portal/jinja.py): a
    global added or changed later must still reach every template and the macros it
    imports, as Jinja's own ChainMap made sure."""
    from jinja2 import DictLoader

    from portal.jinja import PortalEnvironment

    environment = PortalEnvironment(
        app,
        loader=DictLoader(
            {
                "page.html": '{% from "m.html" import shown %}{{ shown() }}/{{ late }}',
                "m.html": "{% macro shown() %}{{ late }}{% endmacro %}",
            }
        ),
    )
    environment.globals["late"] = "one"
    assert environment.get_template("page.html").render() == "one/one"
    environment.globals["late"] = "two"
    assert environment.get_template("page.html").render() == "two/two"
    environment.globals.update(late="three")
    assert environment.get_template("page.html").render() == "three/three"
    del environment.globals["late"]
    assert environment.get_template("page.html").render() == "/"
    assert type(app.jinja_env) is PortalEnvironment


@pytest.mark.parametrize("token", ["IjQ1ZTc.token-one", "IjQ1ZTc.token-two"])
def test_the_service_navigation_drawn_once_has_each_sessions_sign_out_form(app, token: str) -> None:
    """govuk_service_navigation keeps the navigation with a stand-in for its end (the
    sign-out form and its CSRF token, the session's own): each copy must be what
    govukServiceNavigation draws with that session's form, and no token is ever kept."""
    from markupsafe import Markup

    from portal import components
    from portal.components import govuk_service_navigation
    from portal.navigation import NavigationItem

    macro = app.jinja_env.from_string(
        '{% from "govuk_frontend_jinja/components/service-navigation/macro.html" import '
        "govukServiceNavigation %}{{ govukServiceNavigation(params) }}"
    )
    sign_out = Markup(
        '<li class="govuk-service-navigation__item"><form method="post" action="/sign-out">'
        '<input type="hidden" name="csrf_token" value="{}"><button>Sign out</button></form></li>'
    ).format(token)
    items = [
        NavigationItem("/", "Home"),
        NavigationItem("/contacts/", "Contacts", active=True, current=True),
        NavigationItem("/services/", "Services"),
    ]
    for params in (
        {
            "serviceName": "Schools portal",
            "serviceUrl": "/",
            "navigation": items,
            "navigationLabel": "Sections of the portal",
            "slots": {"navigationEnd": sign_out},
        },
        {"serviceName": "Schools portal", "serviceUrl": "/", "navigation": [], "slots": {}},
    ):
        with app.test_request_context():
            for _ in range(2):
                assert str(govuk_service_navigation(params)) == macro.render(params=params)
    kept = "".join(str(html) for html in components._rendered.values())
    assert token not in kept


def test_the_service_navigation_kept_for_a_role_and_page_is_what_the_macro_draws(app) -> None:
    """service_navigation keeps each role's navigation on each page: every copy must be what
    govukServiceNavigation draws with that person's sections (their capabilities) and the
    page's own marked, with this session's sign-out form at its end; someone of another
    role, or on another page, is never given it."""
    from dataclasses import replace

    from markupsafe import Markup

    from portal.access import POLICY, Principal, Role
    from portal.components import govuk_service_navigation
    from portal.navigation import HOME, address, navigation_items, service_navigation

    someone = Principal(
        person=None,  # the navigation reads only capabilities
        roles=frozenset(),
        capabilities=frozenset(),
        council_wide=False,
        school_ids=frozenset(),
        trust_ids=frozenset(),
        area_ids=frozenset(),
    )
    end = Markup('<li class="govuk-service-navigation__item"><form>{}</form></li>')
    seen = set()
    for path in ("/", "/contacts/", "/services/", "/support/", "/buy-back/", "/nowhere"):
        for role in (None, *Role):
            who = None if role is None else replace(someone, capabilities=POLICY[role])
            token = f"token-{path}-{role}"
            with app.test_request_context(path):
                expected = govuk_service_navigation(
                    {
                        "serviceName": app.config["SERVICE_NAME"],
                        "serviceUrl": address(HOME),
                        "navigation": navigation_items(who),
                        "navigationLabel": "Sections of the portal",
                        "slots": {"navigationEnd": end.format(token)} if who else {},
                    }
                )
                for _ in range(2):  # drawn, then kept
                    drawn = service_navigation(who, end.format(token))
                    assert drawn == expected, (path, role)
                seen.add(str(drawn).replace(token, ""))
    # Some roles and pages differ: the check above compared different drawings.
    assert len(seen) > 10
    kept = "".join(map(str, app.extensions["portal.service_navigation"].values()))
    assert "token-" not in kept
