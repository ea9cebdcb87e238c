"""Buy-back: thin views over ``portal.buyback.service``."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from portal import audit
from portal.access import (
    Capability,
    can,
    current_principal,
    get_school_or_404,
    requires,
    visible_schools,
)
from portal.buyback import bp, service
from portal.buyback.forms import WindowForm
from portal.db import db
from portal.extensions import htmx
from portal.models import BuybackChoice, BuybackSubmission, BuybackWindow, Cohort
from portal.rendering import render_page
from portal.services.pricing import format_pence

LONDON = ZoneInfo("Europe/London")


@bp.get("/")
@requires(Capability.VIEW_BUYBACK)
def index() -> ResponseReturnValue:
    who = current_principal()
    if who.is_school_user and not who.council_wide:
        schools = list(db.session.scalars(visible_schools(who)))
        if len(schools) == 1:
            return redirect(url_for("buyback.choice", school_id=schools[0].id))
        # A trust lead: every academy, with where its choice stands and its total.
        windows = {school.id: service.current_window(school) for school in schools}
        choices = service.choices_for(windows)
        rows = []
        for school in schools:
            choice = choices.get(school.id)
            latest = choice.submissions[-1] if choice and choice.submissions else None
            rows.append((school, windows[school.id], choice, latest))
        total = sum(latest.net_pence + latest.vat_pence for *_, latest in rows if latest)
        return render_page("buyback/trust.html", rows=rows, total=total, format_pence=format_pence)
    windows = db.session.scalars(
        select(BuybackWindow).order_by(BuybackWindow.year.desc(), BuybackWindow.opens_at)
    ).all()
    return render_page("buyback/windows.html", windows=windows, now=service.now())


# Passed for ``stored`` when the caller has not just read the choice (after a save, say).
UNREAD = object()


def _page(
    school: Any, window: Any, offered: Any, answers: Any, stored: Any = UNREAD, **context: Any
) -> str:
    choice = service.get_choice(school, window) if stored is UNREAD else stored
    state = window.state(service.now())
    return render_page(
        "buyback/choice.html",
        fragment="total" if htmx and request.form.get("action") == "total" else None,
        # With the total, htmx also gets every service's cost line to swap in place.
        oob_costs=bool(htmx) and request.form.get("action") == "total",
        school=school,
        window=window,
        state=state,
        offered=offered,
        answers=answers,
        choice=choice,
        may_prepare=can(Capability.PREPARE_BUYBACK) and state == "open",
        may_submit=can(Capability.EDIT_BUYBACK) and state == "open",
        format_pence=format_pence,
        is_per_unit=service.is_per_unit,
        submission_key=request.form.get("submission_key") or service.new_submission_key(),
        version=choice.version if choice else "",
        error_items=[
            {"text": message, "href": f"#{name}"}
            for name, message in context.get("errors", {}).items()
        ],
        **context,
    )


@bp.route("/<int:school_id>", methods=["GET", "POST"])
@requires(Capability.VIEW_BUYBACK)
def choice(school_id: int) -> ResponseReturnValue:
    who = current_principal()
    school = get_school_or_404(who, school_id)
    window = service.current_window(school)
    if window is None:
        return render_page("buyback/no-window.html", school=school)
    offered = service.offered_to(school, window.year)
    if request.method == "GET":
        stored = service.get_choice(school, window)
        answers = (
            service.stored_answers(stored, offered)
            if stored is not None and stored.lines
            else service.renewal_answers(school, window, offered)
        )
        return _page(school, window, offered, answers, stored, renewal=stored is None)

    if not can(Capability.PREPARE_BUYBACK):
        abort(403)
    answers = service.read_answers(request.form, offered, school, window.year)
    action = request.form.get("action", "total")
    if action == "total":
        return _page(school, window, offered, answers, errors={})
    errors = dict(answers.errors)
    purchase_order = request.form.get("purchase_order", "").strip()
    if action == "submit":
        if not can(Capability.EDIT_BUYBACK):
            abort(403)
        for name in service.unanswered(answers, offered):
            sid = next(i.service.id for i in offered if i.service.name == name)
            errors[f"answer-{sid}"] = f"{name}: select buying or not buying"
        if request.form.get("declaration") != "yes":
            errors["declaration"] = (
                "Confirm that you are authorised to commit the school to these purchases"
            )
        if len(purchase_order) > 40:
            errors["purchase_order"] = "Purchase order number must be 40 characters or fewer"
    if errors:
        return _page(school, window, offered, answers, errors=errors, purchase_order=purchase_order)
    version = request.form.get("version", "")
    try:
        saved = service.save(
            school,
            window,
            answers,
            who.user,
            int(version) if version.isdigit() else None,
            answers,
            offered,
        )
        if action == "submit":
            submission = service.submit(
                saved, offered, who.user, purchase_order, request.form.get("submission_key", "")
            )
            return redirect(
                url_for("buyback.confirmation", school_id=school.id, number=submission.number), 303
            )
    except service.StaleChoice as stale:
        db.session.rollback()
        return _page(
            school,
            window,
            offered,
            answers,
            conflict=stale,
            purchase_order=purchase_order,
        )
    except service.WindowClosed:
        db.session.rollback()
        return _page(school, window, offered, answers, closed_on_save=True)
    flash("Your choices have been saved as a draft.", "success")
    return redirect(url_for("buyback.choice", school_id=school.id), 303)


@bp.get("/<int:school_id>/submissions/<int:number>")
@requires(Capability.VIEW_BUYBACK)
def confirmation(school_id: int, number: int) -> ResponseReturnValue:
    school = get_school_or_404(current_principal(), school_id)
    submission = db.session.scalars(
        select(BuybackSubmission)
        .join(BuybackChoice)
        .where(BuybackChoice.school_id == school.id, BuybackSubmission.number == number)
        .order_by(BuybackSubmission.id.desc())
    ).first()
    if submission is None:
        abort(404)
    total = submission.net_pence + submission.vat_pence
    return render_page(
        "buyback/confirmation.html",
        school=school,
        submission=submission,
        window=submission.choice.window,
        schedule=service.invoice_schedule(total),
        total=total,
        format_pence=format_pence,
    )


# --- windows, for council administrators --------------------------------------------------------


def _utc(day: Any, clock: str) -> datetime:
    hours, _, minutes = clock.partition(":")
    local = datetime.combine(day, time(int(hours), int(minutes)), tzinfo=LONDON)
    return local.astimezone(ZoneInfo("UTC"))


@bp.route("/windows/new", methods=["GET", "POST"])
@requires(Capability.MANAGE_BUYBACK_WINDOWS)
def new_window() -> ResponseReturnValue:
    form = WindowForm()
    if form.validate_on_submit():
        window = BuybackWindow(
            year=int(form.year.data),
            cohort=Cohort(form.cohort.data),
            opens_at=_utc(form.opens_on.data, form.opens_time.data),
            closes_at=_utc(form.closes_on.data, form.closes_time.data),
        )
        if window.closes_at <= window.opens_at:
            form.closes_on.errors.append("The window must close after it opens")
        else:
            db.session.add(window)
            db.session.flush()
            audit.record(
                "buyback.window_opened",
                actor=current_principal().user,
                subject=window,
                year=window.year,
                cohort=window.cohort.value,
                opens_at=window.opens_at.isoformat(),
                closes_at=window.closes_at.isoformat(),
            )
            db.session.commit()
            flash(f"The buy-back window for {window.year_label} has been set up.", "success")
            return redirect(url_for("buyback.index"), 303)
    return render_page("buyback/window-form.html", form=form)


def _window_or_404(window_id: int) -> BuybackWindow:
    return db.session.get(BuybackWindow, window_id) or abort(404)


@bp.get("/windows/<int:window_id>/analysis")
@requires(Capability.VIEW_BUYBACK)
def analysis(window_id: int) -> ResponseReturnValue:
    if not current_principal().is_council:
        abort(403)
    from portal.buyback.analysis import analyse, page_context

    window = _window_or_404(window_id)
    return render_page(
        "buyback/analysis.html", window=window, **page_context(analyse(window), request.args)
    )


@bp.get("/windows/<int:window_id>/analysis.csv")
@requires(Capability.VIEW_BUYBACK)
def analysis_csv(window_id: int) -> ResponseReturnValue:
    if not current_principal().is_council:
        abort(403)
    from portal.buyback.analysis import analyse
    from portal.buyback.analysis import analysis_csv as to_csv

    window = _window_or_404(window_id)
    filename = f"buy-back-{window.year_label}-{window.cohort.value}.csv"
    return Response(
        to_csv(analyse(window)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
