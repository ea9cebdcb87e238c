"""CAF officer support: thin views over ``portal.support.service`` and ``wizard``."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from wtforms.fields.choices import SelectChoice

from portal.access import (
    Capability,
    Principal,
    can,
    current_principal,
    get_school_or_404,
    get_support_request_or_404,
    may_act_on_support_request,
    may_assign_support_request,
    requires,
    visible_schools,
)
from portal.db import db
from portal.models import (
    RedirectReason,
    School,
    SupportOutcome,
    SupportRequest,
    SupportStatus,
    Urgency,
)
from portal.numbers import whole_number
from portal.rendering import render_page
from portal.support import bp, display, service, wizard
from portal.support.forms import (
    NOTE_ONLY,
    AssignForm,
    StatisticsForm,
    SubmitRequestForm,
    UnsentAssignForm,
    UnsentUpdateForm,
    UpdateForm,
)
from portal.support.stats import (
    charts_for,
    statistics_csv,
    statistics_filename,
    statistics_for,
)

# --- raising a request ----------------------------------------------------------------------


@bp.get("/new")
@requires(Capability.RAISE_SUPPORT_REQUEST)
def start() -> ResponseReturnValue:
    first = wizard.first_unanswered(_answers()) or wizard.STEPS[1]
    return render_page("support/start.html", first=first, answers=wizard.answers())


def _answers() -> dict[str, Any]:
    """The draft, with what the wizard needs to know about the person's schools."""
    who = current_principal()
    current = wizard.answers()
    schools = db.session.scalars(visible_schools(who).with_only_columns(School.id)).all()
    if not schools:
        abort(404)
    current["_schools"] = len(schools)
    if len(schools) == 1:
        current["school_id"] = schools[0]
    return current


@bp.route("/new/<slug>", methods=["GET", "POST"])
@requires(Capability.RAISE_SUPPORT_REQUEST)
def question(slug: str) -> ResponseReturnValue:
    step = wizard.BY_SLUG.get(slug)
    current = _answers()
    if step is None or not step.applies(current):
        abort(404)
    form = wizard.form_for(step, current)
    if step.slug == "school":
        form.school.choices = [
            SelectChoice(str(s.id), s.name)
            for s in db.session.scalars(visible_schools(current_principal()))
        ]
        if form.school.data is not None:
            form.school.data = str(form.school.data)
    if form.validate_on_submit():
        new_values = wizard.values(form, step)
        if step.slug == "school":
            new_values = {"school_id": int(form.school.data)}
        wizard.save(new_values)
        current = _answers()
        following = wizard.first_unanswered(current)
        if request.args.get("change") and following is None:
            return redirect(url_for("support.check"), 303)
        nxt = wizard.after(step, current)
        target = following if request.args.get("change") else nxt
        if target is None:
            return redirect(url_for("support.check"), 303)
        return redirect(url_for("support.question", slug=target.slug), 303)
    back = wizard.before(step, current)
    back_url = (
        url_for("support.check")
        if request.args.get("change")
        else url_for("support.question", slug=back.slug)
        if back
        else url_for("support.start")
    )
    return render_page(
        "support/question.html", step=step, form=form, back_url=back_url, item_hints=ITEM_HINTS
    )


# The council's thresholds, beside the level of need they describe.
ITEM_HINTS = {
    "level": [
        {
            "hint": {
                "text": "Additional needs that no one service can meet alone: an early help "
                "assessment brings the family and the services around them together."
            }
        },
        {
            "hint": {
                "text": "Several needs that have to be coordinated: an early help assessment, "
                "with a Lead Professional to lead the Team Around the Family."
            }
        },
    ]
}


@bp.route("/new/check", methods=["GET", "POST"])
@requires(Capability.RAISE_SUPPORT_REQUEST)
def check() -> ResponseReturnValue:
    who = current_principal()
    form = SubmitRequestForm()
    if form.validate_on_submit():
        key = form.submission_key.data or ""
        # A second press after the first has gone through: show the first request.
        already = db.session.scalars(
            select(SupportRequest).where(
                SupportRequest.submission_key == key,
                SupportRequest.requester_id == who.person.id,
            )
        ).one_or_none()
        if already is not None:
            return redirect(url_for("support.sent", request_id=already.id), 303)
    current = _answers()
    missing = wizard.first_unanswered(current)
    if missing is not None:
        return redirect(url_for("support.question", slug=missing.slug), 303)
    school = get_school_or_404(who, int(current["school_id"]))
    busy = False
    if form.validate_on_submit() and form.submission_key.data == current.get("_key"):
        try:
            created = service.submit(current, school, who.user, current["_key"])
        except OperationalError:
            # SQLite (the embedded database) gives up on a writer that waited past its busy
            # timeout; the other press of this button may have just sent it.
            db.session.rollback()
            created = db.session.scalars(
                select(SupportRequest).where(SupportRequest.submission_key == current["_key"])
            ).one_or_none()
            busy = created is None
        if created is not None:
            wizard.clear()
            return redirect(url_for("support.sent", request_id=created.id), 303)
    if "_key" not in current:
        current["_key"] = service.new_submission_key()
        wizard.save({"_key": current["_key"]})
    form.submission_key.data = current["_key"]
    return render_page(
        "support/check.html",
        form=form,
        answers=current,
        school=school,
        rows=wizard.summary(current, school.name),
        busy=busy,
        last_step=wizard.applicable(current)[-1],
    )


@bp.get("/<int:request_id>/sent")
@requires(Capability.RAISE_SUPPORT_REQUEST)
def sent(request_id: int) -> ResponseReturnValue:
    found = get_support_request_or_404(current_principal(), request_id)
    return render_page("support/sent.html", support_request=found)


# --- following and working requests ---------------------------------------------------------


@bp.get("/")
@requires(Capability.VIEW_SUPPORT_REQUESTS)
def index() -> ResponseReturnValue:
    who = current_principal()
    filters = service.QueueFilter.from_args(request.args)
    today = service.today_in_london()
    page = service.queue(who, filters, today)

    def items(options: list[tuple[str, str]], chosen: str) -> list[dict[str, Any]]:
        return [{"value": v, "text": t, "selected": v == chosen} for v, t in options]

    return render_page(
        "support/index.html",
        fragment="queue",
        page=page,
        filters=filters,
        status_items=items(
            [(service.OPEN, "Open (not closed or redirected)"), ("", "Any status")]
            + [(s.value, s.label) for s in SupportStatus],
            filters.status,
        ),
        urgency_items=items(
            [("", "Any urgency")] + [(u.value, u.label) for u in Urgency],
            filters.urgency.value if filters.urgency else "",
        ),
        owner_items=items(
            [("", "Anyone"), (service.MINE, "Me"), (service.UNASSIGNED, "Nobody yet")],
            filters.owner,
        ),
        due_items=items(
            [
                ("", "Any date"),
                (service.DUE_TODAY, "Due today"),
                (service.OVERDUE, "Overdue"),
            ],
            filters.due,
        ),
        sort_items=items(
            [
                ("respond_by", "Respond by date"),
                ("newest", "Newest first"),
                ("oldest", "Oldest first"),
            ],
            filters.sort,
        ),
        today=today,
        queue_rows=display.queue_rows_html,
        is_officer=can(Capability.ACT_ON_SUPPORT_REQUESTS),
    )


STATUS_CLASSES = {
    status.value: f"govuk-tag--{colour}" for status, colour in service.STATUS_COLOURS.items()
}


def _update_form(
    status: SupportStatus, version: int | None = None, formdata: Any = None
) -> UpdateForm | None:
    """The update form for what a request of ``status`` allows, for the ``version`` of it
    shown (None: the version that was posted); None when it takes nothing."""
    if not service.takes_updates(status):
        return None
    if formdata is None:
        form = UpdateForm(status=status)
    else:
        form = UpdateForm(formdata=formdata, status=status)
    if version is not None:
        form.version.data = str(version)
    return form


def _assign_form(
    who: Principal, shown: service.ShownRequest, formdata: Any = None
) -> AssignForm | None:
    """The form that gives the request to an officer, if ``who`` may; showing whom it is
    with unless ``formdata`` (what was posted to it) says otherwise."""
    r = shown.request
    if not may_assign_support_request(who, r):
        return None
    if formdata is not None:
        return AssignForm(formdata=formdata, officers=shown.officers, current=shown.officer)
    form = AssignForm(formdata=None, officers=shown.officers, current=shown.officer)
    form.officer.data = str(r.assigned_officer_id or "")
    return form


def _shown_or_404(who: Principal, request_id: int) -> service.ShownRequest:
    shown = service.shown_request(who, request_id)
    if shown is None:
        abort(404)
    return shown


@bp.route("/<int:request_id>", methods=["GET", "POST"])
# Anyone signed in may ask; a request outside their scope (or a role with none) is not found.
@requires()
def show(request_id: int) -> ResponseReturnValue:
    who = current_principal()
    if request.method == "GET":
        # Read as plain values, in one statement.
        shown = _shown_or_404(who, request_id)
        r = shown.request
        may_act = may_act_on_support_request(who, r) and service.takes_updates(r.status)
        return _show_page(
            who,
            shown,
            # As first shown: nothing posted, so the form itself need not be built.
            form=UnsentUpdateForm.of(r.status, r.version) if may_act else None,
            assign_form=(
                UnsentAssignForm(tuple(shown.officers), shown.officer)
                if may_assign_support_request(who, r)
                else None
            ),
            conflict=False,
            refused=None,
        )
    found = get_support_request_or_404(who, request_id)
    if not may_act_on_support_request(who, found):
        abort(403)
    form = _update_form(found.status)
    conflict = False
    refused = None
    if form is None:
        # Closed or redirected: the page that sent this was out of date.
        refused = service.refusal(found.status, None)
    elif form.validate_on_submit():
        try:
            service.update(
                found, _update_from(form), who.user, whole_number(form.version.data) or 0
            )
        except service.StaleRequest:
            conflict = True
            db.session.refresh(found)
            # Everything typed stays in the form (as far as the new status asks for it);
            # only the version moves on, so that a second press, after reading what
            # changed, goes through.
            form = _update_form(found.status, found.version, request.form)
        except service.UpdateRefused as error:
            form.action.errors = [str(error)]
        else:
            flash("Your update has been saved.", "success")
            return redirect(url_for("support.show", request_id=found.id), 303)
    shown = _shown_or_404(who, found.id)
    return _show_page(
        who,
        shown,
        form=form,
        assign_form=_assign_form(who, shown),
        conflict=conflict,
        refused=refused,
    )


@bp.post("/<int:request_id>/assign")
@requires(Capability.ACT_ON_SUPPORT_REQUESTS)
def assign(request_id: int) -> ResponseReturnValue:
    who = current_principal()
    found = get_support_request_or_404(who, request_id)
    if not may_act_on_support_request(who, found):
        abort(403)
    shown = _shown_or_404(who, found.id)
    form = _assign_form(who, shown, request.form)
    refused = None
    conflict = False
    if form is None:
        refused = service.refusal(found.status, None)
    elif form.validate_on_submit():
        try:
            changed = service.assign(found, form.chosen_id, who.user)
        except service.StaleRequest:
            conflict = True
            db.session.refresh(found)
            shown = _shown_or_404(who, found.id)
        except service.UpdateRefused as error:
            form.officer.errors = [str(error)]
        else:
            flash(_assigned_message(found, who, changed=changed), "success")
            return redirect(url_for("support.show", request_id=found.id), 303)
    return _show_page(
        who,
        shown,
        form=_update_form(found.status, found.version),
        assign_form=form,
        conflict=conflict,
        refused=refused,
    )


def _assigned_message(found: SupportRequest, who: Principal, *, changed: bool) -> str:
    officer = found.assigned_officer
    if officer is None:
        if not changed:
            return "Nobody was assigned to this request: nothing has changed."
        return "Nobody is assigned to this request now."
    if officer.id == who.person.id:
        return "This request is yours now." if changed else "This request was yours already."
    if not changed:
        return f"This request was with {officer.display_name} already."
    return f"This request is with {officer.display_name} now: they have been told by e-mail."


def _show_page(
    who: Principal,
    shown: service.ShownRequest,
    *,
    form: UpdateForm | UnsentUpdateForm | None,
    assign_form: AssignForm | UnsentAssignForm | None,
    conflict: bool,
    refused: str | None,
) -> ResponseReturnValue:
    r = shown.request
    return render_page(
        "support/show.html",
        support_request=r,
        form=form,
        assign_form=assign_form,
        conflict=conflict,
        refused=refused,
        events=service.timeline(shown.events, council=who.is_council),
        need_names=", ".join(service.AREAS_OF_NEED.get(n, n) for n in r.needs),
        status_classes=STATUS_CLASSES,
        today=service.today_in_london(),
        timeliness=service.timeliness,
        update_fields=display.update_fields_html,
        assign_fields=display.assign_fields_html,
    )


@bp.get("/stats")
@requires(Capability.VIEW_SUPPORT_STATISTICS)
def stats() -> ResponseReturnValue:
    form = StatisticsForm(formdata=request.args, today=service.today_in_london())
    figures = statistics_for(current_principal(), form.period) if form.validate() else None
    return render_page(
        "support/stats.html",
        form=form,
        stats=figures,
        charts=charts_for(figures) if figures else None,
        csv_url=url_for("support.stats_csv", **request.args.to_dict(flat=False)),
    )


@bp.get("/stats.csv")
@requires(Capability.VIEW_SUPPORT_STATISTICS)
def stats_csv() -> ResponseReturnValue:
    form = StatisticsForm(formdata=request.args, today=service.today_in_london())
    if not form.validate():
        # The page says what is wrong with the dates, beside them.
        return redirect(url_for("support.stats", **request.args.to_dict(flat=False)), 303)
    figures = statistics_for(current_principal(), form.period)
    return Response(
        statistics_csv(figures),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{statistics_filename(form.period)}"'
        },
    )


def _update_from(form: UpdateForm) -> service.Update:
    action = form.action.data
    to_status = None if action == NOTE_ONLY else SupportStatus(action)
    # Only the fields the request's status asks for are on the form.
    meeting_on = getattr(form, "meeting_on", None)
    outcome = getattr(form, "outcome", None)
    reason = getattr(form, "redirect_reason", None)
    return service.Update(
        to_status=to_status,
        note=form.note.data or None,
        shared_with_school=form.shared.data == "school",
        meeting_on=meeting_on.data if meeting_on else None,
        outcome=SupportOutcome(outcome.data) if outcome and outcome.data else None,
        redirect_reason=RedirectReason(reason.data) if reason and reason.data else None,
    )
