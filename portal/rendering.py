"""One template per page, its fragments as named blocks.

A normal request gets the whole page; an htmx request gets only the named block of the
same template, so the two can never drift apart.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from jinja2_fragments.flask import render_block

from portal.extensions import htmx


def render_page(template: str, fragment: str | None = None, **context: Any) -> str:
    """Render ``template``; for an htmx request that asks for a fragment, only that block.

    A boosted link (hx-boost) wants the whole page, and so does htmx restoring the page after
    Back (the portal keeps no history cache, so that filters come back as they were).
    """
    if fragment is not None and htmx and not htmx.boosted and not htmx.history_restore_request:
        return render_block(template, fragment, **context)
    return render_template(template, **context)
