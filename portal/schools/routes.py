from flask import request
from flask.typing import ResponseReturnValue

from portal.access import Capability, current_principal, get_school_or_404, requires
from portal.rendering import render_page
from portal.schools import bp
from portal.schools.service import PAGE_SIZE, school_page


@bp.get("/")
@requires(Capability.VIEW_SCHOOLS)
def index() -> ResponseReturnValue:
    who = current_principal()
    query = request.args.get("q", "").strip()[:100]
    page = school_page(who, query=query, page=request.args.get("page", 1, type=int))
    return render_page(
        "schools/index.html", fragment="results", page=page, query=query, page_size=PAGE_SIZE
    )


@bp.get("/<int:school_id>")
@requires(Capability.VIEW_SCHOOLS)
def show(school_id: int) -> ResponseReturnValue:
    school = get_school_or_404(current_principal(), school_id)
    return render_page("schools/show.html", school=school)
