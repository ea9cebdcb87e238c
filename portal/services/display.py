"""Price options in words, as a price list would put them."""

from __future__ import annotations

from portal.models import Audience, PricingBasis
from portal.services.pricing import PriceRule, format_pence, plural, unit_priced

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
