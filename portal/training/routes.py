"""Training for schools: finding courses, a course's page, booking a place, a school's
bookings and their approval, and who approves them. Each view reads its request, calls one
function of the training capability, and renders or redirects."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from portal.access import Capability, current_principal, requires
from portal.forms import new_submission_key
from portal.models import Approver, BookingStatus, StaffLevel
from portal.numbers import record_id
from portal.rendering import render_page
from portal.training import bp
from portal.training.approval import Decided, approve, refuse
from portal.training.booking import (
    AlreadyBooked,
    Attendee,
    Booked,
    Busy,
    Closed,
    Full,
    book_place,
    booking_form,
)
from portal.training.bookings_list import BookingsFilter, booking_page, school_bookings
from portal.training.course_page import course_page
from portal.training.finding import TrainingSearch, find_sessions
from portal.training.forms import (
    COLLEAGUE,
    ApprovalSettingsForm,
    ApproveForm,
    BookingForm,
    RefuseForm,
)
from portal.training.school_settings import save_settings, settings_page


@bp.get("/")
@requires(Capability.VIEW_TRAINING)
def index() -> ResponseReturnValue:
    found = find_sessions(current_principal(), TrainingSearch.from_args(request.args))
    return render_page(
        "training/index.html", fragment="results", found=found, staff_levels=list(StaffLevel)
    )


@bp.get("/courses/<int:course_id>")
@requires(Capability.VIEW_TRAINING)
def course(course_id: int) -> ResponseReturnValue:
    shown = course_page(current_principal(), course_id, record_id(request.args.get("school")))
    return render_page("training/course.html", shown=shown)


@bp.route("/sessions/<int:session_id>/book", methods=["GET", "POST"])
@requires(Capability.BOOK_TRAINING)
def book(session_id: int) -> ResponseReturnValue:
    who = current_principal()
    chosen = record_id(request.values.get("school"))
    shown = booking_form(who, session_id, chosen)
    form = BookingForm(shown.schools)
    if not form.is_submitted():
        form.submission_key.data = new_submission_key()
        if shown.school is not None:
            form.school.data = str(shown.school.id)
    full = False
    if shown.open and form.validate_on_submit():
        if form.for_whom.data == COLLEAGUE:
            attendee = Attendee(form.name.data, form.email.data, form.job_title.data)
        else:
            attendee = Attendee(who.person.display_name, who.person.email, "", who.person.id)
        outcome = book_place(
            who,
            session_id,
            form.school_id(),
            attendee,
            form.submission_key.data or "",
            join_waiting_list=form.waiting_list.data == "1",
        )
        if isinstance(outcome, Booked):
            return redirect(url_for("training.booking", booking_id=outcome.booking_id), 303)
        if isinstance(outcome, AlreadyBooked):
            flash(f"{attendee.name} already has a booking on this session.", "success")
            return redirect(url_for("training.booking", booking_id=outcome.booking_id), 303)
        if isinstance(outcome, Closed):
            shown = booking_form(who, session_id, chosen)
        elif isinstance(outcome, Busy):
            form.form_errors.append("The portal was busy. Please send the form again.")
        full = isinstance(outcome, Full)
    return render_page(
        "training/book.html", shown=shown, form=form, full=full or shown.session.places_left <= 0
    )


@bp.get("/bookings")
@requires(Capability.BOOK_TRAINING)
def bookings() -> ResponseReturnValue:
    listed = school_bookings(current_principal(), BookingsFilter.from_args(request.args))
    return render_page(
        "training/bookings.html", fragment="results", listed=listed, statuses=list(BookingStatus)
    )


@bp.get("/bookings/<int:booking_id>")
@requires(Capability.VIEW_TRAINING)
def booking(booking_id: int) -> ResponseReturnValue:
    shown = booking_page(current_principal(), booking_id)
    return render_page(
        "training/booking.html", shown=shown, approve_form=ApproveForm(), refuse_form=RefuseForm()
    )


@bp.post("/bookings/<int:booking_id>/approve")
@requires(Capability.BOOK_TRAINING)
def approve_booking(booking_id: int) -> ResponseReturnValue:
    if ApproveForm().validate_on_submit():
        decided = approve(current_principal(), booking_id)
        if isinstance(decided, Decided):
            flash("The place is approved and confirmed.", "success")
        else:
            flash(f"This booking no longer waits for approval: {decided.status.label}.", "success")
    return redirect(url_for("training.booking", booking_id=booking_id), 303)


@bp.route("/bookings/<int:booking_id>/refuse", methods=["GET", "POST"])
@requires(Capability.BOOK_TRAINING)
def refuse_booking(booking_id: int) -> ResponseReturnValue:
    shown = booking_page(current_principal(), booking_id)
    if not shown.may_decide:
        # Answered already, or not theirs to answer: the booking shows where it stands.
        return redirect(url_for("training.booking", booking_id=booking_id), 303)
    form = RefuseForm()
    if form.validate_on_submit():
        decided = refuse(current_principal(), booking_id, form.reason.data or "")
        if isinstance(decided, Decided):
            flash("The place is refused, and the person booked is told why.", "success")
        else:
            flash(f"This booking no longer waits for approval: {decided.status.label}.", "success")
        return redirect(url_for("training.booking", booking_id=booking_id), 303)
    return render_page("training/refuse.html", shown=shown, form=form)


@bp.route("/settings", methods=["GET", "POST"])
@requires(Capability.SET_TRAINING_APPROVAL)
def settings() -> ResponseReturnValue:
    who = current_principal()
    shown = settings_page(who, record_id(request.values.get("school")))
    form = ApprovalSettingsForm(shown.staff)
    if not form.is_submitted():
        form.approver.data = shown.approver.value
        form.training_lead.data = str(shown.training_lead_id or "")
    if form.validate_on_submit():
        save_settings(who, shown.school.id, Approver(form.approver.data), form.lead_id())
        flash(f"Saved who approves {shown.school.name}'s training bookings.", "success")
        return redirect(url_for("training.settings", school=shown.school.id), 303)
    return render_page("training/settings.html", shown=shown, form=form)
