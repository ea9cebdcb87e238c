"""The training coordinator's views (MANAGE_TRAINING): courses, their sessions, and each
session's bookings, waiting list and register, under /training/manage/.

Each view reads its form, calls one function of courses, sessions or register, and renders
or redirects with 303.
"""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from portal.access import (
    Capability,
    current_principal,
    get_course_or_404,
    get_course_session_or_404,
    requires,
)
from portal.models import Attendance, CourseStatus
from portal.numbers import record_id, whole_number
from portal.rendering import render_page
from portal.training import bp, courses, register, sessions
from portal.training.manage_forms import (
    CancelSessionForm,
    ConfirmForm,
    CourseForm,
    RegisterForm,
    SessionForm,
)

CHANGED_MEANWHILE = (
    "Someone else changed this {0} while you were editing it. It is shown below as it is "
    "now: make your changes again."
)


@bp.get("/manage/")
@requires(Capability.MANAGE_TRAINING)
def manage_courses() -> ResponseReturnValue:
    wanted = request.args.get("status", "")
    status = CourseStatus(wanted) if wanted in CourseStatus._value2member_map_ else None
    page = courses.course_list(status, request.args.get("page", 1, type=int) or 1)
    return render_page(
        "training/manage/index.html",
        # Choosing a status with htmx swaps in only the list.
        fragment="courses",
        page=page,
        status=status,
        status_items=[{"value": "", "text": "Every course", "selected": status is None}]
        + [{"value": s.value, "text": s.label, "selected": s is status} for s in CourseStatus],
    )


@bp.route("/manage/courses/new", methods=["GET", "POST"])
@requires(Capability.MANAGE_TRAINING)
def manage_new_course() -> ResponseReturnValue:
    form = CourseForm(courses.traded_services())
    if form.validate_on_submit():
        course = courses.create_course(form.details(), current_principal().user)
        flash(
            f"{course.title} has been added as a draft. Add its sessions, then publish it.",
            "success",
        )
        return redirect(url_for("training.manage_course", course_id=course.id), 303)
    return render_page("training/manage/course-form.html", form=form, course=None)


@bp.get("/manage/courses/<int:course_id>")
@requires(Capability.MANAGE_TRAINING)
def manage_course(course_id: int) -> ResponseReturnValue:
    course = get_course_or_404(current_principal(), course_id)
    return render_page(
        "training/manage/course.html",
        course=course,
        sessions=courses.course_sessions(course),
    )


@bp.route("/manage/courses/<int:course_id>/edit", methods=["GET", "POST"])
@requires(Capability.MANAGE_TRAINING)
def manage_edit_course(course_id: int) -> ResponseReturnValue:
    course = get_course_or_404(current_principal(), course_id)
    form = CourseForm(courses.traded_services(), data=CourseForm.data_of(course))
    conflict = False
    if form.validate_on_submit():
        outcome = courses.update_course(
            course, form.details(), current_principal().user, whole_number(form.version.data) or 0
        )
        if isinstance(outcome, courses.CourseSaved):
            flash(f"{course.title} has been saved.", "success")
            return redirect(url_for("training.manage_course", course_id=course.id), 303)
        conflict = True
        form = CourseForm(
            courses.traded_services(), formdata=None, data=CourseForm.data_of(outcome.course)
        )
    return render_page(
        "training/manage/course-form.html",
        form=form,
        course=course,
        conflict=CHANGED_MEANWHILE.format("course") if conflict else "",
    )


def _status_change(course_id: int, publishing: bool) -> ResponseReturnValue:
    course = get_course_or_404(current_principal(), course_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        change = courses.publish if publishing else courses.withdraw
        outcome = change(course, current_principal().user)
        if publishing:
            flash(f"{course.title} is published: schools can find and book it now.", "success")
        else:
            flash(f"{course.title} has been withdrawn: schools no longer find it.", "success")
        return redirect(url_for("training.manage_course", course_id=outcome.course.id), 303)
    return render_page(
        "training/manage/confirm.html", form=form, course=course, publishing=publishing
    )


@bp.route("/manage/courses/<int:course_id>/publish", methods=["GET", "POST"])
@requires(Capability.MANAGE_TRAINING)
def manage_publish_course(course_id: int) -> ResponseReturnValue:
    return _status_change(course_id, publishing=True)


@bp.route("/manage/courses/<int:course_id>/withdraw", methods=["GET", "POST"])
@requires(Capability.MANAGE_TRAINING)
def manage_withdraw_course(course_id: int) -> ResponseReturnValue:
    return _status_change(course_id, publishing=False)


# --- sessions ---------------------------------------------------------------------------------


def _refuse(form: SessionForm, refused: sessions.SessionRefused) -> str:
    """Put a refusal beside its field; one about the whole session goes in the summary."""
    if refused.field is not None:
        form[refused.field].errors = [*form[refused.field].errors, refused.reason]
        return ""
    return refused.reason


@bp.route("/manage/courses/<int:course_id>/sessions/new", methods=["GET", "POST"])
@requires(Capability.MANAGE_TRAINING)
def manage_new_session(course_id: int) -> ResponseReturnValue:
    course = get_course_or_404(current_principal(), course_id)
    form = SessionForm(sessions.council_areas())
    problem = ""
    if form.validate_on_submit():
        outcome = sessions.create_session(course, form.details(), current_principal().user)
        if isinstance(outcome, sessions.SessionSaved):
            flash("The session has been added.", "success")
            return redirect(url_for("training.manage_session", session_id=outcome.session.id), 303)
        problem = _refuse(form, outcome)
    return render_page(
        "training/manage/session-form.html", form=form, course=course, session=None, problem=problem
    )


@bp.route("/manage/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@requires(Capability.MANAGE_TRAINING)
def manage_edit_session(session_id: int) -> ResponseReturnValue:
    found = get_course_session_or_404(current_principal(), session_id)
    areas = sessions.council_areas()
    form = SessionForm(areas, data=SessionForm.data_of(found))
    problem = ""
    if form.validate_on_submit():
        outcome = sessions.update_session(
            found, form.details(), current_principal().user, whole_number(form.version.data) or 0
        )
        if isinstance(outcome, sessions.SessionSaved):
            if outcome.moved:
                flash(f"The session has been moved. {_told(outcome.told)}", "success")
            else:
                flash("The session has been saved.", "success")
            return redirect(url_for("training.manage_session", session_id=found.id), 303)
        if isinstance(outcome, sessions.SessionConflict):
            problem = CHANGED_MEANWHILE.format("session")
            form = SessionForm(areas, formdata=None, data=SessionForm.data_of(outcome.session))
        else:
            problem = _refuse(form, outcome)
    return render_page(
        "training/manage/session-form.html",
        form=form,
        course=found.course,
        session=found,
        problem=problem,
    )


def _told(count: int) -> str:
    if count == 0:
        return "Nobody was booked, so nobody needed telling."
    if count == 1:
        return "The 1 person booked or waiting has been e-mailed."
    return f"The {count} people booked or waiting have been e-mailed."


@bp.route("/manage/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@requires(Capability.MANAGE_TRAINING)
def manage_cancel_session(session_id: int) -> ResponseReturnValue:
    found = get_course_session_or_404(current_principal(), session_id)
    form = CancelSessionForm()
    problem = ""
    if form.validate_on_submit():
        outcome = sessions.cancel_session(found, form.reason.data or "", current_principal().user)
        if isinstance(outcome, sessions.SessionCancelled):
            flash(f"The session has been cancelled. {_told(outcome.told)}", "success")
            return redirect(url_for("training.manage_session", session_id=found.id), 303)
        if isinstance(outcome, sessions.SessionConflict):
            problem = "Someone changed this session or its bookings meanwhile: try again."
        else:
            problem = outcome.reason
    return render_page(
        "training/manage/cancel.html",
        form=form,
        session=found,
        course=found.course,
        booked=sessions.live_bookings(found),
        problem=problem,
        place=sessions.place_of(found),
    )


# --- a session's bookings and register ---------------------------------------------------------


def _session_page(
    session_id: int, form: RegisterForm, problem: str = "", unmarked: tuple[int, ...] = ()
) -> str:
    found = get_course_session_or_404(current_principal(), session_id)
    return render_page(
        "training/manage/session.html",
        shown=register.session_bookings(found),
        session=found,
        course=found.course,
        place=sessions.place_of(found),
        form=form,
        problem=problem,
        unmarked=unmarked,
        marks=request.form if request.method == "POST" else {},
    )


@bp.get("/manage/sessions/<int:session_id>")
@requires(Capability.MANAGE_TRAINING)
def manage_session(session_id: int) -> ResponseReturnValue:
    return _session_page(session_id, RegisterForm())


@bp.post("/manage/sessions/<int:session_id>/register")
@requires(Capability.MANAGE_TRAINING)
def manage_register(session_id: int) -> ResponseReturnValue:
    found = get_course_session_or_404(current_principal(), session_id)
    form = RegisterForm()
    if not form.validate_on_submit():
        return _session_page(session_id, form, "The form had expired: send it again.")
    marks = {}
    for name, value in request.form.items():
        booking_id = record_id(name.removeprefix("attendance-"))
        if (
            name.startswith("attendance-")
            and booking_id is not None
            and value in Attendance._value2member_map_
        ):
            marks[booking_id] = Attendance(value)
    outcome = register.take_register(found, marks, current_principal().user)
    if isinstance(outcome, register.RegisterTaken):
        flash(
            f"The register has been saved: {outcome.attended} attended, "
            f"{outcome.absent} did not attend.",
            "success",
        )
        return redirect(url_for("training.manage_session", session_id=found.id), 303)
    if isinstance(outcome, register.RegisterConflict):
        return _session_page(session_id, form, "A booking changed meanwhile: check and save again.")
    return _session_page(session_id, form, outcome.reason, outcome.unmarked)


@bp.get("/manage/sessions/<int:session_id>/register.csv")
@requires(Capability.MANAGE_TRAINING)
def manage_register_csv(session_id: int) -> ResponseReturnValue:
    found = get_course_session_or_404(current_principal(), session_id)
    filename = f"register-session-{found.id}.csv"
    return Response(
        register.register_csv(found),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
