"""CAF officer support: thin views over the support modules and ``wizard``."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
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
)
from portal.forms import new_submission_key
from portal.models import (
    RedirectReason,
    SupportOutcome,
    SupportRequest,
    SupportStatus,
)
from portal.numbers import whole_number
from portal.rendering import render_page
from portal.support import bp, display, queue, submission, wizard
from portal.support.assignment import Assigned, assign_request
from portal.support.dates import today_in_london
from portal.support.forms import SubmitRequestForm
from portal.support.needs import AREAS_OF_NEED
from portal.support.officer_forms import (
    NOTE_ONLY,
    AssignForm,
    StatisticsForm,
    UnsentAssignForm,
    UnsentUpdateForm,
    UpdateForm,
)
from portal.support.request_page import ShownRequest, shown_request
from portal.support.stats import (
    charts_for,
    statistics_csv,
    statistics_filename,
    statistics_for,
)
from portal.support.updates import Conflict, Saved, Update, refusal, takes_updates, update_request

# --- raising a request ----------------------------------------------------------------------


@bp.get("/new")
@requires(Capability.RAISE_SUPPORT_REQUEST)
def start() -> ResponseReturnValue:
    first = wizard.first_unanswered(_answers()) or wizard.STEPS[1]
    return render_page("support/start.html", first=first, answers=wizard.answers())


def _answers() -> dict[str, Any]:
    """The draft, with what the wizard needs to know about the person's schools."""
    current = submission.draft(current_principal(), wizard.answers())
    if current is None:
        abort(404)
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
            SelectChoice(str(school_id), name)
            for school_id, name in submission.school_choices(current_principal())
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
    busy = False
    if form.validate_on_submit():
        sent = submission.submit_request(who, wizard.answers(), form.submission_key.data or "")
        if isinstance(sent, submission.Created):
            wizard.clear()
        if isinstance(sent, submission.Created | submission.AlreadySent):
            return redirect(url_for("support.sent", request_id=sent.request_id), 303)
        busy = isinstance(sent, submission.Busy)
    current = _answers()
    missing = wizard.first_unanswered(current)
    if missing is not None:
        return redirect(url_for("support.question", slug=missing.slug), 303)
    school = get_school_or_404(who, int(current["school_id"]))
    if "_key" not in current:
        current["_key"] = new_submission_key()
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
    filters = queue.QueueFilter.from_args(request.args)
    today = today_in_london()
    page = queue.queue(who, filters, today)
    return render_page(
        "support/index.html",
        fragment="queue",
        page=page,
        filters=filters,
        **queue.filter_items(filters),
        today=today,
        queue_rows=display.queue_rows_html,
        is_officer=can(Capability.ACT_ON_SUPPORT_REQUESTS),
    )


STATUS_CLASSES = {
    status.value: f"govuk-tag--{colour}" for status, colour in queue.STATUS_COLOURS.items()
}


def _update_form(
    status: SupportStatus, version: int | None = None, formdata: Any = None
) -> UpdateForm | None:
    """The update form for what a request of ``status`` allows, for the ``version`` of it
    shown (None: the version that was posted); None when it takes nothing."""
    if not takes_updates(status):
        return None
    if formdata is None:
        form = UpdateForm(status=status)
    else:
        form = UpdateForm(formdata=formdata, status=status)
    if version is not None:
        form.version.data = str(version)
    return form


def _assign_form(who: Principal, shown: ShownRequest, formdata: Any = None) -> AssignForm | None:
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


def _shown_or_404(who: Principal, request_id: int) -> ShownRequest:
    shown = shown_request(who, request_id)
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
        may_act = may_act_on_support_request(who, r) and takes_updates(r.status)
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
        refused = refusal(found.status, None)
    elif form.validate_on_submit():
        done = update_request(
            found, _update_from(form), who.user, whole_number(form.version.data) or 0
        )
        if isinstance(done, Saved):
            flash("Your update has been saved.", "success")
            return redirect(url_for("support.show", request_id=found.id), 303)
        if isinstance(done, Conflict):
            conflict = True
            # Everything typed stays in the form (as far as the new status asks for it);
            # only the version moves on (the request is as it is now), so that a second
            # press, after reading what changed, goes through.
            form = _update_form(found.status, found.version, request.form)
        else:
            form.action.errors = [done.reason]
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
        refused = refusal(found.status, None)
    elif form.validate_on_submit():
        done = assign_request(found, form.chosen_id, who.user)
        if isinstance(done, Assigned):
            flash(_assigned_message(found, who, changed=done.changed), "success")
            return redirect(url_for("support.show", request_id=found.id), 303)
        if isinstance(done, Conflict):
            conflict = True
            shown = _shown_or_404(who, found.id)
        else:
            form.officer.errors = [done.reason]
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
    shown: ShownRequest,
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
        events=shown.events,
        need_names=", ".join(AREAS_OF_NEED.get(n, n) for n in r.needs),
        status_classes=STATUS_CLASSES,
        today=today_in_london(),
        timeliness=queue.timeliness,
        update_fields=display.update_fields_html,
        assign_fields=display.assign_fields_html,
    )


@bp.get("/stats")
@requires(Capability.VIEW_SUPPORT_STATISTICS)
def stats() -> ResponseReturnValue:
    form = StatisticsForm(formdata=request.args, today=today_in_london())
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
    form = StatisticsForm(formdata=request.args, today=today_in_london())
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


def _update_from(form: UpdateForm) -> Update:
    action = form.action.data
    to_status = None if action == NOTE_ONLY else SupportStatus(action)
    # Only the fields the request's status asks for are on the form.
    meeting_on = getattr(form, "meeting_on", None)
    outcome = getattr(form, "outcome", None)
    reason = getattr(form, "redirect_reason", None)
    return Update(
        to_status=to_status,
        note=form.note.data or None,
        shared_with_school=form.shared.data == "school",
        meeting_on=meeting_on.data if meeting_on else None,
        outcome=SupportOutcome(outcome.data) if outcome and outcome.data else None,
        redirect_reason=RedirectReason(reason.data) if reason and reason.data else None,
    )
