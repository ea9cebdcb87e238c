"""Training: the views of changes to a booked place (cancelling, answering an offer from the
waiting list, swapping who attends). Thin: each reads its form, calls one workflow function
(cancelling, waiting_list, swapping) and shows what happened, or redirects with 303.

Who may: the booking is found through access.get_booking_or_404 (another school's booking
is not found), then access.may_act_on_booking decides (403 for a colleague who neither made
the booking nor attends it, and does not lead the school).
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue

from portal.access import (
    Capability,
    current_principal,
    get_booking_or_404,
    may_act_on_booking,
    requires,
)
from portal.models import Booking
from portal.pricing import format_pence
from portal.rendering import render_page
from portal.training import bp, cancelling, swapping, waiting_list
from portal.training.changes import Conflict, Done, Refused, standing
from portal.training.changes_forms import AnswerOfferForm, CancelForm, SwapForm

CONFLICT = (
    "Someone else changed this booking just before you did, so nothing was changed. This is"
    " the booking as it is now."
)


def _booking(booking_id: int) -> Booking:
    """The booking, if the signed-in person may change it: 404 outside their schools, 403
    for one of their school's bookings that is not theirs to change."""
    who = current_principal()
    booking = get_booking_or_404(who, booking_id)
    if not may_act_on_booking(who, booking):
        abort(403)
    return booking


# --- cancelling -----------------------------------------------------------------------------


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@requires(Capability.VIEW_TRAINING)
def cancel_booking_page(booking_id: int) -> ResponseReturnValue:
    """Says exactly what cancelling costs now, then cancels; once cancelled, what it cost."""
    booking = _booking(booking_id)
    form = CancelForm()
    problem: str | None = None
    if form.validate_on_submit():
        done = cancelling.cancel_booking(
            current_principal(), booking, form.reason.data, form.seen_charge_pence()
        )
        if isinstance(done, Done):
            charge = done.booking.charge_pence
            cost = f"The school will be charged {format_pence(charge)}." if charge else "No charge."
            flash(f"Booking cancelled. {cost}", "success")
            return redirect(url_for("training.cancel_booking_page", booking_id=booking_id), 303)
        if isinstance(done, Conflict):
            flash(CONFLICT)
            return redirect(url_for("training.cancel_booking_page", booking_id=booking_id), 303)
        problem = done.reason
    quote = cancelling.quote(booking)
    form.seen_charge.data = str(quote.cost.charge_pence)
    return render_page(
        "training/changes/cancel.html",
        bookings_page=url_for("training.booking", booking_id=booking_id),
        booking=booking,
        quote=quote,
        form=form,
        problem=problem,
    )


# --- answering an offer ---------------------------------------------------------------------


@bp.get("/bookings/<int:booking_id>/offer")
@requires(Capability.VIEW_TRAINING)
def offered_place(booking_id: int) -> ResponseReturnValue:
    """An offered place: until when, and buttons to accept or decline; afterwards, where it
    stands (an offer past its expiry is shown lapsed, whether or not it is marked so yet)."""
    booking = _booking(booking_id)
    return render_page(
        "training/changes/offer.html",
        bookings_page=url_for("training.booking", booking_id=booking_id),
        booking=booking,
        standing=standing(booking),
        form=AnswerOfferForm(),
    )


@bp.post("/bookings/<int:booking_id>/offer/accept")
@requires(Capability.VIEW_TRAINING)
def accept_offered_place(booking_id: int) -> ResponseReturnValue:
    booking = _booking(booking_id)
    if AnswerOfferForm().validate_on_submit():
        _say(waiting_list.accept_offer(current_principal(), booking), "Place accepted.")
    return redirect(url_for("training.offered_place", booking_id=booking_id), 303)


@bp.post("/bookings/<int:booking_id>/offer/decline")
@requires(Capability.VIEW_TRAINING)
def decline_offered_place(booking_id: int) -> ResponseReturnValue:
    booking = _booking(booking_id)
    if AnswerOfferForm().validate_on_submit():
        _say(
            waiting_list.decline_offer(current_principal(), booking),
            "Offer declined. The place goes to the next person on the waiting list; there is"
            " no charge.",
        )
    return redirect(url_for("training.offered_place", booking_id=booking_id), 303)


def _say(outcome: Done | Refused | Conflict, done_message: str) -> None:
    """What happened, for the page the person is sent back to."""
    if isinstance(outcome, Done):
        flash(done_message, "success")
    elif isinstance(outcome, Refused):
        flash(outcome.reason + ".")
    else:
        flash(CONFLICT)


# --- swapping who attends -------------------------------------------------------------------


@bp.route("/bookings/<int:booking_id>/swap", methods=["GET", "POST"])
@requires(Capability.VIEW_TRAINING)
def swap_attendee_page(booking_id: int) -> ResponseReturnValue:
    booking = _booking(booking_id)
    form = SwapForm()
    problem: str | None = None
    if form.validate_on_submit():
        previous = booking.attendee_name
        new = swapping.NewAttendee(
            name=form.name.data or "",
            email=form.email.data or "",
            job_title=form.job_title.data or "",
        )
        done = swapping.swap_attendee(current_principal(), booking, new)
        if isinstance(done, Done):
            flash(
                f"{new.name} now attends instead of {previous}. We have e-mailed them both.",
                "success",
            )
            return redirect(url_for("training.swap_attendee_page", booking_id=booking_id), 303)
        if isinstance(done, Conflict):
            flash(CONFLICT)
            return redirect(url_for("training.swap_attendee_page", booking_id=booking_id), 303)
        if isinstance(done, swapping.AlreadyBooked):
            form.email.errors = [*form.email.errors, done.message]
        else:
            problem = done.reason
    return render_page(
        "training/changes/swap.html",
        bookings_page=url_for("training.booking", booking_id=booking_id),
        booking=booking,
        form=form,
        problem=problem,
        standing=standing(booking),
    )
