"""Buy-back's views: each reads its form, calls one function of the capability that does
the work (submitting, saving, windows), and renders the page or redirects."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from portal import clock
from portal.access import (
    Capability,
    can,
    current_principal,
    get_school_or_404,
    requires,
    visible_school_list,
)
from portal.buyback import bp, display, trust, windows
from portal.buyback.analysis import analysis_of
from portal.buyback.analysis_csv import analysis_csv as analysis_as_csv
from portal.buyback.analysis_page import page_context
from portal.buyback.choices import submission_of
from portal.buyback.confirmation import invoice_schedule
from portal.buyback.forms import (
    ChangeWindowForm,
    CloseWindowForm,
    DeadlineForm,
    RemindersForm,
    WindowForm,
)
from portal.buyback.pages import ChoiceAsItStands, choice_as_it_stands
from portal.buyback.saving import Saved, category_page, save_category
from portal.buyback.submitting import Submitted, submit_choice
from portal.buyback.year_analysis import analyse_year
from portal.clock import london_time
from portal.extensions import htmx
from portal.forms import new_submission_key
from portal.models import BuybackWindow, Cohort
from portal.pricing import format_pence
from portal.rendering import render_page


@bp.get("/")
@requires(Capability.VIEW_BUYBACK)
def index() -> ResponseReturnValue:
    who = current_principal()
    if not who.has_council_view:
        schools = visible_school_list(who)
        if len(schools) == 1:
            return redirect(url_for("buyback.choice", school_id=schools[0].id))
        # A trust lead: every academy, with where its choice stands and its total.
        rows = trust.academy_rows(schools)
        return render_page(
            "buyback/trust.html",
            rows=rows,
            total=sum(row.submitted_pence or 0 for row in rows),
            deadlines=sorted({row.window.closes_at for row in rows if row.window}),
            now=clock.now(),
            format_pence=format_pence,
        )
    return render_page("buyback/windows.html", windows=windows.all_windows(), now=clock.now())


@bp.get("/choices.csv")
@requires(Capability.VIEW_BUYBACK)
def choices_csv() -> ResponseReturnValue:
    """Every school's choice that the person sees, a line per service (a trust's academies)."""
    who = current_principal()
    if who.has_council_view:
        abort(403)
    schools = visible_school_list(who)
    return Response(
        trust.choices_csv(trust.academy_rows(schools, details=True)),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="buy-back-choices.csv"'},
    )


def _from_the_trust_page(school: Any) -> bool:
    """Whether the person came from their trust's page of academies, to go back to it."""
    return school.trust_id is not None and school.trust_id in current_principal().trust_ids


def _common(school: Any, window: Any, choice: Any) -> dict[str, Any]:
    state = window.state(clock.now())
    return {
        "trust_page": _from_the_trust_page(school),
        "school": school,
        "window": window,
        "state": state,
        "choice": choice,
        "may_prepare": can(Capability.PREPARE_BUYBACK) and state == "open",
        "may_submit": can(Capability.EDIT_BUYBACK) and state == "open",
        "format_pence": format_pence,
    }


def _error_items(errors: dict[str, str]) -> list[dict[str, str]]:
    return [{"text": message, "href": f"#{name}"} for name, message in errors.items()]


@bp.route("/<int:school_id>", methods=["GET", "POST"])
@requires(Capability.VIEW_BUYBACK)
def choice(school_id: int) -> ResponseReturnValue:
    """The school's choice as a task list, one task per category, with the total; submitting."""
    school = get_school_or_404(current_principal(), school_id)
    if request.method != "POST":
        shown = choice_as_it_stands(school)
        if shown is None:
            return render_page("buyback/no-window.html", school=school)
        return _task_list(school, shown)
    if not can(Capability.EDIT_BUYBACK):
        abort(403)
    outcome = submit_choice(school, request.form, current_principal().user)
    if outcome is None:
        return render_page("buyback/no-window.html", school=school)
    if isinstance(outcome, Submitted):
        return redirect(
            url_for("buyback.confirmation", school_id=school.id, number=outcome.number), 303
        )
    return _task_list(
        school,
        outcome.shown,
        errors=outcome.errors,
        conflict=outcome.conflict,
        closed_on_save=outcome.closed_on_save,
        purchase_order=outcome.purchase_order,
    )


def _task_list(
    school: Any, shown: ChoiceAsItStands, errors: dict[str, str] | None = None, **context: Any
) -> str:
    stored, answers = shown.choice, shown.answers
    return render_page(
        "buyback/choice.html",
        tasks=shown.tasks,
        task_list_items=display.task_list_items,
        answers=answers,
        standing=shown.standing,
        renewal=stored is None and bool(answers.by_service),
        submission_key=request.form.get("submission_key") or new_submission_key(),
        version=stored.version if stored else 0,
        errors=errors or {},
        error_items=_error_items(errors or {}),
        submitted_by=shown.submitted_by,
        updated_by=shown.updated_by,
        **_common(school, shown.window, stored),
        **context,
    )


@bp.route("/<int:school_id>/categories/<int:category_id>", methods=["GET", "POST"])
@requires(Capability.VIEW_BUYBACK)
def category(school_id: int, category_id: int) -> ResponseReturnValue:
    """One category's services: buying or not, which option, how many; saved into the draft."""
    school = get_school_or_404(current_principal(), school_id)
    action = request.form.get("action", "total")
    if request.method == "POST" and not can(Capability.PREPARE_BUYBACK):
        abort(403)
    if request.method == "POST" and action == "save":
        outcome = save_category(school, category_id, request.form, current_principal().user)
        if isinstance(outcome, Saved):
            flash(f"Your choices for {outcome.category} have been saved as a draft.", "success")
            return redirect(url_for("buyback.choice", school_id=school.id), 303)
    else:
        outcome = category_page(
            school, category_id, request.form if request.method == "POST" else None
        )
    if outcome is None:
        abort(404)
    # htmx asks for the total alone, and with it every service's cost line to swap in place.
    fragment = "total" if htmx and request.form.get("action") == "total" else None
    return render_page(
        "buyback/category.html",
        fragment=fragment,
        oob_costs=fragment is not None,
        task=outcome.task,
        answers=outcome.answers,
        seen=outcome.seen,
        service_fields=display.service_fields,
        cost_line=display.cost_line,
        errors=outcome.errors,
        error_items=_error_items(outcome.errors),
        conflict=outcome.conflict,
        closed_on_save=outcome.closed_on_save,
        **_common(school, outcome.window, outcome.choice),
    )


@bp.get("/<int:school_id>/submissions/<int:number>")
@requires(Capability.VIEW_BUYBACK)
def confirmation(school_id: int, number: int) -> ResponseReturnValue:
    school = get_school_or_404(current_principal(), school_id)
    submission = submission_of(school, number)
    if submission is None:
        abort(404)
    total = submission.net_pence + submission.vat_pence
    return render_page(
        "buyback/confirmation.html",
        school=school,
        submission=submission,
        window=submission.choice.window,
        schedule=invoice_schedule(total, submission.choice.window.year),
        total=total,
        format_pence=format_pence,
        trust_page=_from_the_trust_page(school),
    )


# --- windows, for council administrators --------------------------------------------------------


def _details(form: WindowForm) -> windows.WindowDetails:
    return windows.WindowDetails(
        year=int(form.year.data),
        cohort=Cohort(form.cohort.data),
        opens_at=clock.from_london(form.opens_on.data, form.opens_time.data),
        closes_at=clock.from_london(form.closes_on.data, form.closes_time.data),
        reminder_days=windows.parse_days(form.reminder_days.data or "") or None,
    )


def _refused(form: Any, refused: windows.WindowRefused) -> None:
    """The refusal beside its field, for the form to be shown again as it was typed."""
    getattr(form, refused.field).errors.append(refused.message)


def _with_the_usual_reminders(form: Any) -> Any:
    usual = windows.days_text(windows.default_reminder_days())
    form.reminder_days.description = (
        f"{form.reminder_days.description}: {usual} before the deadline"
    )
    return form


@bp.route("/windows/new", methods=["GET", "POST"])
@requires(Capability.MANAGE_BUYBACK_WINDOWS)
def new_window() -> ResponseReturnValue:
    form = _with_the_usual_reminders(WindowForm())
    if form.validate_on_submit():
        try:
            window = windows.create_window(_details(form), current_principal().user)
        except windows.WindowRefused as refused:
            _refused(form, refused)
        else:
            flash(f"The buy-back window for {window.year_label} has been set up.", "success")
            return redirect(url_for("buyback.window", window_id=window.id), 303)
    return render_page("buyback/window-form.html", form=form, window=None)


def _council_window(window_id: int) -> BuybackWindow:
    return windows.get_window(window_id) or abort(404)


def _back_to(window: BuybackWindow, message: str | None = None) -> ResponseReturnValue:
    if message:
        flash(message, "important")
    return redirect(url_for("buyback.window", window_id=window.id), 303)


def _window_page(window: BuybackWindow, reminders_form: RemindersForm) -> str:
    return render_page(
        "buyback/window.html",
        overview=windows.overview(window),
        reminders_form=reminders_form,
        days_text=windows.days_text,
    )


@bp.get("/windows/<int:window_id>")
@requires(Capability.VIEW_BUYBACK_WINDOWS)
def window(window_id: int) -> ResponseReturnValue:
    """A window for the council: returns so far, its reminders and the schools they cannot
    reach; changing, extending or closing it."""
    found = _council_window(window_id)
    days = ", ".join(str(day) for day in found.reminder_days or [])
    return _window_page(found, _with_the_usual_reminders(RemindersForm(reminder_days=days)))


@bp.route("/windows/<int:window_id>/edit", methods=["GET", "POST"])
@requires(Capability.MANAGE_BUYBACK_WINDOWS)
def change_window(window_id: int) -> ResponseReturnValue:
    found = _council_window(window_id)
    if found.state(clock.now()) != "upcoming":
        return _back_to(found, "A window can be changed only before it opens.")
    opens, closes = (
        found.opens_at.astimezone(clock.LONDON),
        found.closes_at.astimezone(clock.LONDON),
    )
    form = _with_the_usual_reminders(
        ChangeWindowForm(
            year=str(found.year),
            cohort=found.cohort.value,
            opens_on=opens.date(),
            opens_time=opens.strftime("%H:%M"),
            closes_on=closes.date(),
            closes_time=closes.strftime("%H:%M"),
            reminder_days=", ".join(str(day) for day in found.reminder_days or []),
        )
    )
    if form.validate_on_submit():
        try:
            windows.change_window(found, _details(form), current_principal().user)
        except windows.WindowRefused as refused:
            _refused(form, refused)
        else:
            flash(f"The buy-back window for {found.year_label} has been changed.", "success")
            return _back_to(found)
    return render_page("buyback/window-form.html", form=form, window=found)


@bp.route("/windows/<int:window_id>/deadline", methods=["GET", "POST"])
@requires(Capability.MANAGE_BUYBACK_WINDOWS)
def extend_deadline(window_id: int) -> ResponseReturnValue:
    found = _council_window(window_id)
    if found.state(clock.now()) != "open":
        return _back_to(found, "Only an open window's deadline can be extended.")
    form = DeadlineForm()
    if form.validate_on_submit():
        try:
            told = windows.extend_deadline(
                found,
                clock.from_london(form.closes_on.data, form.closes_time.data),
                current_principal().user,
            )
        except windows.WindowRefused as refused:
            _refused(form, refused)
        else:
            flash(_extended_message(found, told), "success")
            return _back_to(found)
    return render_page("buyback/deadline.html", form=form, window=found)


def _extended_message(window: BuybackWindow, told: windows.Told) -> str:
    reached, missed = len(told.reached), len(told.unreachable)
    message = (
        f"The deadline has been extended to {london_time(window.closes_at)}. "
        f"The {reached} school{'s' if reached != 1 else ''} not yet submitted with someone "
        "to tell were told by e-mail."
    )
    if missed:
        message += (
            f" {missed} school{'s' if missed != 1 else ''} could not be told: they are "
            "listed below, to telephone."
        )
    return message


@bp.route("/windows/<int:window_id>/close", methods=["GET", "POST"])
@requires(Capability.MANAGE_BUYBACK_WINDOWS)
def close_window(window_id: int) -> ResponseReturnValue:
    found = _council_window(window_id)
    if found.state(clock.now()) != "open":
        return _back_to(found, "Only an open window can be closed.")
    form = CloseWindowForm()
    if form.validate_on_submit():
        try:
            windows.close_early(found, current_principal().user)
        except windows.WindowRefused as refused:
            return _back_to(found, refused.message)
        flash(f"The buy-back window for {found.year_label} has closed.", "success")
        return _back_to(found)
    return render_page("buyback/close.html", form=form, overview=windows.overview(found))


@bp.post("/windows/<int:window_id>/reminders")
@requires(Capability.MANAGE_BUYBACK_WINDOWS)
def window_reminders(window_id: int) -> ResponseReturnValue:
    found = _council_window(window_id)
    form = _with_the_usual_reminders(RemindersForm())
    if form.validate_on_submit():
        days = windows.parse_days(form.reminder_days.data or "") or None
        try:
            windows.set_reminders(found, days, current_principal().user)
        except windows.WindowRefused as refused:
            _refused(form, refused)
        else:
            flash("The reminders have been saved.", "success")
            return _back_to(found)
    return _window_page(found, form)


@bp.get("/windows/<int:window_id>/analysis")
@requires(Capability.ANALYSE_BUYBACK)
def analysis(window_id: int) -> ResponseReturnValue:
    found = analysis_of(window_id) or abort(404)
    return render_page(
        "buyback/analysis.html", window=found.window, **page_context(found, request.args)
    )


@bp.get("/windows/<int:window_id>/analysis.csv")
@requires(Capability.ANALYSE_BUYBACK)
def analysis_csv(window_id: int) -> ResponseReturnValue:
    found = analysis_of(window_id) or abort(404)
    window = found.window
    filename = f"buy-back-{window.year_label}-{window.cohort.value}.csv"
    return Response(
        analysis_as_csv(found),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/years/<int:year>/analysis")
@requires(Capability.ANALYSE_BUYBACK)
def year_analysis(year: int) -> ResponseReturnValue:
    """The year's windows together: maintained schools and academies, against each cost."""
    found = analyse_year(year) or abort(404)
    return render_page("buyback/year-analysis.html", analysis=found, format_pence=format_pence)
