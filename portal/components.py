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

from typing import Any, ClassVar

from flask import current_app
from markupsafe import Markup

# Each distinct set of parameters kept at most; far more than the portal's filters have.
KEPT = 2048

_kept: dict[tuple[str, Any], Markup] = {}


def _frozen(value: Any) -> Any:
    """``value`` as a hashable key, exact: types as well as contents (1 and True, or text and
    Markup, draw differently but compare equal, so each is kept with its type)."""
    if isinstance(value, dict):
        return tuple((key, _frozen(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return (type(value), value)


def govuk_component(name: str, params: dict[str, Any]) -> Markup:
    """What the GOV.UK macro for component ``name`` ('select', 'button') draws with
    ``params``: drawn the first time, kept after."""
    key = (name, _frozen(params))
    html = _kept.get(key)
    if html is None:
        # A macro of the portal's autoescaping environment gives Markup.
        html = _macro(name)(params)
        if len(_kept) >= KEPT:
            # Only if something draws far more variants than the filters have: start again.
            _kept.clear()
        _kept[key] = html
    return html


# A GOV.UK summary list's row as govukSummaryList draws it (but for the whitespace between
# tags, which browsers ignore): a key and a value, no actions, no classes.
_SUMMARY_ROW = Markup(
    '<div class="govuk-summary-list__row">'
    '<dt class="govuk-summary-list__key">{key}</dt>'
    '<dd class="govuk-summary-list__value">{value}</dd>'
    "</div>"
)
_SUMMARY_LIST = Markup('<dl class="govuk-summary-list">{rows}</dl>')
_ROW_PARTS = {"key", "value"}


def summary_rows_html(rows: list[dict[str, Any]]) -> Markup:
    """The rows of a GOV.UK summary list, written out rather than drawn by govukSummaryList
    (a millisecond for a dozen rows): each row's key and value as ``{"text": ...}`` or, already
    Markup, ``{"html": ...}``; rows that are None or empty are left out, as the macro leaves
    them. tests/test_templating.py keeps the two the same."""
    drawn = []
    for row in rows:
        if not row:
            continue
        if row.keys() - _ROW_PARTS:
            raise ValueError(f"a written-out summary row has only a key and a value: {row}")
        key, value = row["key"], row["value"]
        drawn.append(
            _SUMMARY_ROW.format(
                key=key["html"] if "html" in key else key["text"],
                value=value["html"] if "html" in value else value["text"],
            )
        )
    return Markup("").join(drawn)


def summary_list_html(rows: list[dict[str, Any]]) -> Markup:
    """A GOV.UK summary list (no card) of ``rows``, as :func:`summary_rows_html` writes them."""
    return _SUMMARY_LIST.format(rows=summary_rows_html(rows))


def _macro(name: str) -> Any:
    template = current_app.jinja_env.get_template(
        f"govuk_frontend_jinja/components/{name}/macro.html"
    )
    macro_name = "govuk" + "".join(part.title() for part in name.split("-"))
    return getattr(template.module, macro_name)


class DrawnWidget:
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
