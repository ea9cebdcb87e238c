from flask import current_app, send_from_directory
from flask.typing import ResponseReturnValue

from portal.access import current_principal, requires, visible_schools
from portal.db import db
from portal.main import bp
from portal.navigation import sections_for
from portal.page_cache import kept
from portal.rendering import render_page
from portal.support import service as support_service


@bp.get("/")
@kept
@requires()
def home() -> ResponseReturnValue:
    who = current_principal()
    # A school user's home names their school; a trust lead's lists the trust's academies.
    schools = [] if who.council_wide else db.session.scalars(visible_schools(who)).all()
    return render_page(
        "main/home.html",
        who=who,
        schools=schools,
        sections=sections_for(who),
        # A CAF officer's queue at a glance (None for everyone else).
        support_queue=support_service.queue_counts(who),
    )


@bp.get("/accessibility")
def accessibility() -> ResponseReturnValue:
    return render_page("main/accessibility.html")


@bp.get("/privacy")
def privacy() -> ResponseReturnValue:
    return render_page("main/privacy.html")


@bp.get("/cookies")
def cookies() -> ResponseReturnValue:
    return render_page("main/cookies.html")


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    # Browsers ask for /favicon.ico whatever the page says; answer with the council's icon.
    return send_from_directory(
        current_app.static_folder or "static", "images/favicon.svg", mimetype="image/svg+xml"
    )
