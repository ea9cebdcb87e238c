"""What every template can use: the council's name, the navigation, dates in London time."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request

from portal.access import Capability, principal
from portal.clock import LONDON, london_time, long_date  # noqa: F401 (LONDON: importers not yet moved to portal.clock)
from portal.components import (
    govuk_component,
    govuk_input,
    pagination_html,
    summary_list_html,
)
from portal.links import link_for_each
from portal.navigation import address, service_navigation
from portal.pagination import Page, pagination_params
from portal.phones import national
from portal.services.pricing import format_pence, plural


def pagination(page: Page[Any], endpoint: str, **args: Any) -> dict[str, Any]:
    """GOV.UK pagination for ``page``, each link to ``endpoint`` keeping ``args`` (the filters)."""
    kept = {name: value for name, value in args.items() if value not in (None, "")}
    # One URL built, the page's number put into it for each link: building a URL is a
    # page's costliest call, and a page of a list has four or five links to others.
    return pagination_params(page, link_for_each(endpoint, "page", **kept))


def _context() -> dict[str, Any]:
    who = principal()
    return {
        "council_name": current_app.config["COUNCIL_NAME"],
        "service_name": current_app.config["SERVICE_NAME"],
        "council_contact_email": current_app.config["COUNCIL_CONTACT_EMAIL"],
        "front_door_phone": current_app.config["CHILDRENS_SERVICES_FRONT_DOOR_PHONE"],
        "principal": who,
        # GOV.UK's page template reads `cspNonce` for its one inline script.
        "cspNonce": getattr(request, "csp_nonce", None),
    }


def init_app(app: Flask) -> None:
    app.context_processor(_context)
    app.add_template_filter(london_time, "london_time")
    app.add_template_filter(long_date, "long_date")
    app.add_template_global(pagination, "pagination")
    app.add_template_global(link_for_each, "link_for_each")
    app.add_template_global(Capability, "Capability")
    app.add_template_global(govuk_component, "govuk_component")
    app.add_template_global(summary_list_html, "summary_list_html")
    app.add_template_global(govuk_input, "govuk_input")
    app.add_template_global(pagination_html, "pagination_html")
    # Called by the layout where it draws the menu: an htmx fragment, which has none, never
    # works it out.
    app.add_template_global(service_navigation, "service_navigation")
    app.add_template_global(address, "section_address")
    app.add_template_filter(national, "phone")
    app.add_template_filter(format_pence, "pounds")
    app.add_template_filter(plural, "plural")
