"""Price options in words, as a price list would put them; the catalogue's list of services
written out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup, escape

from portal.models import Audience, PricingBasis, School, ServiceKind
from portal.pricing import PriceRule, format_pence, plural, unit_priced
from portal.services.catalogue import Listed, SchoolPrice

AUDIENCE_NOTE = {
    Audience.ALL: "",
    Audience.MAINTAINED: " (maintained schools)",
    Audience.ACADEMIES: " (academies and free schools)",
}


def describe(rule: PriceRule) -> list[str]:
    """Lines describing a price option: the basis, its rates, the minimum and VAT."""
    lines: list[str] = []
    by_phase = dict(rule.by_phase or {})
    pupil_rate = f"{format_pence(rule.per_pupil_pence)} per pupil on roll"
    if rule.basis is PricingBasis.PER_SCHOOL:
        lines.append(f"{format_pence(rule.amount_pence)} per school a year")
    elif rule.basis is PricingBasis.PER_PUPIL:
        lines.append(pupil_rate if rule.per_pupil_pence or not by_phase else "Per pupil on roll")
    elif rule.basis is PricingBasis.FLAT_PLUS_PER_PUPIL:
        lines.append(f"{format_pence(rule.amount_pence)} a year, plus {pupil_rate}")
    elif rule.basis is PricingBasis.BANDED:
        for band in rule.bands:
            span = (
                f"{band.from_pupils}+"
                if band.to_pupils is None
                else f"{band.from_pupils} to {band.to_pupils}"
            )
            lines.append(f"{span} pupils: {format_pence(band.pence)} a year")
    elif rule.basis is PricingBasis.PER_UNIT:
        unit = rule.unit or "unit"
        if rule.pack_size:
            lines.append(f"{format_pence(rule.amount_pence)} a {unit_priced(rule)}")
        elif rule.tiers:
            for tier in rule.tiers:
                lines.append(
                    f"From {plural(tier.from_quantity, unit)}: {format_pence(tier.pence)} a {unit}"
                )
        else:
            lines.append(f"{format_pence(rule.amount_pence)} a {unit}")
    for phase, pence in by_phase.items():
        lines.append(f"{phase} schools: {format_pence(pence)} per pupil on roll")
    if rule.minimum_pence:
        lines.append(f"Minimum charge {format_pence(rule.minimum_pence)}")
    lines.append("Plus VAT at 20%" if rule.vat else "No VAT")
    if rule.audience is not Audience.ALL:
        lines[0] += AUDIENCE_NOTE[rule.audience]
    return lines


def catalogue_items(
    items: Sequence[Listed],
    school: School | None,
    prices: Mapping[int, list[SchoolPrice]],
    service_link: Callable[[int], str],
) -> Markup:
    """The catalogue's services, each with its kind, category, summary and, for a school, its
    price or why it cannot buy it. Written out here rather than by a Jinja loop, which cost
    more than the rest of the page's own drawing (tests/services/test_services.py keeps this
    identical to that loop's markup, tests/services/services_catalogue_loop.html)."""
    parts = []
    for service in items:
        traded = service.kind is ServiceKind.TRADED
        tag = "govuk-tag--blue" if traded else "govuk-tag--green"
        parts.append(
            '<li class="council-service-list__item">'
            '<h3 class="govuk-heading-s govuk-!-margin-bottom-1"><a class="govuk-link" '
            f'href="{service_link(service.id)}">{escape(service.name)}</a></h3>'
            '<p class="govuk-body-s govuk-!-margin-bottom-1">'
            f'<strong class="govuk-tag {tag}">{escape(service.kind.label)}</strong> '
            f"{escape(service.category.name)}</p>"
            f'<p class="govuk-body govuk-!-margin-bottom-1">{escape(service.summary)}</p>'
        )
        if school is not None and traded:
            if not service.is_available_to(school):
                parts.append(f'<p class="govuk-body-s">Not available to {escape(school.name)}.</p>')
            elif school_prices := prices.get(service.id):
                said = _your_price(school_prices)
                parts.append(f'<p class="govuk-body-s">Your price: {said}</p>')
        parts.append("</li>")
    # Everything a person or the council typed is escaped above.
    return Markup("".join(parts))  # noqa: S704


def _your_price(school_prices: list[SchoolPrice]) -> str:
    """ "Annual £1,200.00 including VAT; Per visit £80.00 per visit"."""
    said = []
    for price in school_prices:
        quote = price.quote
        if quote is None:
            amount = "(ask the team)"
        else:
            amount = f"{format_pence(quote.gross_pence)}{escape(price.per)}"
            if quote.vat_pence:
                amount += " including VAT"
        said.append(f"{escape(price.option_name)} {amount}")
    return "; ".join(said)
