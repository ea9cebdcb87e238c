"""Buy-back: thin views over ``portal.buyback.service``."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from portal.access import (
    Capability,
    can,
    current_principal,
    get_school_or_404,
    requires,
    visible_school_list,
)
from portal.buyback import bp, display, service, windows
from portal.buyback.forms import (
    ChangeWindowForm,
    CloseWindowForm,
    DeadlineForm,
    RemindersForm,
    WindowForm,
)
from portal.db import db
from portal.extensions import htmx
from portal.models import BuybackWindow, Cohort
from portal.numbers import whole_number
from portal.rendering import render_page
from portal.services.pricing import format_pence
from portal.templating import london_time

LONDON = ZoneInfo("Europe/London")


@bp.get("/")
@requires(Capability.VIEW_BUYBACK)
def index() -> ResponseReturnValue:
    who = current_principal()
    if who.is_school_user and not who.council_wide:
        schools = visible_school_list(who)
        if len(schools) == 1:
            return redirect(url_for("buyback.choice", school_id=schools[0].id))
        # A trust lead: every academy, with where its choice stands and its total.
        rows = service.academy_rows(schools)
        return render_page(
            "buyback/trust.html",
            rows=rows,
            total=sum(row.submitted_pence or 0 for row in rows),
            deadlines=sorted({row.window.closes_at for row in rows if row.window}),
            now=service.now(),
            format_pence=format_pence,
        )
    return render_page("buyback/windows.html", windows=windows.all_windows(), now=service.now())


@bp.get("/choices.csv")
@requires(Capability.VIEW_BUYBACK)
def choices_csv() -> ResponseReturnValue:
    """Every school's choice that the person sees, a line per service (a trust's academies)."""
    who = current_principal()
    if not who.is_school_user or who.council_wide:
        abort(403)
    schools = visible_school_list(who)
    return Response(
        service.choices_csv(service.academy_rows(schools, details=True)),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="buy-back-choices.csv"'},
    )


def _from_the_trust_page(school: Any) -> bool:
    """Whether the person came from their trust's page of academies, to go back to it."""
    return school.trust_id is not None and school.trust_id in current_principal().trust_ids


def _common(school: Any, window: Any, choice: Any) -> dict[str, Any]:
    state = window.state(service.now())
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


def _school_and_window(school_id: int) -> tuple[Any, Any]:
    """The school (another school's id is not found) and its current window, if any."""
    school = get_school_or_404(current_principal(), school_id)
    return school, service.current_window(school)


@bp.route("/<int:school_id>", methods=["GET", "POST"])
@requires(Capability.VIEW_BUYBACK)
def choice(school_id: int) -> ResponseReturnValue:
    """The school's choice as a task list, one task per category, with the total; submitting."""
    if request.method != "POST":
        school = get_school_or_404(current_principal(), school_id)
        shown = service.choice_as_it_stands(school)
        if shown is None:
            return render_page("buyback/no-window.html", school=school)
        return _task_list(
            school,
            shown.window,
            shown.tasks,
            shown.choice,
            shown.answers,
            shown.standing,
            names=(shown.submitted_by, shown.updated_by),
        )
    school, window = _school_and_window(school_id)
    if window is None:
        return render_page("buyback/no-window.html", school=school)
    if not can(Capability.EDIT_BUYBACK):
        abort(403)
    # The task list compares nothing with last year: its categories' pages do.
    offered = service.offered_to(school, window.year, last_year=False)
    # Submitting writes the draft's lines with today's prices, so reads them as objects.
    stored = service.get_choice(school, window, with_lines=True)
    answers = service.current_answers(
        school, window, offered, stored, stored.lines if stored else []
    )

    def summary(**context: Any) -> str:
        standing = service.standing(stored, offered)
        tasks = service.tasks(offered, answers)
        return _task_list(school, window, tasks, stored, answers, standing, **context)

    key = request.form.get("submission_key", "")
    version = request.form.get("version", "")
    purchase_order = request.form.get("purchase_order", "").strip()
    # A form that does not say which version its person saw cannot show they saw what is
    # saved now: it is treated as changed, and they are shown the choice as it stands.
    seen_version = whole_number(version)
    unverified = seen_version is None
    changed = unverified or seen_version != (stored.version if stored else 0)
    if changed and stored is not None:
        # Submitted already by this very form (Submit pressed twice): where it went.
        done = next((s for s in stored.submissions if s.submission_key == key), None)
        if done is not None:
            return redirect(
                url_for("buyback.confirmation", school_id=school.id, number=done.number), 303
            )
    if window.state(service.now()) != "open":
        return summary(closed_on_save=True)
    if changed:
        conflict = "unverified" if unverified else "changed"
        return summary(conflict=conflict, purchase_order=purchase_order)
    errors = _submit_errors(service.tasks(offered, answers), answers)
    if request.form.get("declaration") != "yes":
        errors["declaration"] = (
            "Confirm that you are authorised to commit the school to these purchases"
        )
    if len(purchase_order) > 40:
        errors["purchase_order"] = "Purchase order number must be 40 characters or fewer"
    if errors:
        return summary(errors=errors, purchase_order=purchase_order)
    try:
        submission = service.submit(
            school,
            window,
            stored,
            answers,
            offered,
            current_principal().user,
            purchase_order,
            key,
        )
    except service.StaleChoice:
        db.session.rollback()
        stored = service.get_choice(school, window)
        answers = service.current_answers(school, window, offered, stored)
        return summary(conflict="changed", purchase_order=purchase_order)
    except service.WindowClosed:
        db.session.rollback()
        return summary(closed_on_save=True)
    return redirect(
        url_for("buyback.confirmation", school_id=school.id, number=submission.number), 303
    )


def _task_list(
    school: Any,
    window: Any,
    tasks: list[service.Task],
    stored: Any,
    answers: service.Answers,
    standing: service.Standing,
    names: tuple[str | None, str | None] | None = None,
    **context: Any,
) -> str:
    """The task list. ``names``: who made the latest submission and who last saved the
    choice, if read as names (else from ``standing`` and ``stored``, read as objects)."""
    errors = context.pop("errors", {})
    if names is None:
        latest = standing.latest
        names = (
            latest.submitted_by.display_name if latest is not None else None,
            stored.updated_by.display_name
            if stored is not None and stored.updated_by is not None
            else None,
        )
    return render_page(
        "buyback/choice.html",
        tasks=tasks,
        task_list_items=display.task_list_items,
        answers=answers,
        standing=standing,
        renewal=stored is None and bool(answers.by_service),
        submission_key=request.form.get("submission_key") or service.new_submission_key(),
        version=stored.version if stored else 0,
        errors=errors,
        error_items=_error_items(errors),
        submitted_by=names[0],
        updated_by=names[1],
        **_common(school, window, stored),
        **context,
    )


def _submit_errors(tasks: list[service.Task], answers: service.Answers) -> dict[str, str]:
    """Each category not ready to submit, with why: unanswered services, or a price missing."""
    errors = {}
    for task in tasks:
        left = task.services - task.answered
        unpriced = [
            answers.errors[f"answer-{item.service.id}"]
            for item in task.items
            if f"answer-{item.service.id}" in answers.errors
        ]
        if left:
            errors[f"category-{task.category.id}"] = (
                f"{task.category.name}: answer every service, buying or not buying "
                f"({left} not answered)"
            )
        elif unpriced:
            errors[f"category-{task.category.id}"] = unpriced[0]
    return errors


@bp.route("/<int:school_id>/categories/<int:category_id>", methods=["GET", "POST"])
@requires(Capability.VIEW_BUYBACK)
def category(school_id: int, category_id: int) -> ResponseReturnValue:
    """One category's services: buying or not, which option, how many; saved into the draft."""
    if request.method == "POST" and request.form.get("action") == "save":
        school, window = _school_and_window(school_id)
        if window is None:
            abort(404)
        # A save checks, and tells the head teacher of, changes to the whole choice.
        stored = service.get_choice(school, window)
        offered = service.offered_to(school, window.year)
        shown = service.current_answers(school, window, offered, stored)
    else:
        school = get_school_or_404(current_principal(), school_id)
        stored = None  # shown and totalled, not written: the choice's answers are enough
        found = service.category_offer(school, category_id)
        if found is None:
            abort(404)
        window, offered, shown = found
    items = [item for item in offered if item.category.id == category_id]
    if not items:
        abort(404)
    fragment = "total" if htmx and request.form.get("action") == "total" else None

    def page(answers: service.Answers, **context: Any) -> str:
        errors = context.pop("errors", {})
        # The category's task alone: the others' services are read only as far as they count
        # towards the year's total, which the answers give.
        task = service.tasks(items, answers)[0]
        return render_page(
            "buyback/category.html",
            fragment=fragment,
            # With the total, htmx also gets every service's cost line to swap in place.
            oob_costs=fragment is not None,
            task=task,
            answers=answers,
            seen=service.seen_text(shown, items),
            service_fields=display.service_fields,
            cost_line=display.cost_line,
            errors=errors,
            error_items=_error_items(errors),
            **_common(school, window, stored),
            **context,
        )

    if request.method == "GET":
        return page(shown)
    if not can(Capability.PREPARE_BUYBACK):
        abort(403)
    posted = service.read_answers(request.form, items, school, window.year)
    # The whole year's total counts the other categories as they stand.
    answers = service.Answers({**shown.by_service, **posted.by_service}, posted.errors)
    if request.form.get("action", "total") != "save" or posted.errors:
        return page(answers, errors=posted.errors)
    try:
        service.save(
            school,
            window,
            stored,
            posted,
            current_principal().user,
            offered,
            shown=shown,
            seen=service.read_seen(request.form.get("seen", "")),
        )
    except service.StaleChoice as stale:
        db.session.rollback()
        stored = service.get_choice(school, window)
        # The form keeps what this person chose; what they saw is now what is saved, so a
        # second save, once checked, goes through.
        shown = service.current_answers(school, window, offered, stored)
        return page(answers, conflict=stale)
    except service.WindowClosed:
        db.session.rollback()
        return page(answers, closed_on_save=True)
    flash(f"Your choices for {items[0].category.name} have been saved as a draft.", "success")
    return redirect(url_for("buyback.choice", school_id=school.id), 303)


@bp.get("/<int:school_id>/submissions/<int:number>")
@requires(Capability.VIEW_BUYBACK)
def confirmation(school_id: int, number: int) -> ResponseReturnValue:
    school = get_school_or_404(current_principal(), school_id)
    submission = service.submission_of(school, number)
    if submission is None:
        abort(404)
    total = submission.net_pence + submission.vat_pence
    return render_page(
        "buyback/confirmation.html",
        school=school,
        submission=submission,
        window=submission.choice.window,
        schedule=service.invoice_schedule(total, submission.choice.window.year),
        total=total,
        format_pence=format_pence,
        trust_page=_from_the_trust_page(school),
    )


# --- windows, for council administrators --------------------------------------------------------


def _utc(day: Any, clock: str) -> datetime:
    hours, _, minutes = clock.partition(":")
    local = datetime.combine(day, time(int(hours), int(minutes)), tzinfo=LONDON)
    return local.astimezone(ZoneInfo("UTC"))


def _details(form: WindowForm) -> windows.WindowDetails:
    return windows.WindowDetails(
        year=int(form.year.data),
        cohort=Cohort(form.cohort.data),
        opens_at=_utc(form.opens_on.data, form.opens_time.data),
        closes_at=_utc(form.closes_on.data, form.closes_time.data),
        reminder_days=windows.parse_days(form.reminder_days.data or "") or None,
    )


def _refused(form: Any, refused: windows.WindowRefused) -> None:
    """The refusal beside its field, for the form to be shown again as it was typed."""
    db.session.rollback()
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
    """A window, for council staff (others, who see only their schools' choices: 403)."""
    if not current_principal().is_council:
        abort(403)
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
@requires(Capability.VIEW_BUYBACK)
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
    if found.state(service.now()) != "upcoming":
        return _back_to(found, "A window can be changed only before it opens.")
    opens, closes = found.opens_at.astimezone(LONDON), found.closes_at.astimezone(LONDON)
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
    if found.state(service.now()) != "open":
        return _back_to(found, "Only an open window's deadline can be extended.")
    form = DeadlineForm()
    if form.validate_on_submit():
        try:
            told = windows.extend_deadline(
                found, _utc(form.closes_on.data, form.closes_time.data), current_principal().user
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
    if found.state(service.now()) != "open":
        return _back_to(found, "Only an open window can be closed.")
    form = CloseWindowForm()
    if form.validate_on_submit():
        try:
            windows.close_early(found, current_principal().user)
        except windows.WindowRefused as refused:
            db.session.rollback()
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


def _window_or_404(window_id: int) -> BuybackWindow:
    return windows.get_window(window_id) or abort(404)


@bp.get("/windows/<int:window_id>/analysis")
@requires(Capability.ANALYSE_BUYBACK)
def analysis(window_id: int) -> ResponseReturnValue:
    from portal.buyback.analysis import analysis_of, page_context

    found = analysis_of(window_id) or abort(404)
    return render_page(
        "buyback/analysis.html", window=found.window, **page_context(found, request.args)
    )


@bp.get("/windows/<int:window_id>/analysis.csv")
@requires(Capability.ANALYSE_BUYBACK)
def analysis_csv(window_id: int) -> ResponseReturnValue:
    from portal.buyback.analysis import analysis_csv as to_csv
    from portal.buyback.analysis import analysis_of

    found = analysis_of(window_id) or abort(404)
    window = found.window
    filename = f"buy-back-{window.year_label}-{window.cohort.value}.csv"
    return Response(
        to_csv(found),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/years/<int:year>/analysis")
@requires(Capability.ANALYSE_BUYBACK)
def year_analysis(year: int) -> ResponseReturnValue:
    """The year's windows together: maintained schools and academies, against each cost."""
    from portal.buyback.analysis import analyse_year

    found = analyse_year(year) or abort(404)
    return render_page("buyback/year-analysis.html", analysis=found, format_pence=format_pence)
