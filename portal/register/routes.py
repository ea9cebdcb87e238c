"""The schools register, for council administrators: thin views over ``jobs`` and ``service``."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from portal.access import Capability, current_principal, requires
from portal.db import db, utcnow
from portal.models import Area, ImportStatus, RegisterImport, School, SchoolStatus
from portal.pagination import paginate
from portal.register import bp, jobs, service
from portal.register.forms import ConfirmForm, DistrictsForm, UploadForm
from portal.register.report import has_work, summary
from portal.rendering import render_page

RECENT_IMPORTS = 20


@bp.route("/", methods=["GET", "POST"])
@requires(Capability.ADMINISTER)
def index() -> ResponseReturnValue:
    form = UploadForm()
    if form.validate_on_submit():
        record = jobs.create_import(form.extract.data, form.links.data, current_principal().user)
        jobs.launch(current_app._get_current_object(), record.id)
        return redirect(url_for("register.show", import_id=record.id), 303)
    imports = db.session.scalars(
        select(RegisterImport).order_by(RegisterImport.id.desc()).limit(RECENT_IMPORTS)
    ).all()
    reviews = db.session.scalar(
        select(func.count(School.id)).where(School.review_note.is_not(None))
    )
    return render_page(
        "register/index.html",
        form=form,
        imports=imports,
        reviews=reviews,
        la_codes=sorted(service.council_la_codes()),
    )


def _import_or_404(import_id: int) -> RegisterImport:
    record = db.session.get(RegisterImport, import_id)
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
        if jobs.request_apply(record, current_principal().user):
            jobs.launch(current_app._get_current_object(), record.id)
        elif record.status is ImportStatus.READY and not record.keeps_file:
            flash("This file can no longer be applied. Upload it again to import it.", "info")
        else:
            flash("This import has already been applied, or is being applied.", "info")
    return redirect(url_for("register.show", import_id=record.id), 303)


# --- areas and districts --------------------------------------------------------------------


@bp.get("/areas")
@requires(Capability.ADMINISTER)
def areas() -> ResponseReturnValue:
    counts = dict(
        db.session.execute(
            select(School.area_id, func.count(School.id))
            .where(School.status == SchoolStatus.OPEN)
            .group_by(School.area_id)
        ).all()
    )
    return render_page(
        "register/areas.html",
        areas=db.session.scalars(select(Area).order_by(Area.name)).all(),
        counts=counts,
        unmapped=service.unmapped_districts(),
        moves=len(service.area_moves()),
    )


@bp.route("/areas/<int:area_id>", methods=["GET", "POST"])
@requires(Capability.ADMINISTER)
def area(area_id: int) -> ResponseReturnValue:
    found = db.session.get(Area, area_id)
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
    # A year's register can close and reopen hundreds of schools at once: a page at a time.
    page = paginate(
        select(School).where(School.review_note.is_not(None)).order_by(School.name, School.id),
        request.args.get("page", 1, type=int) or 1,
        REVIEWS_PER_PAGE,
    )
    return render_page("register/reviews.html", page=page, form=ConfirmForm())


REVIEWS_PER_PAGE = 25


@bp.post("/reviews/<int:school_id>/clear")
@requires(Capability.ADMINISTER)
def clear_review(school_id: int) -> ResponseReturnValue:
    school = db.session.get(School, school_id)
    if school is None:
        abort(404)
    if ConfirmForm().validate_on_submit() and school.review_note is not None:
        service.clear_review(school, current_principal().user)
        flash(f"{school.name} has been marked as reviewed.", "success")
    return redirect(url_for("register.reviews"), 303)
