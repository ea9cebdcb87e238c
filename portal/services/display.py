"""Price options in words, as a price list would put them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from portal.models import Audience, PricingBasis, School, ServiceKind
from portal.services.pricing import PriceRule, format_pence, plural, unit_priced

if TYPE_CHECKING:
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


def listing_html(
    items: Sequence[Listed],
    link: Callable[[int], str],
    school: School | None,
    prices: Mapping[int, Sequence[SchoolPrice]],
) -> Markup:
    """The catalogue's services (``items``), each linking to ``link(id)``; for a school,
    each traded service's ``prices`` for it, or that it is not available to it.

    Written out rather than drawn by the template's loop (a fifth of the page's cost for
    twenty services), and with f-strings and escape() rather than Markup.format (whose
    formatter, in Python, cost as much as the loop): the template's markup but for the
    whitespace between tags, which browsers ignore. Every value is escaped here.
    tests/test_services.py keeps the two the same."""
    drawn = []
    for item in items:
        price = ""
        if school is not None and item.kind is ServiceKind.TRADED:
            if not item.is_available_to(school):
                price = f'<p class="govuk-body-s">Not available to {escape(school.name)}.</p>'
            elif school_prices := prices.get(item.id):
                price = (
                    '<p class="govuk-body-s">Your price: '
                    f"{escape('; '.join(_price_text(p) for p in school_prices))}</p>"
                )
        tag = "govuk-tag--blue" if item.kind is ServiceKind.TRADED else "govuk-tag--green"
        drawn.append(
            '<li class="council-service-list__item">'
            '<h3 class="govuk-heading-s govuk-!-margin-bottom-1">'
            f'<a class="govuk-link" href="{escape(link(item.id))}">{escape(item.name)}</a></h3>'
            '<p class="govuk-body-s govuk-!-margin-bottom-1">'
            f'<strong class="govuk-tag {tag}">{escape(item.kind.label)}</strong> '
            f"{escape(item.category.name)}</p>"
            f'<p class="govuk-body govuk-!-margin-bottom-1">{escape(item.summary)}</p>'
            f"{price}</li>"
        )
    return Markup("".join(drawn))  # noqa: S704 (every value in it escaped above)


def _price_text(price: SchoolPrice) -> str:
    """One option's price for the school, in the catalogue's words (not yet escaped)."""
    quote = price.quote
    if quote is None:
        return f"{price.option_name} (ask the team)"
    vat = " including VAT" if quote.vat_pence else ""
    return f"{price.option_name} {format_pence(quote.gross_pence)}{price.per}{vat}"
