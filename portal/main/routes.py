from flask import current_app, send_from_directory
from flask.typing import ResponseReturnValue

from portal.access import current_principal, requires
from portal.main import bp
from portal.main.home import home_for
from portal.navigation import sections_for
from portal.rendering import render_page


@bp.get("/")
@requires()
def home() -> ResponseReturnValue:
    who = current_principal()
    return render_page("main/home.html", who=who, home=home_for(who), sections=sections_for(who))


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
