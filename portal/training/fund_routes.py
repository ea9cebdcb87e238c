"""Training: the views of supply-cover funds, for council administrators (setting a fund
up, its allocation, its claims queue and payment batches). A school's claims and the
decision on each are in claim_routes, registered from here."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from portal import clock
from portal.access import Capability, current_principal, get_fund_or_404, requires
from portal.clock import financial_year, today_in_london
from portal.models import ClaimStatus, FundStatus, PaymentBatch, SupplyFund
from portal.rendering import render_page
from portal.training import (
    allocation,
    bp,
    claim_decisions,
    claim_routes,  # noqa: F401  (its views register on bp)
    funds,
    payments,
)
from portal.training.fund_forms import ButtonForm, ConfirmAllocationForm, FundForm


def _fund(fund_id: int) -> SupplyFund:
    return get_fund_or_404(current_principal(), fund_id)


@bp.get("/funds/")
@requires(Capability.MANAGE_SUPPLY_FUNDS)
def funds_index() -> ResponseReturnValue:
    return render_page("training/funds/index.html", rows=funds.fund_rows())


def _fund_form(fund: SupplyFund | None) -> FundForm:
    form = FundForm()
    form.courses.choices = funds.course_choices()
    if form.is_submitted():
        return form
    if fund is None:
        form.roll_year.data = str(financial_year(today_in_london(clock.now())))
        form.lump_sum.data = "0"
        return form
    form.name.data = fund.name
    form.total.data = f"{fund.total_pence / 100:.2f}"
    form.courses.data = [course.id for course in fund.courses]
    form.covers_from.data = fund.covers_from
    form.covers_to.data = fund.covers_to
    form.claims_close_on.data = fund.claims_close_on
    form.daily_rate.data = f"{fund.daily_rate_pence / 100:.2f}"
    form.half_day_rate.data = f"{fund.half_day_rate_pence / 100:.2f}"
    form.eligibility.data = fund.eligibility.value
    form.lump_sum.data = f"{fund.lump_sum_pence / 100:.2f}"
    form.roll_year.data = str(fund.roll_year)
    form.version.data = str(fund.version)
    return form


@bp.route("/funds/new", methods=["GET", "POST"])
@requires(Capability.MANAGE_SUPPLY_FUNDS)
def new_fund() -> ResponseReturnValue:
    form = _fund_form(None)
    if form.validate_on_submit():
        fund = funds.create_fund(form.details(), current_principal().user)
        flash(f"{fund.name} has been set up. Check its allocation, then confirm it.", "success")
        return redirect(url_for("training.fund", fund_id=fund.id), 303)
    return render_page("training/funds/form.html", form=form, fund=None)


@bp.get("/funds/<int:fund_id>")
@requires(Capability.MANAGE_SUPPLY_FUNDS)
def fund(fund_id: int) -> ResponseReturnValue:
    found = _fund(fund_id)
    waiting_count, waiting_pence = funds.unbatched(found)
    return render_page(
        "training/funds/fund.html",
        row=funds.fund_row(found),
        fund=found,
        batches=funds.batches_of(found),
        unbatched_count=waiting_count,
        unbatched_pence=waiting_pence,
        form=ButtonForm(),
    )


@bp.route("/funds/<int:fund_id>/edit", methods=["GET", "POST"])
@requires(Capability.MANAGE_SUPPLY_FUNDS)
def edit_fund(fund_id: int) -> ResponseReturnValue:
    found = _fund(fund_id)
    if found.status is not FundStatus.DRAFT:
        flash("The fund's allocation has been confirmed, so the fund can no longer change.", "info")
        return redirect(url_for("training.fund", fund_id=found.id), 303)
    form = _fund_form(found)
    if form.validate_on_submit():
        try:
            funds.update_fund(
                found, int(form.version.data or 0), form.details(), current_principal().user
            )
        except funds.FundChanged:
            flash(
                "Someone else changed this fund while you were editing it. "
                "This is the fund as it is now; make your changes again.",
                "info",
            )
            return redirect(url_for("training.edit_fund", fund_id=found.id), 303)
        flash(f"{found.name} has been saved.", "success")
        return redirect(url_for("training.fund", fund_id=found.id), 303)
    return render_page("training/funds/form.html", form=form, fund=found)


@bp.route("/funds/<int:fund_id>/allocation", methods=["GET", "POST"])
@requires(Capability.MANAGE_SUPPLY_FUNDS)
def fund_allocation(fund_id: int) -> ResponseReturnValue:
    """Before confirmation: the allocation the formula gives, per school, to confirm. After:
    the allocation as it was confirmed."""
    found = _fund(fund_id)
    form = ConfirmAllocationForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            confirming = allocation.confirm(
                found, form.fingerprint.data or "", current_principal().user
            )
        except allocation.AllocationRefused:
            confirming = allocation.Confirming.CHANGED
        if confirming is allocation.Confirming.CHANGED:
            flash(
                "The allocation changed while you were reading it (a school or its pupils on "
                "roll). Check the new one before you confirm it.",
                "info",
            )
        elif confirming is allocation.Confirming.CONFIRMED:
            flash("The allocation has been confirmed. Schools can now claim.", "success")
        return redirect(url_for("training.fund_allocation", fund_id=found.id), 303)
    if found.status is not FundStatus.DRAFT:
        return _allocation_page(found, shown=allocation.confirmed(found))
    try:
        shown = allocation.preview(found)
    except allocation.AllocationRefused as refused:
        return _allocation_page(found, shown=None, refused=str(refused))
    form.fingerprint.data = shown.fingerprint
    return _allocation_page(found, shown=shown, form=form)


def _allocation_page(fund: SupplyFund, **context: object) -> str:
    return render_page(
        "training/funds/allocation.html",
        fund=fund,
        exact_pounds=allocation.exact_pounds,
        rounding_text=allocation.rounding_text,
        **context,
    )


@bp.get("/funds/<int:fund_id>/claims")
@requires(Capability.MANAGE_SUPPLY_FUNDS)
def fund_claims(fund_id: int) -> ResponseReturnValue:
    found = _fund(fund_id)
    wanted = request.args.get("status", ClaimStatus.SUBMITTED.value)
    status = ClaimStatus(wanted) if wanted in {s.value for s in ClaimStatus} else None
    return render_page(
        "training/funds/claims.html",
        fund=found,
        claims=claim_decisions.queue(found, status),
        status=status,
        statuses=list(ClaimStatus),
    )


@bp.post("/funds/<int:fund_id>/payment-batch")
@requires(Capability.MANAGE_SUPPLY_FUNDS)
def new_payment_batch(fund_id: int) -> ResponseReturnValue:
    found = _fund(fund_id)
    if ButtonForm().validate_on_submit():
        made = payments.create_batch(found, current_principal().user)
        if made.batch is None:
            flash(made.message, "info")
        else:
            flash(
                f"Payment batch {made.batch.reference} has been made: "
                f"{made.batch.claim_count} claims. Download its CSV for finance.",
                "success",
            )
    return redirect(url_for("training.fund", fund_id=found.id), 303)


def _batch(batch_id: int) -> PaymentBatch:
    # Those who manage funds see every fund, and so every batch.
    return payments.get_batch(batch_id) or abort(404)


@bp.get("/payment-batches/<int:batch_id>.csv")
@requires(Capability.MANAGE_SUPPLY_FUNDS)
def payment_batch_csv(batch_id: int) -> ResponseReturnValue:
    batch = _batch(batch_id)
    return Response(
        payments.batch_csv(batch),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{payments.csv_filename(batch)}"'},
    )


@bp.post("/payment-batches/<int:batch_id>/paid")
@requires(Capability.MANAGE_SUPPLY_FUNDS)
def payment_batch_paid(batch_id: int) -> ResponseReturnValue:
    batch = _batch(batch_id)
    if ButtonForm().validate_on_submit():
        if payments.mark_paid(batch, current_principal().user):
            flash(f"Payment batch {batch.reference} has been marked paid.", "success")
        else:
            flash(f"Payment batch {batch.reference} was already marked paid.", "info")
    return redirect(url_for("training.fund", fund_id=batch.fund_id), 303)
