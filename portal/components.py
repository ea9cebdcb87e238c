"""GOV.UK components drawn once for each set of parameters they are given.

A GOV.UK macro is a pure function of its parameters, and a costly one: a select of a dozen
options is about half a millisecond, a few times the cost of the bare layout's whole page.
The filters of the contacts directory and the support queue are the same few selects for
everyone, so each is drawn once per distinct set of parameters (its options, which one is
chosen) and kept. The parameters are the key, whole: a changed option (an area renamed) is a
new key, so a kept component can never be stale; and two people are given the same markup
only when they asked for exactly the same thing.

Only for parameters that are the page's own words and the database's shared facts: never
what someone typed (a search's words, a note), which would keep people's input in memory.
"""

from __future__ import annotations

import pickle
from typing import Any, ClassVar

from flask import current_app
from markupsafe import Markup, escape

# How many distinct sets of parameters are held at most; far more than the portal's filters have.
MOST_HELD = 2048

_rendered: dict[tuple[str, bytes], Markup] = {}


def _key(params: dict[str, Any]) -> bytes:
    """``params`` as a key, exact: pickled, so types count as well as contents (1 and True,
    or text and Markup, draw differently but compare equal). Never unpickled."""
    return pickle.dumps(params, pickle.HIGHEST_PROTOCOL)


def govuk_component(name: str, params: dict[str, Any]) -> Markup:
    """What the GOV.UK macro for component ``name`` ('select', 'button') draws with
    ``params``: drawn the first time, kept after."""
    key = (name, _key(params))
    html = _rendered.get(key)
    if html is None:
        # A macro of the portal's autoescaping environment gives Markup.
        html = _macro(name)(params)
        if len(_rendered) >= MOST_HELD:
            # Only if something draws far more variants than the filters have: start again.
            _rendered.clear()
        _rendered[key] = html
    return html


# A GOV.UK summary list's row as govukSummaryList draws it (but for the whitespace between
# tags, which browsers ignore): a key and a value, no actions, no classes.
_ROW_PARTS = {"key", "value"}


def summary_rows_html(rows: list[dict[str, Any]]) -> Markup:
    """The rows of a GOV.UK summary list, written out rather than drawn by govukSummaryList
    (a millisecond for a dozen rows): each row's key and value as ``{"text": ...}`` or, already
    Markup, ``{"html": ...}``; rows that are None or empty are left out, as the macro leaves
    them. tests/app/test_templating.py keeps the two the same."""
    drawn = []
    for row in rows:
        if not row:
            continue
        if row.keys() - _ROW_PARTS:
            raise ValueError(f"a written-out summary row has only a key and a value: {row}")
        key, value = row["key"], row["value"]
        # escape() and a plain string, rather than Markup.format: the formatter is written in
        # Python and costs several times as much for the same markup.
        key_html = escape(key["html"] if "html" in key else key["text"])
        value_html = escape(value["html"] if "html" in value else value["text"])
        drawn.append(
            '<div class="govuk-summary-list__row">'
            f'<dt class="govuk-summary-list__key">{key_html}</dt>'
            f'<dd class="govuk-summary-list__value">{value_html}</dd>'
            "</div>"
        )
    # Safe: every value above is escaped (Markup given as html is kept as it is).
    return Markup("".join(drawn))  # noqa: S704


def summary_list_html(rows: list[dict[str, Any]], classes: str = "") -> Markup:
    """A GOV.UK summary list (no card) of ``rows``, as :func:`summary_rows_html` writes them,
    with ``classes`` added to the list's own (govukSummaryList's ``classes``)."""
    extra = f" {escape(classes)}" if classes else ""
    rows_html = summary_rows_html(rows)
    # Safe: the classes escaped, the rows written out by summary_rows_html.
    return Markup(f'<dl class="govuk-summary-list{extra}">{rows_html}</dl>')  # noqa: S704


# What someone typed, in a component drawn once for every value (govuk_input): a string no
# parameter holds and that escaping leaves as it is.
_TYPED = "portal-typed-value-4d1c7e"


def govuk_input(params: dict[str, Any]) -> Markup:
    """What govukInput draws for ``params``: drawn once for every value, since the value is
    what someone typed and is never kept. The macro writes the value in one place, escaped,
    as the value attribute (whatever it is, even empty): the kept drawing holds a stand-in
    there, and each request's copy has the value, escaped as the macro escapes it."""
    value = params.get("value")
    if value is None:
        return govuk_component("input", params)
    drawn = govuk_component("input", {**params, "value": _TYPED})
    return drawn.replace(_TYPED, escape(value))


# The service navigation's end (the sign-out form, with this session's CSRF token) in a
# navigation drawn once for every session: a comment no parameter holds.
NAVIGATION_END = Markup("<!-- portal-navigation-end-7b02e4 -->")


def govuk_service_navigation(params: dict[str, Any]) -> Markup:
    """What govukServiceNavigation draws for ``params``, kept as :func:`govuk_component`
    keeps a component. Its items are the same for everyone of a role on a page (each
    section's address and name, which is current); the end slot holds the sign-out form,
    whose CSRF token is the session's own and is never kept: the kept drawing holds a
    stand-in where the macro puts the slot as it is, and each request's copy has the form.

    The macro was a sixth of the signed-in layout's time (cProfile)."""
    slots = params.get("slots") or {}
    end = slots.get("navigationEnd")
    if end is None:
        return govuk_component("service-navigation", params)
    kept = {**params, "slots": {**slots, "navigationEnd": NAVIGATION_END}}
    return with_navigation_end(govuk_component("service-navigation", kept), end)


def with_navigation_end(drawn: Markup, end: Markup) -> Markup:
    """A service navigation ``drawn`` with the stand-in in its end slot, with ``end`` there."""
    if not isinstance(end, Markup):
        # The macro puts the slot in unescaped: only markup the portal made may go there.
        raise TypeError("the service navigation's end is markup, not text")
    return drawn.replace(NAVIGATION_END, end)


_PREVIOUS = Markup(
    '<div class="govuk-pagination__prev">'
    '<a class="govuk-link govuk-pagination__link" href="{}" rel="prev">'
    '<svg class="govuk-pagination__icon govuk-pagination__icon--prev" '
    'xmlns="http://www.w3.org/2000/svg" height="13" width="15" aria-hidden="true" '
    'focusable="false" viewBox="0 0 15 13">'
    '<path d="m6.5938-0.0078125-6.7266 6.7266 6.7441 6.4062 1.377-1.449-4.1856-3.9768h12.896v-2h'
    '-12.984l4.2931-4.293-1.414-1.414z"></path></svg>'
    '<span class="govuk-pagination__link-title">'
    'Previous<span class="govuk-visually-hidden"> page</span></span></a></div>'
)
_NEXT = Markup(
    '<div class="govuk-pagination__next">'
    '<a class="govuk-link govuk-pagination__link" href="{}" rel="next">'
    '<span class="govuk-pagination__link-title">'
    'Next<span class="govuk-visually-hidden"> page</span></span>'
    '<svg class="govuk-pagination__icon govuk-pagination__icon--next" '
    'xmlns="http://www.w3.org/2000/svg" height="13" width="15" aria-hidden="true" '
    'focusable="false" viewBox="0 0 15 13">'
    '<path d="m8.107-0.0078125-1.4136 1.414 4.2926 4.293h-12.986v2h12.896l-4.1855 3.9766 1.377 '
    '1.4492 6.7441-6.4062-6.7246-6.7266z"></path></svg></a></div>'
)
# The current page's class and attribute.
_CURRENT = (" govuk-pagination__item--current", ' aria-current="page"')
_ELLIPSIS = Markup(
    '<li class="govuk-pagination__item govuk-pagination__item--ellipsis">&ctdot;</li>'
)
_PAGINATION_PARTS = {"previous", "next", "items"}


# The same markup as plain text either side of the link (pagination_html).
_PREVIOUS_PARTS = str(_PREVIOUS).split("{}")
_NEXT_PARTS = str(_NEXT).split("{}")


def pagination_html(params: dict[str, Any]) -> Markup:
    """What govukPagination draws for ``params`` as pagination.pagination_params makes them
    (previous and next links, and numbered pages or ellipses), written out: the macro is
    about half a millisecond, and the links hold what someone searched for, so its drawing
    cannot be kept. tests/app/test_templating.py keeps the two the same."""
    if params.keys() - _PAGINATION_PARTS:
        raise ValueError(f"written-out pagination has previous, next and items only: {params}")
    # escape() and plain strings, rather than Markup.format (as summary_rows_html).
    parts = ['<nav class="govuk-pagination" aria-label="Pagination">']
    if params.get("previous"):
        before, after = _PREVIOUS_PARTS
        parts.append(f"{before}{escape(params['previous']['href'])}{after}")
    parts.append('<ul class="govuk-pagination__list">')
    for item in params["items"]:
        if item.get("ellipsis"):
            parts.append(_ELLIPSIS)
            continue
        current = bool(item.get("current"))
        number = escape(item["number"])
        href = escape(item["href"])
        marked, aria = _CURRENT if current else ("", "")
        parts.append(
            f'<li class="govuk-pagination__item{marked}">'
            f'<a class="govuk-link govuk-pagination__link" href="{href}" '
            f'aria-label="Page {number}"{aria}>{number}</a></li>'
        )
    parts.append("</ul>")
    if params.get("next"):
        before, after = _NEXT_PARTS
        parts.append(f"{before}{escape(params['next']['href'])}{after}")
    parts.append("</nav>")
    # Safe: every value above is escaped; the rest is GOV.UK's markup.
    return Markup("".join(parts))  # noqa: S704


def _macro(name: str) -> Any:
    template = current_app.jinja_env.get_template(
        f"govuk_frontend_jinja/components/{name}/macro.html"
    )
    macro_name = "govuk" + "".join(part.title() for part in name.split("-"))
    return getattr(template.module, macro_name)


class RenderedWidget:
    """For govuk_frontend_wtf's widgets: a field drawn by its component's macro directly
    (the upstream widget renders a template through Flask for each field, with every context
    processor), and kept as :func:`govuk_component` keeps it while it holds nothing anyone
    typed: a form as first shown, its choices the portal's own words and shared facts. A
    field that holds typed text (a note, a date) is drawn afresh each time and never kept."""

    component: ClassVar[str]

    def render(self, params: dict[str, Any]) -> Markup:
        if self.holds_typing(params):
            drawn: Markup = _macro(self.component)(params)
            return drawn
        return govuk_component(self.component, params)

    def holds_typing(self, params: dict[str, Any]) -> bool:
        """Whether ``params`` carry text someone typed (choices of a list never do)."""
        return False
