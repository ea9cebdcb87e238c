"""The schools register, for council administrators: thin views over ``jobs``, ``pages`` and
``service``."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from portal.access import Capability, current_principal, requires
from portal.db import utcnow
from portal.models import ImportStatus, RegisterImport
from portal.register import bp, jobs, pages, service
from portal.register.forms import ConfirmForm, DistrictsForm, UploadForm
from portal.register.report import has_work, summary
from portal.rendering import render_page


@bp.route("/", methods=["GET", "POST"])
@requires(Capability.ADMINISTER)
def index() -> ResponseReturnValue:
    form = UploadForm()
    if form.validate_on_submit():
        record = jobs.start_import(form.extract.data, form.links.data, current_principal().user)
        return redirect(url_for("register.show", import_id=record.id), 303)
    listed = pages.imports()
    return render_page(
        "register/index.html",
        form=form,
        imports=listed.recent,
        reviews=listed.reviews,
        la_codes=sorted(service.council_la_codes()),
    )


def _import_or_404(import_id: int) -> RegisterImport:
    record = pages.get_import(import_id)
    if record is None:
        abort(404)
    return record


@bp.get("/imports/<int:import_id>")
@requires(Capability.ADMINISTER)
def show(import_id: int) -> ResponseReturnValue:
    record = _import_or_404(import_id)
    # The progress fragment polls this same URL until the import has finished.
    return render_page(
        "register/import.html",
        fragment="progress",
        record=record,
        stalled=jobs.is_stalled(record, utcnow()),
        finished=record.status in (ImportStatus.READY, ImportStatus.APPLIED, ImportStatus.FAILED),
        has_work=has_work(record.report),
        summary=summary,
        form=ConfirmForm(),
    )


@bp.post("/imports/<int:import_id>/apply")
@requires(Capability.ADMINISTER)
def apply(import_id: int) -> ResponseReturnValue:
    record = _import_or_404(import_id)
    if ConfirmForm().validate_on_submit():
        applying = jobs.apply_import(record, current_principal().user)
        if applying is jobs.Applying.FILE_GONE:
            flash("This file can no longer be applied. Upload it again to import it.", "info")
        elif applying is jobs.Applying.ALREADY:
            flash("This import has already been applied, or is being applied.", "info")
    return redirect(url_for("register.show", import_id=record.id), 303)


# --- areas and districts --------------------------------------------------------------------


@bp.get("/areas")
@requires(Capability.ADMINISTER)
def areas() -> ResponseReturnValue:
    listed = pages.areas()
    return render_page(
        "register/areas.html",
        areas=listed.areas,
        counts=listed.open_schools,
        unmapped=service.unmapped_districts(),
        moves=len(service.area_moves()),
    )


@bp.route("/areas/<int:area_id>", methods=["GET", "POST"])
@requires(Capability.ADMINISTER)
def area(area_id: int) -> ResponseReturnValue:
    found = pages.get_area(area_id)
    if found is None:
        abort(404)
    form = DistrictsForm(service.districts_elsewhere(found))
    if form.validate_on_submit():
        changed = service.set_districts(found, form.cleaned(), current_principal().user)
        flash(
            f"The {found.name} area's districts have been saved."
            if changed
            else "Nothing was changed.",
            "success",
        )
        return redirect(url_for("register.areas"), 303)
    if not form.is_submitted():
        form.districts.data = "\n".join(found.districts)
    return render_page(
        "register/area.html", form=form, area=found, unmapped=service.unmapped_districts()
    )


@bp.route("/areas/assign", methods=["GET", "POST"])
@requires(Capability.ADMINISTER)
def assign() -> ResponseReturnValue:
    form = ConfirmForm()
    if form.validate_on_submit():
        moved = service.assign_by_district(current_principal().user)
        flash(
            f"{moved} school{'s' if moved != 1 else ''} moved to the area of its district.",
            "success",
        )
        return redirect(url_for("register.areas"), 303)
    return render_page("register/assign.html", moves=service.area_moves(), form=form)


# --- schools flagged for review -------------------------------------------------------------


@bp.get("/reviews")
@requires(Capability.ADMINISTER)
def reviews() -> ResponseReturnValue:
    page = pages.reviews(request.args.get("page", 1, type=int) or 1)
    return render_page("register/reviews.html", page=page, form=ConfirmForm())


@bp.post("/reviews/<int:school_id>/clear")
@requires(Capability.ADMINISTER)
def clear_review(school_id: int) -> ResponseReturnValue:
    school = pages.get_school(school_id)
    if school is None:
        abort(404)
    if ConfirmForm().validate_on_submit() and school.review_note is not None:
        service.clear_review(school, current_principal().user)
        flash(f"{school.name} has been marked as reviewed.", "success")
    return redirect(url_for("register.reviews"), 303)
