"""One template per page, its fragments as named blocks.

A normal request gets the whole page; an htmx request gets only the named block of the
same template, so the two can never drift apart.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from jinja2_fragments.flask import render_block

from portal.extensions import htmx


def render_page(template: str, fragment: str | None = None, **context: Any) -> str:
    """Render ``template``; for an htmx request that asks for a fragment, only that block.

    A boosted link (hx-boost) wants the whole page, and so does htmx restoring the page after
    Back (the portal keeps no history cache, so that filters come back as they were).
    """
    if fragment is not None and drawing_fragment():
        return render_block(template, fragment, **context)
    return render_template(template, **context)


def drawing_fragment() -> bool:
    """Whether this request gets only the fragment of a page that has one (see
    :func:`render_page`): a view need not work out what only the whole page shows."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


# What a gunicorn worker logs once warm (portal/gunicorn_config.py); bench/run.py waits for it.
WARM_LOG = "templates compiled"


def warm_templates(app: Flask) -> int:
    """Compile every template the portal ships (its own and the GOV.UK components it
    imports) into the app's template cache; how many. gunicorn runs this in each new worker
    (portal/gunicorn_config.py), so that the first people to arrive after a deploy do not each wait
    for a page's templates to compile."""
    names = app.jinja_env.list_templates(extensions=["html"])
    for name in names:
        app.jinja_env.get_template(name)
    return len(names)
