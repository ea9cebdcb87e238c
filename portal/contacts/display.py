"""How a contact is shown: the rows of its GOV.UK summary card, links escaped and built once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from flask import current_app, request, url_for
from jinja2_fragments.flask import render_block
from markupsafe import Markup, escape

from portal.access import Capability, can
from portal.clock import london_time
from portal.components import summary_rows_html
from portal.contacts import bp
from portal.contacts.cards import AreaName, ContactCard
from portal.contacts.directory import COUNTYWIDE, Browse, ContactSearch
from portal.contacts.key_contacts import ContactGroupView
from portal.models import Contact, ContactRole
from portal.phones import national


@bp.app_template_global()
def contact_rows(
    contact: Contact | ContactCard, with_coverage: bool = True, with_checked: bool = True
) -> list[dict[str, Any]]:
    phone = Markup('<a class="govuk-link" href="tel:{}">{}</a>').format(
        contact.phone, national(contact.phone)
    )
    email = Markup('<a class="govuk-link council-break-word" href="mailto:{0}">{0}</a>').format(
        contact.email
    )
    rows: list[dict[str, Any]] = [
        {"key": {"text": "Telephone"}, "value": {"html": phone}},
        {"key": {"text": "E-mail"}, "value": {"html": email}},
        {"key": {"text": "Contact them about"}, "value": {"text": contact.help_with}},
    ]
    if contact.out_of_hours:
        rows.append({"key": {"text": "Out of hours"}, "value": {"text": contact.out_of_hours}})
    if with_coverage:
        rows.append({"key": {"text": "Serves"}, "value": {"text": contact.coverage}})
    if with_checked:
        # How fresh the details are: the council checks each contact at least yearly.
        rows.append(
            {
                "key": {"text": "Last checked"},
                "value": {"text": london_time(contact.last_checked_at, "%-d %B %Y")},
            }
        )
    return rows


@bp.app_template_global()
def contact_title(contact: Contact | ContactCard, link: str | None) -> Markup:
    name = (
        Markup('<a class="govuk-link" href="{}">{}</a>').format(link, contact.name)
        if link
        else escape(contact.name)
    )
    title = Markup("{}: {}").format(contact.role.label, name)
    if contact.is_retired:
        title += Markup(' <strong class="govuk-tag govuk-tag--grey">Retired</strong>')
    if contact.job_title:
        title += Markup(' <span class="council-job-title">{}</span>').format(contact.job_title)
    return title


_CARD = Markup(
    '<div class="govuk-summary-card">'
    '<div class="govuk-summary-card__title-wrapper">'
    '<h{level} class="govuk-summary-card__title">{title}</h{level}>'
    "</div>"
    '<div class="govuk-summary-card__content"><dl class="govuk-summary-list">{rows}</dl></div>'
    "</div>"
)


@bp.app_template_global()
def contact_card_html(
    contact: Contact, heading_level: int = 3, with_coverage: bool = True
) -> Markup:
    """The contact's GOV.UK summary card: the markup govukSummaryList makes for it, written
    out here because a school's page shows dozens and the macro costs a millisecond a card.
    tests/contacts/test_contacts.py checks the two stay the same."""
    return contact_cards([ContactCard.of(contact)], heading_level, with_coverage)


@bp.app_template_global()
def contact_cards(
    cards: Iterable[ContactCard], heading_level: int = 3, with_coverage: bool = True
) -> Markup:
    """The cards of ``cards``, one after another."""
    script_root = request.script_root
    level = int(heading_level)
    return Markup("").join(_card(card, level, with_coverage, script_root) for card in cards)


# Keyed on what the card shows, not on the contact's id: an edited contact is a new key, so a
# card can never be stale (nothing on it is drawn from anything else: its date is a date, not
# "3 days ago"). It holds a council contact's work details, the same for everyone shown the
# card, and decides nothing: who may see which contact is decided before a card is asked
# for. Every school's page draws the same few hundred cards. (The link depends on where the
# portal is mounted as well as the id: the mount is in the key too.)
@lru_cache(maxsize=8192)
def _card(card: ContactCard, heading_level: int, with_coverage: bool, script_root: str) -> Markup:
    rows = summary_rows_html(contact_rows(card, with_coverage))
    title = contact_title(card, url_for("contacts.show", contact_id=card.id))
    return _CARD.format(level=heading_level, title=title, rows=rows)


_GROUP_HEADING = Markup('<h3 class="govuk-heading-m">{}</h3>')
_SEE_ALL = Markup('<li><a class="govuk-link" href="{}">See all {} {} contacts</a></li>')

# What contact_groups_html drew, keyed on the groups' identity (with the one area the
# "see all" links name, and the portal's mount): the groups are key_contacts' answer, kept
# once per version of the directory (key_contacts.py) and never changed once made, so the same
# object always shows the same; a new version is a new object. Each entry holds its groups,
# so an id is never reused while its entry stands. Nothing personal: the groups are the
# same for every school of the same areas.
_DRAWN_AT_MOST = 256
_rendered_groups: dict[tuple[int, int | None, str], tuple[list[ContactGroupView], Markup]] = {}


@bp.app_template_global()
def contact_groups_html(groups: list[ContactGroupView], single_area_id: int | None) -> Markup:
    """A school's contacts as its page shows them: each group's heading, its cards, and a
    link to all of each role that has more than are shown (to the countywide ones, or to
    ``single_area_id``'s, the person's one area, if any). Drawn once for each answer of
    key_contacts (above): a school's page shows fifty cards and ten links."""
    key = (id(groups), single_area_id, request.script_root)
    kept = _rendered_groups.get(key)
    if kept is not None and kept[0] is groups:
        return kept[1]
    parts = []
    for view in groups:
        parts.append(_GROUP_HEADING.format(view.group.value))
        parts.append(contact_cards(view.contacts, heading_level=4))
        if view.more:
            links = Markup("").join(
                _SEE_ALL.format(
                    url_for(
                        "contacts.index",
                        role=role.value,
                        area=COUNTYWIDE if countywide else single_area_id,
                    ),
                    total,
                    role.label,
                )
                for role, (total, countywide) in view.more.items()
            )
            parts.append(Markup('<ul class="govuk-list">{}</ul>').format(links))
    html = Markup("").join(parts)
    if len(_rendered_groups) >= _DRAWN_AT_MOST:
        _rendered_groups.clear()
    _rendered_groups[key] = (groups, html)
    return html


# The directory's head as directory_head drew it, for each key below.
_HEADS_AT_MOST = 256
_heads: dict[tuple[Any, ...], Markup] = {}


def directory_head(areas: Sequence[AreaName], **context: Any) -> Markup:
    """The head of the contacts page before anyone searches (the safeguarding box, the
    actions, the search form with its filters), drawn by the page's template (its block
    directory_head, with the page's ``context``) once for each key: the areas the filter
    offers, what the person may do that the head links to, the phone number in the box and
    the portal's mount. That is everything it shows: nothing searched for (a search's head
    holds what was typed, and is drawn afresh), nothing personal, the same for everyone of
    the same key; the areas are read once per version of the directory, so a renamed area
    is a new key (tests/contacts/test_contacts.py)."""
    key = (
        tuple(areas),
        can(Capability.EXPORT_CONTACTS),
        can(Capability.EDIT_CONTACTS),
        current_app.config["CHILDRENS_SERVICES_FRONT_DOOR_PHONE"],
        request.script_root,
    )
    html = _heads.get(key)
    if html is None:
        drawn = render_block("contacts/index.html", "directory_head", **context)
        # Markup already: the autoescaping template's own output.
        html = Markup(drawn)  # noqa: S704
        if len(_heads) >= _HEADS_AT_MOST:
            _heads.clear()
        _heads[key] = html
    return html


def filter_items(criteria: ContactSearch, areas: Sequence[AreaName]) -> dict[str, Any]:
    """The search form's choices of role and of area, as its selects take them."""
    return {
        "role_items": [{"value": "", "text": "Any role"}]
        + [
            {"value": role.value, "text": role.label, "selected": role == criteria.role}
            for role in ContactRole
        ],
        "area_items": [
            {"value": "", "text": "Any area"},
            {"value": COUNTYWIDE, "text": "Countywide", "selected": criteria.area == COUNTYWIDE},
        ]
        + [
            {"value": str(area.id), "text": area.name, "selected": area.id == criteria.area}
            for area in areas
        ],
    }


def directory_context(found: Browse) -> dict[str, Any]:
    """What the contacts page (templates/contacts/index.html) is drawn with, from what
    directory.browse found."""
    context: dict[str, Any] = {"criteria": found.criteria, "show_mine": found.show_mine}
    if not found.show_mine:
        context["page"] = found.page
    if found.areas is not None:
        context["my_areas"] = found.my_areas
        context.update(filter_items(found.criteria, found.areas))
        if not found.criteria.is_active:
            context["directory_head"] = directory_head(found.areas, **context)
    if found.show_mine:
        context["groups"] = found.groups
        context["my_schools"] = found.my_schools
    return context
