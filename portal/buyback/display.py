"""What a buy-back category's page writes beside each service, worked out in Python: a page
shows fifteen services or more, drawn on every request, and Jinja spent more on these
few words than on the rest of each service's markup."""

from __future__ import annotations

from markupsafe import Markup

from portal.buyback.service import Answer, Offered, is_per_unit
from portal.services.pricing import format_pence, plural


def price_hint(item: Offered) -> str:
    """Each option's price for the school, and its change on last year: "Annual: £1,200.00
    plus VAT (up £12.00 on last year); Per visit: £80.00 per visit"."""
    parts = []
    for option in item.options:
        priced = item.quotes.get(option.id)
        if priced is None:
            text = "price to be agreed"
        else:
            text = format_pence(priced.net_pence)
            if is_per_unit(option):
                pack = option.rates.get("pack_size")
                text += (
                    f" per pack of {plural(pack, option.unit)}" if pack else f" per {option.unit}"
                )
            if priced.vat_pence:
                text += " plus VAT"
            before = item.last_year.get(option.name)
            if before is not None:
                change = priced.net_pence - before
                if change > 0:
                    text += f" (up {format_pence(change)} on last year)"
                elif change < 0:
                    text += f" (down {format_pence(-change)} on last year)"
                else:
                    text += " (no change on last year)"
        parts.append(f"{option.name}: {text}")
    return "; ".join(parts)


def cost_line(item: Offered, answer: Answer | None, oob: bool = False) -> Markup:
    """A service's cost as answered: in the page, and again, out of band, with every htmx
    total."""
    cost = ""
    if answer and answer.buying and answer.net_pence is not None:
        cost = f"Cost: {format_pence(answer.net_pence + (answer.vat_pence or 0))}"
    return Markup(
        '<p class="govuk-body-s govuk-!-margin-top-2 govuk-!-margin-bottom-0" id="cost-{}"{}>{}</p>'
    ).format(item.service.id, Markup(' hx-swap-oob="true"') if oob else "", cost)
