"""Services for schools: the catalogue, each service's page, and publishing.

Longer than most views modules: twelve views, each a form read, one call to the catalogue,
service_page or publishing, and a page or a redirect.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from portal.access import (
    Capability,
    current_principal,
    get_price_preview_school_or_404,
    price_preview_schools,
    requires,
    visible_school_list,
)
from portal.clock import financial_year, financial_year_label, today_in_london
from portal.models import (
    Eligibility,
    OfferStatus,
    PriceOption,
    School,
    Service,
    ServiceKind,
    ServiceOffer,
    TradingDecision,
)
from portal.numbers import record_id
from portal.pricing import PriceRule, format_pence, plural
from portal.rendering import render_page
from portal.services import bp, catalogue, display, publishing, service_page
from portal.services.display import describe
from portal.services.forms import (
    CopyYearForm,
    OfferForm,
    OptionForm,
    PublishDraftsForm,
    ServiceForm,
    option_form_data,
)
from portal.services.offers import rule_of


def _year(args: Any, years: Sequence[catalogue.OfferYear]) -> catalogue.OfferYear:
    """The year asked for; otherwise the latest that schools can see, as they would."""
    wanted = args.get("year", type=record_id)
    for offer_year in years:
        if offer_year.year == wanted:
            return offer_year
    return next(
        (y for y in years if y.published),
        years[0] if years else catalogue.OfferYear(financial_year(today_in_london()), 0, 0),
    )


def _schools_for_prices() -> list[School]:
    """The schools whose prices this person may see: their own, or for council staff any."""
    who = current_principal()
    if who.has_council_view:
        return []
    return visible_school_list(who)


def _chosen_school(schools: list[School]) -> School | None:
    """The school prices are shown for: chosen from the person's schools, or a preview."""
    wanted = request.args.get("school", type=record_id)
    if schools:
        return next((s for s in schools if s.id == wanted), schools[0])
    if wanted:
        return get_price_preview_school_or_404(current_principal(), wanted)
    return None


@bp.get("/")
@requires(Capability.VIEW_SERVICES)
def index() -> ResponseReturnValue:
    years, categories = catalogue.catalogue_choices(current_principal())
    chosen = _year(request.args, years)
    year = chosen.year
    schools = _schools_for_prices()
    school = _chosen_school(schools)
    kinds = tuple(
        ServiceKind(k) for k in request.args.getlist("kind") if k in ServiceKind._value2member_map_
    )
    only_mine = request.args.get("available") == "1" and school is not None
    criteria = catalogue.CatalogueFilter(
        year=year,
        category_id=request.args.get("category", type=record_id),
        kinds=kinds,
        available_to=school if only_mine else None,
        query=request.args.get("q", "").strip()[:100],
        page=request.args.get("page", 1, type=int) or 1,
    )
    page = catalogue.catalogue(criteria, prices_for=school)
    prices = catalogue.school_prices(page.items, school, year) if school else {}
    return render_page(
        "services/index.html",
        fragment="results",
        year_items=[
            {"value": str(y.year), "text": financial_year_label(y.year), "selected": y.year == year}
            for y in years
        ],
        category_items=[{"value": "", "text": "All categories"}]
        + [
            {"value": str(c.id), "text": c.name, "selected": c.id == criteria.category_id}
            for c in categories
        ],
        kind_items=[
            {"value": k.value, "text": k.label, "checked": k in kinds} for k in ServiceKind
        ],
        school_items=[
            {
                "value": str(s.id),
                "text": s.name,
                "selected": school is not None and s.id == school.id,
            }
            for s in schools
        ],
        page=page,
        criteria=criteria,
        years=years,
        year_label=financial_year_label(year),
        drafts_in_year=chosen.drafts,
        school=school,
        schools=schools,
        prices=prices,
        catalogue_items=display.catalogue_items,
        only_mine=only_mine,
    )


@bp.get("/<int:service_id>")
@requires(Capability.VIEW_SERVICES)
def show(service_id: int) -> ResponseReturnValue:
    schools = _schools_for_prices()
    school = _chosen_school(schools)
    shown = service_page.service_page(
        current_principal(),
        service_id,
        school,
        year=request.args.get("year", type=record_id),
        preview=request.args.get("preview") == "1",
    )
    if shown is None:
        abort(404)
    service, offer, year = shown.service, shown.offer, shown.year
    return render_page(
        "services/show.html",
        service=service,
        offer=offer,
        year=year,
        years=shown.years,
        school=school,
        schools=schools,
        prices=shown.prices,
        changes=shown.changes,
        last_year_label=financial_year_label(year - 1) if year else "",
        descriptions={o.id: describe(rule_of(o, offer.vat_applies)) for o in offer.options}
        if offer
        else {},
        format_pence=format_pence,
        preview=shown.preview,
        school_items=[
            {
                "value": str(s.id),
                "text": s.name,
                "selected": school is not None and s.id == school.id,
            }
            for s in schools
        ],
        preview_items=[
            {
                "value": str(s.id),
                "text": s.name,
                "selected": school is not None and s.id == school.id,
            }
            for s in price_preview_schools(current_principal())
        ],
        eligible_text=", ".join(Eligibility(e).label for e in service.eligible) or "All schools",
        email_link=Markup('<a class="govuk-link" href="mailto:{0}">{0}</a>').format(
            service.contact_email
        ),
    )


# --- publishing ---------------------------------------------------------------------------------


def _service_or_404(service_id: int) -> Service:
    return service_page.get_service(service_id) or abort(404)


@bp.route("/new", methods=["GET", "POST"])
@requires(Capability.EDIT_SERVICES)
def new() -> ResponseReturnValue:
    form = ServiceForm(list(catalogue.categories()))
    if form.validate_on_submit():
        service = publishing.save_service(None, form.details(), current_principal().user)
        flash(f"{service.name} has been added. Now draft its offer for a year.", "success")
        return redirect(url_for("services.manage", service_id=service.id), 303)
    return render_page("services/form.html", form=form, service=None)


@bp.route("/<int:service_id>/edit", methods=["GET", "POST"])
@requires(Capability.EDIT_SERVICES)
def edit(service_id: int) -> ResponseReturnValue:
    service = _service_or_404(service_id)
    form = ServiceForm(list(catalogue.categories()), obj=service)
    if not form.is_submitted():
        form.category.data = str(service.category_id)
        form.kind.data = service.kind.value
    if form.validate_on_submit():
        publishing.save_service(service, form.details(), current_principal().user)
        flash(f"{service.name} has been updated.", "success")
        return redirect(url_for("services.manage", service_id=service.id), 303)
    return render_page("services/form.html", form=form, service=service)


@bp.route("/<int:service_id>/offers", methods=["GET", "POST"])
@requires(Capability.EDIT_SERVICES)
def manage(service_id: int) -> ResponseReturnValue:
    """A service's offers, year by year, for its publisher."""
    service = _service_or_404(service_id)
    if request.method == "POST":
        year = request.form.get("year", type=record_id)
        if year is None or not 2000 <= year <= 2100:
            flash("Choose a financial year to draft", "error")
        else:
            publishing.start_offer(service, year, current_principal().user)
            return redirect(url_for("services.offer", service_id=service.id, year=year), 303)
    next_year = max([o.year for o in service.offers], default=financial_year(today_in_london())) + 1
    return render_page(
        "services/manage.html",
        service=service,
        next_year=next_year,
        next_year_label=financial_year_label(next_year),
    )


def _offer_or_404(service: Service, year: int) -> ServiceOffer:
    offer = service_page.offer_for(service, year, include_drafts=True)
    return offer or abort(404)


@bp.route("/<int:service_id>/offers/<int:year>", methods=["GET", "POST"])
@requires(Capability.EDIT_SERVICES)
def offer(service_id: int, year: int) -> ResponseReturnValue:
    service = _service_or_404(service_id)
    the_offer = _offer_or_404(service, year)
    form = OfferForm(
        data={"decision": the_offer.decision.value, "vat": "yes" if the_offer.vat_applies else "no"}
    )
    if form.validate_on_submit():
        try:
            publishing.update_offer(
                the_offer,
                TradingDecision(form.decision.data),
                form.vat.data == "yes",
                current_principal().user,
            )
        except publishing.PublishingError as error:
            form.vat.errors = [*form.vat.errors, str(error)]
        else:
            flash("The offer has been saved.", "success")
            return redirect(url_for("services.offer", service_id=service.id, year=year), 303)
    return render_page(
        "services/offer.html",
        service=service,
        offer=the_offer,
        form=form,
        problems=publishing.problems(the_offer),
        descriptions={
            o.id: describe(PriceRule.from_option(o, vat=the_offer.vat_applies))
            for o in the_offer.options
        },
    )


@bp.route("/<int:service_id>/offers/<int:year>/options/new", methods=["GET", "POST"])
@bp.route("/<int:service_id>/offers/<int:year>/options/<int:option_id>", methods=["GET", "POST"])
@requires(Capability.EDIT_SERVICES)
def option(service_id: int, year: int, option_id: int | None = None) -> ResponseReturnValue:
    service = _service_or_404(service_id)
    the_offer = _offer_or_404(service, year)
    existing = None
    if option_id is not None:
        existing = next((o for o in the_offer.options if o.id == option_id), None) or abort(404)
    if the_offer.status is OfferStatus.PUBLISHED:
        flash("Withdraw the offer before changing its prices.", "error")
        return redirect(url_for("services.offer", service_id=service.id, year=year), 303)
    form = OptionForm(data=option_form_data(existing) if existing else None)
    if form.saving() and form.validate_on_submit():
        details = form.details()
        if details is not None:
            publishing.save_option(the_offer, existing, details, current_principal().user)
            flash(f"The price option “{details.name}” has been saved.", "success")
            return redirect(url_for("services.offer", service_id=service.id, year=year), 303)
    fields = form.show_basis()
    return render_page(
        "services/option.html",
        # Choosing a basis with htmx swaps in only its fields.
        fragment="basis_fields",
        service=service,
        offer=the_offer,
        form=form,
        option=existing,
        fields=[field.name for field in fields],
    )


@bp.post("/<int:service_id>/offers/<int:year>/options/<int:option_id>/delete")
@requires(Capability.EDIT_SERVICES)
def delete_option(service_id: int, year: int, option_id: int) -> ResponseReturnValue:
    service = _service_or_404(service_id)
    the_offer = _offer_or_404(service, year)
    found: PriceOption = next((o for o in the_offer.options if o.id == option_id), None) or abort(
        404
    )
    try:
        publishing.delete_option(the_offer, found, current_principal().user)
        flash(f"The price option “{found.name}” has been removed.", "success")
    except publishing.PublishingError as error:
        flash(str(error), "error")
    return redirect(url_for("services.offer", service_id=service.id, year=year), 303)


@bp.post("/<int:service_id>/offers/<int:year>/publish")
@requires(Capability.EDIT_SERVICES)
def publish(service_id: int, year: int) -> ResponseReturnValue:
    service = _service_or_404(service_id)
    the_offer = _offer_or_404(service, year)
    try:
        publishing.publish(the_offer, current_principal().user)
        flash(
            f"{service.name} is published for {the_offer.year_label}. Schools can see it now.",
            "success",
        )
    except publishing.PublishingError as error:
        flash(f"Not published: {error}", "error")
    return redirect(url_for("services.offer", service_id=service.id, year=year), 303)


@bp.post("/<int:service_id>/offers/<int:year>/withdraw")
@requires(Capability.EDIT_SERVICES)
def withdraw(service_id: int, year: int) -> ResponseReturnValue:
    service = _service_or_404(service_id)
    the_offer = _offer_or_404(service, year)
    publishing.withdraw(the_offer, current_principal().user)
    flash(f"{service.name} has been withdrawn for {the_offer.year_label}.", "success")
    return redirect(url_for("services.offer", service_id=service.id, year=year), 303)


@bp.route("/copy-year", methods=["GET", "POST"])
@requires(Capability.EDIT_SERVICES)
def copy_year() -> ResponseReturnValue:
    years = catalogue.published_years()
    form = CopyYearForm()
    form.from_year.choices = [SelectChoice(str(y), financial_year_label(y)) for y in years]
    if form.validate_on_submit():
        from_year = int(form.from_year.data)
        drafted = publishing.copy_year(
            from_year, Decimal(form.uplift.data), current_principal().user
        )
        next_label = financial_year_label(from_year + 1)
        flash(
            f"{plural(drafted, 'offer')} drafted for {next_label}. "
            "Check them below, then publish them.",
            "success",
        )
        return redirect(url_for("services.drafts", year=from_year + 1), 303)
    return render_page("services/copy-year.html", form=form)


@bp.route("/drafts", methods=["GET", "POST"])
@requires(Capability.EDIT_SERVICES)
def drafts() -> ResponseReturnValue:
    """A year's draft offers, each checked, to publish many at once."""
    who = current_principal()
    form = PublishDraftsForm()
    year = request.values.get("year", type=record_id)
    result = None
    if form.validate_on_submit():
        result = publishing.publish_many(who, form.offer_ids())
        if not result.refused:
            flash(_published_message(result), "success" if result.published else "error")
            return redirect(url_for("services.drafts", year=year), 303)
    listing = publishing.drafts(who, year)
    if result is not None:
        # What was refused stays ticked, to publish once it is put right.
        selected = {check.offer.id for check in result.refused}
    elif form.is_submitted():
        selected = set(form.offer_ids())
    else:
        chosen = {"all": listing.to_publish, "ready": listing.ready}.get(
            request.args.get("select", ""), ()
        )
        selected = {check.offer.id for check in chosen}
    return render_page(
        "services/drafts.html",
        form=form,
        listing=listing,
        year_label=financial_year_label(listing.year) if listing.year else "",
        selected=selected,
        result=result,
        published_message=_published_message(result) if result and result.published else "",
        year_items=[
            {"value": str(y), "text": financial_year_label(y), "selected": y == listing.year}
            for y in listing.years
        ],
    )


def _published_message(result: publishing.PublishResult) -> str:
    count = len(result.published)
    if not count:
        return "No offers were published: none of those selected is an offer you can publish."
    years = sorted({offer.year for offer in result.published})
    during = f" for {financial_year_label(years[0])}" if len(years) == 1 else ""
    return (
        f"{plural(count, 'offer')} published{during}. "
        f"Schools can see {'it' if count == 1 else 'them'} now."
    )
