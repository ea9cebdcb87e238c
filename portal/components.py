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

from typing import Any

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


def _macro(name: str) -> Any:
    template = current_app.jinja_env.get_template(
        f"govuk_frontend_jinja/components/{name}/macro.html"
    )
    macro_name = "govuk" + "".join(part.title() for part in name.split("-"))
    return getattr(template.module, macro_name)
