"""Training: the views of supply-cover claims: a school's balance and claims, making a claim
with its evidence, a claim's page, its evidence, and the council's decision on it.
(Registered on the blueprint by fund_routes.)"""

from __future__ import annotations

from flask import abort, flash, redirect, request, send_file, url_for
from flask.typing import ResponseReturnValue

from portal.access import Capability, current_principal, get_claim_or_404, requires
from portal.clock import long_date
from portal.forms import new_submission_key
from portal.models import Booking, SupplyClaim
from portal.numbers import record_id
from portal.pricing import parse_pounds
from portal.rendering import render_page
from portal.training import bp, claim_decisions, claims, evidence
from portal.training.fund_forms import ClaimForm, DecisionForm, half_days


@bp.get("/supply")
@requires(Capability.CLAIM_SUPPLY_COVER)
def supply() -> ResponseReturnValue:
    who = current_principal()
    return render_page(
        "training/funds/supply.html",
        balances=claims.balances(who),
        claims=claims.school_claims(who),
        days_text=claim_decisions.days_text,
    )


def _booking_label(booking: Booking) -> str:
    session = booking.session
    return (
        f"{session.course.title}, {long_date(claims.session_day(session))}: "
        f"{booking.attendee_name} ({booking.school.name})"
    )


@bp.route("/supply/claims/new", methods=["GET", "POST"])
@requires(Capability.CLAIM_SUPPLY_COVER)
def new_claim() -> ResponseReturnValue:
    who = current_principal()
    form = ClaimForm()
    choices = claims.claim_choices(who)
    open_funds, bookings = choices.funds, choices.bookings
    form.fund.choices = [("", "Choose a fund")] + [
        (str(fund.id), f"{fund.name} (claims close {long_date(fund.claims_close_on)})")
        for fund in open_funds
    ]
    form.booking.choices = [("", "Choose a session")] + [
        (str(booking.id), _booking_label(booking)) for booking in bookings
    ]
    if not form.is_submitted():
        form.submission_key.data = new_submission_key()
        if len(open_funds) == 1:
            form.fund.data = str(open_funds[0].id)
        if request.args.get("booking"):
            form.booking.data = request.args["booking"]
    elif form.validate_on_submit():
        submitted = claims.submit_claim(
            who,
            claims.ClaimDetails(
                fund_id=record_id(form.fund.data),
                booking_id=record_id(form.booking.data),
                half_days=half_days(form.days.data) or 0,
                cost_pence=parse_pounds(form.cost.data or ""),
                agency_reference=form.agency_reference.data or "",
                submission_key=form.submission_key.data or new_submission_key(),
            ),
            request.files.get(form.evidence.name),
            current_principal().user,
        )
        if submitted.claim is not None:
            flash(
                f"Your claim has been sent (claim {submitted.claim.id}). "
                "The council will decide on it and e-mail you.",
                "success",
            )
            return redirect(url_for("training.claim", claim_id=submitted.claim.id), 303)
        for name, message in submitted.errors.items():
            getattr(form, name).errors = [message]
    else:
        # The file is checked even when another field is wrong, so that every problem is
        # said at once.
        try:
            evidence.check(request.files.get(form.evidence.name))
        except evidence.EvidenceRefused as refused:
            form.evidence.errors = [str(refused)]
    return render_page(
        "training/funds/claim-form.html",
        form=form,
        open_funds=open_funds,
        bookings=bookings,
        max_mb=evidence.MAX_EVIDENCE_MB,
    )


def _claim(claim_id: int) -> SupplyClaim:
    return get_claim_or_404(current_principal(), claim_id)


def _claim_page(claim: SupplyClaim, form: DecisionForm, **context: object) -> str:
    return render_page(
        "training/funds/claim.html",
        page=claim_decisions.claim_page(claim),
        claim=claim,
        form=form,
        session_day=long_date(claims.session_day(claim.booking.session)),
        days_text=claim_decisions.days_text,
        **context,
    )


@bp.get("/claims/<int:claim_id>")
@requires()
def claim(claim_id: int) -> ResponseReturnValue:
    return _claim_page(_claim(claim_id), DecisionForm(formdata=None))


@bp.post("/claims/<int:claim_id>/decision")
@requires(Capability.MANAGE_SUPPLY_FUNDS)
def decide_claim(claim_id: int) -> ResponseReturnValue:
    found = _claim(claim_id)
    form = DecisionForm()
    if form.validate_on_submit():
        decided = claim_decisions.decide(
            found,
            claim_decisions.Decision(
                verdict=claim_decisions.Verdict(form.verdict.data),
                amount_pence=form.amount_pence(),
                reason=form.reason.data or "",
            ),
            current_principal().user,
        )
        if decided.already:
            flash("This claim had already been decided. This is the decision.", "info")
            return redirect(url_for("training.claim", claim_id=found.id), 303)
        if not decided.errors:
            flash(f"Claim {found.id}: {found.status.label}. The school has been told.", "success")
            return redirect(url_for("training.fund_claims", fund_id=found.fund_id), 303)
        for name, message in decided.errors.items():
            getattr(form, name).errors = [message]
    return _claim_page(found, form)


@bp.get("/claims/<int:claim_id>/evidence")
@requires()
def claim_evidence(claim_id: int) -> ResponseReturnValue:
    found = _claim(claim_id)
    path = evidence.path_of(found.evidence_path)
    if path is None:
        abort(404)
    response = send_file(
        path,
        mimetype=found.evidence_type,
        as_attachment=True,
        download_name=found.evidence_filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
