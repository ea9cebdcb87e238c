"""The portal's sections, and which of them a person is shown.

A section appears in the navigation and on the home page only when its blueprint is
installed and the person's role may use it, so the menu never offers a door that is locked.

The menu names each section in a word or two (its ``label``), as GOV.UK's service navigation
asks: a council administrator's seven sections in it and "Sign out" then sit on one line of the
header on a laptop's screen (tests/app/test_browser.py measures it at 1280 px). The home
page, with room to spare, gives each its full ``title`` and a summary.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from markupsafe import Markup

from portal.access import Capability, Principal
from portal.components import MOST_HELD, NAVIGATION_END, govuk_component, with_navigation_end
from portal.versions import Cache


@dataclass(frozen=True)
class Section:
    endpoint: str
    title: str
    summary: str
    capability: Capability
    # The menu's name for it, where the title is too long for one line of the header.
    short_label: str = ""
    # Left out of the header's menu for those with this capability, whose own section leads
    # to it (the home page still lists it): a council administrator reaches Users from
    # Administration, which keeps their menu on one line of the header.
    not_in_menu_with: Capability | None = None

    @property
    def label(self) -> str:
        return self.short_label or self.title

    @property
    def blueprint(self) -> str:
        return self.endpoint.split(".", 1)[0]


SECTIONS: tuple[Section, ...] = (
    Section(
        "contacts.index",
        "Local contacts",
        "Your area's CAF officer, early help, family support and other contacts.",
        Capability.VIEW_CONTACTS,
        short_label="Contacts",
    ),
    Section(
        "support.index",
        "CAF officer support",
        "Ask for support with an early help assessment and follow its progress.",
        Capability.VIEW_SUPPORT_REQUESTS,
        short_label="CAF support",
    ),
    Section(
        "services.index",
        "Services for schools",
        "The council's free and traded services, and what each would cost.",
        Capability.VIEW_SERVICES,
        short_label="Services",
    ),
    Section(
        "buyback.index",
        "Buy-back",
        "Choose the traded services to buy for next year.",
        Capability.VIEW_BUYBACK,
    ),
    Section(
        "training.index",
        "Training",
        "Find courses for your staff, book places and follow your bookings.",
        Capability.VIEW_TRAINING,
    ),
    Section(
        "schools.index",
        "Schools",
        "The schools you work with: type, phase, pupils on roll, area and trust.",
        Capability.VIEW_SCHOOLS,
    ),
    Section(
        "accounts.users",
        "Users",
        "Invite people to the portal, and deactivate accounts.",
        Capability.MANAGE_USERS,
        not_in_menu_with=Capability.ADMINISTER,
    ),
    Section(
        "admin.index",
        "Administration",
        "Schools, areas, users, buy-back windows and the audit log.",
        Capability.ADMINISTER,
    ),
)


HOME = "main.home"


def _addresses() -> dict[str, str]:
    """The address of home and of each installed section, by endpoint.

    Worked out once for the application (and the path it is served under), not on every
    page: they are the same for everyone, and cannot go out of date, since Flask takes no
    new routes once an application has served a request.
    """
    known: dict[str, dict[str, str]] = current_app.extensions.setdefault("portal.navigation", {})
    found = known.get(request.script_root)
    if found is None:
        installed = current_app.view_functions
        endpoints = [HOME, *(s.endpoint for s in SECTIONS if s.endpoint in installed)]
        found = known[request.script_root] = {e: url_for(e) for e in endpoints}
    return found


def address(endpoint: str) -> str:
    """The address of home or of an installed section."""
    return _addresses()[endpoint]


def sections_for(who: Principal) -> list[Section]:
    installed = _addresses()
    return [s for s in SECTIONS if s.endpoint in installed and who.can(s.capability)]


@dataclass(frozen=True)
class NavigationItem:
    """An item of the GOV.UK service navigation. An object with every attribute its macro
    reads, not a dict: Jinja looks for an attribute before a key, so each of a dict's keys
    is found only after a failed lookup, and each key it lacks after two."""

    href: str
    text: str
    active: bool = False
    current: bool = False
    html: None = None
    attributes: None = None


def navigation_items(who: Principal | None) -> list[NavigationItem]:
    """Items for the GOV.UK service navigation, the current section marked."""
    if who is None:
        return []
    addresses = _addresses()
    endpoint = request.endpoint
    current_blueprint = request.blueprint
    items = [NavigationItem(addresses[HOME], "Home", current=endpoint == HOME)]
    for section in sections_for(who):
        if section.not_in_menu_with is not None and who.can(section.not_in_menu_with):
            continue
        items.append(
            NavigationItem(
                addresses[section.endpoint],
                section.label,
                active=current_blueprint == section.blueprint,
                current=endpoint == section.endpoint,
            )
        )
    return items


def service_navigation(who: Principal | None, end: Markup | None) -> Markup:
    """The header's GOV.UK service navigation for ``who`` on this page, with ``end`` (the
    sign-out form) in its end slot.

    Drawn once for each set of capabilities and page, and kept with the application: the
    items are the sections those capabilities open (their names and addresses, the
    portal's own and fixed once it serves) with the page's own marked, so two people whose
    roles give the same capabilities are shown the same navigation on the same page, and
    nothing else goes into it. The end holds the session's CSRF token, never kept: each
    copy has it put where the kept drawing holds a stand-in. Working out the items and
    looking the drawing up by them was a tenth of what the signed-in layout costs beyond
    the bare one."""
    key = (
        who.capabilities if who is not None else None,
        request.endpoint,
        request.blueprint,
        request.script_root,
    )
    held: Cache = current_app.extensions.setdefault("portal.service_navigation", Cache(MOST_HELD))
    drawn: Markup = held.once(
        key,
        lambda: govuk_component(
            "service-navigation",
            {
                "serviceName": current_app.config["SERVICE_NAME"],
                "serviceUrl": address(HOME),
                "navigation": navigation_items(who),
                "navigationLabel": "Sections of the portal",
                "slots": {"navigationEnd": NAVIGATION_END} if who is not None else {},
            },
        ),
    )
    if who is None or end is None:
        return drawn
    return with_navigation_end(drawn, end)
