"""Training: what the attendee of a booking does with it: their calendar file, the
evaluation after attending, and the certificate that follows it."""

from __future__ import annotations

from flask import Response, flash, redirect, url_for
from flask.typing import ResponseReturnValue

from portal.access import Capability, current_principal, requires
from portal.rendering import render_page
from portal.training import bp
from portal.training.calendar_file import CONTENT_TYPE, calendar_download
from portal.training.certificate import certificate_page
from portal.training.evaluation import Answers, Standing, open_evaluation, submit_evaluation
from portal.training.evaluation_forms import EvaluationForm


@bp.get("/bookings/<int:booking_id>/calendar.ics")
@requires(Capability.VIEW_TRAINING)
def calendar_file(booking_id: int) -> ResponseReturnValue:
    download = calendar_download(current_principal(), booking_id)
    return Response(
        download.text,
        mimetype=CONTENT_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
    )


@bp.route("/bookings/<int:booking_id>/evaluation", methods=["GET", "POST"])
@requires(Capability.BOOK_TRAINING)
def evaluation(booking_id: int) -> ResponseReturnValue:
    who = current_principal()
    page = open_evaluation(who, booking_id)
    if page.standing is Standing.DONE:
        return redirect(url_for("training.certificate", booking_id=booking_id), 303)
    form = EvaluationForm()
    if page.standing is Standing.OPEN and form.validate_on_submit():
        answers = Answers(
            overall=int(form.overall.data),
            met_outcomes=int(form.met_outcomes.data),
            will_use=form.will_use.data or "",
            comments=form.comments.data or "",
        )
        submit_evaluation(who, booking_id, answers)
        flash("Thank you: your evaluation has been sent.", "success")
        return redirect(url_for("training.certificate", booking_id=booking_id), 303)
    return render_page("training/attendee/evaluation.html", page=page, form=form)


@bp.get("/bookings/<int:booking_id>/certificate")
@requires(Capability.VIEW_TRAINING)
def certificate(booking_id: int) -> ResponseReturnValue:
    page = certificate_page(current_principal(), booking_id)
    return render_page("training/attendee/certificate.html", page=page)
