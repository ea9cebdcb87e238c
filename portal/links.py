"""Links to each of a list's records, built once for the list.

Its own module, importing only Flask: views, displays and the templates' globals all use
it, and portal.templating imports the capabilities' pricing, which imports their routes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import url_for


def link_for_each(endpoint: str, key: str, **values: Any) -> Callable[[int], str]:
    """The link to ``endpoint`` for each id a page lists: ``link(id)`` is
    ``url_for(endpoint, **{key: id}, **values)``, the URL built once with a stand-in id.
    Building a URL is a page's costliest call per row, and a list of services has many."""
    stand_in = 987_654_321_987
    before, _, after = url_for(endpoint, **{key: stand_in}, **values).partition(str(stand_in))
    return lambda record_id: f"{before}{int(record_id)}{after}"
