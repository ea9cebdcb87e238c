from __future__ import annotations

from flask import Response, current_app, request
from flask.typing import ResponseReturnValue

from portal.access import Capability, requires
from portal.admin import audit_log, bp
from portal.clock import utcnow
from portal.rendering import render_page


@bp.get("/")
@requires(Capability.ADMINISTER)
def index() -> ResponseReturnValue:
    links = [
        (endpoint, title, summary)
        for endpoint, title, summary in ADMIN_LINKS
        if endpoint in current_app.view_functions
    ]
    return render_page("admin/index.html", admin_links=links)


# Other administration pages, shown once their blueprints are installed.
ADMIN_LINKS = [
    ("register.index", "Schools register", "Import schools from the DfE register, with a dry run."),
    ("register.areas", "Areas", "The areas and the register districts each one takes."),
    ("accounts.users", "Users", "Invite people, and deactivate accounts."),
    ("buyback.index", "Buy-back windows", "Set up windows and see the returns."),
    ("training.manage_courses", "Training courses", "Publish courses and sessions; registers."),
    ("training.funds_index", "Supply-cover funds", "Funds, their allocations, claims, payments."),
    ("training.take_up_report", "Training take-up", "Take-up of training by course and area."),
]


@bp.get("/audit")
@requires(Capability.ADMINISTER)
def audit() -> ResponseReturnValue:
    search, errors = audit_log.AuditSearch.from_args(request.args)
    page = audit_log.search_page(search)
    return render_page(
        "admin/audit.html",
        fragment="results",
        search=search,
        errors=errors,
        error_list=[{"text": message, "href": f"#{name}"} for name, message in errors.items()],
        page=page,
        lines=audit_log.described(page.items),
        action_items=audit_log.action_items(search.action),
        subject_type_items=audit_log.record_items(search.subject_type),
    )


@bp.get("/audit.csv")
@requires(Capability.ADMINISTER)
def audit_csv() -> ResponseReturnValue:
    search, _ = audit_log.AuditSearch.from_args(request.args)
    filename = f"audit-log-{utcnow().date().isoformat()}.csv"
    return Response(
        audit_log.search_csv(search),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
