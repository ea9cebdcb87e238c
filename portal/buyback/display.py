"""What the buy-back pages repeat, written out in Python: a category's page shows fifteen
services or more, and the task list fourteen categories, drawn on every request, and a
Jinja loop spent more on them than on the rest of the page. Tests in tests/buyback/test_buyback.py
keep each identical to the loop it replaced (kept beside them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup, escape

from portal.buyback.answers import QUANTITY_HINT, Answer, Answers, Task
from portal.buyback.offered import Offered, is_per_unit
from portal.buyback.standing import Standing
from portal.pricing import format_pence, plural


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
    swap = ' hx-swap-oob="true"' if oob else ""
    # Nothing here needs escaping: a record id and an amount of money in figures.
    return Markup(  # noqa: S704
        '<p class="govuk-body-s govuk-!-margin-top-2 govuk-!-margin-bottom-0"'
        f' id="cost-{int(item.service.id)}"{swap}>{cost}</p>'
    )


def service_fields(
    items: Sequence[Offered],
    answers: Answers,
    errors: Mapping[str, str],
    may_prepare: bool,
    service_link: Callable[[int], str],
    form: Mapping[str, str],
) -> Markup:
    """Each service's fields on a category's page: buying or not, which option, how many,
    and its cost; written out here rather than by a Jinja loop, which spent more on them
    than the rest of the page (tests/buyback/test_buyback.py keeps them identical to that loop's
    markup)."""
    disabled = "" if may_prepare else "disabled"
    parts = []
    for item in items:
        sid = item.service.id
        answer = answers.by_service.get(sid)
        answer_error = errors.get(f"answer-{sid}")
        option_error = errors.get(f"option-{sid}")
        quantity_error = errors.get(f"quantity-{sid}")
        name = escape(item.service.name)
        group_error = (
            "govuk-form-group--error" if answer_error or option_error or quantity_error else ""
        )
        buying = answer is not None and answer.buying
        not_buying = answer is not None and answer.buying is False
        parts.append(
            f'<div class="govuk-form-group council-choice {group_error}">'
            f'<fieldset class="govuk-fieldset" aria-describedby="price-{sid}'
            f'{f" answer-{sid}-error" if answer_error else ""}">'
            '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">'
            f'<a class="govuk-link" href="{escape(service_link(sid))}">{name}</a>'
            "</legend>"
            f'<div class="govuk-hint" id="price-{sid}">{escape(price_hint(item))}</div>'
        )
        if answer_error:
            parts.append(_error(f"answer-{sid}-error", answer_error))
        parts.append(
            '<div class="govuk-radios govuk-radios--small govuk-radios--inline"'
            ' data-module="govuk-radios">'
            '<div class="govuk-radios__item">'
            f'<input class="govuk-radios__input" id="answer-{sid}" name="answer-{sid}"'
            f' type="radio" value="buy" {"checked" if buying else ""} {disabled}>'
            f'<label class="govuk-label govuk-radios__label" for="answer-{sid}">Buying</label>'
            "</div>"
            '<div class="govuk-radios__item">'
            f'<input class="govuk-radios__input" id="answer-{sid}-no" name="answer-{sid}"'
            f' type="radio" value="no" {"checked" if not_buying else ""} {disabled}>'
            f'<label class="govuk-label govuk-radios__label" for="answer-{sid}-no">'
            "Not buying</label>"
            "</div>"
            "</div>"
            "</fieldset>"
        )
        if len(item.options) > 1:
            chosen = answer.option_id if answer is not None else None
            options = "".join(
                f'<option value="{option.id}" {"selected" if chosen == option.id else ""}>'
                f"{escape(option.name)}</option>"
                for option in item.options
            )
            described = f'aria-describedby="option-{sid}-error"' if option_error else ""
            parts.append(
                '<div class="govuk-form-group govuk-!-margin-top-3 govuk-!-margin-bottom-0">'
                f'<label class="govuk-label govuk-label--s" for="option-{sid}">Option'
                f'<span class="govuk-visually-hidden"> for {name}</span></label>'
                + (_error(f"option-{sid}-error", option_error) if option_error else "")
                + f'<select class="govuk-select {"govuk-select--error" if option_error else ""}"'
                f' id="option-{sid}" name="option-{sid}" {described} {disabled}>'
                f'<option value="">Choose an option</option>{options}</select>'
                "</div>"
            )
        if item.sold_by_the_unit:
            # What was typed, as typed (empty too); else what is saved for a service bought.
            typed = form.get(f"quantity-{sid}")
            if typed is None:
                typed = str(answer.quantity) if answer is not None and answer.buying else ""
            described = f" quantity-{sid}-error" if quantity_error else ""
            parts.append(
                '<div class="govuk-form-group govuk-!-margin-top-3 govuk-!-margin-bottom-0">'
                f'<label class="govuk-label govuk-label--s" for="quantity-{sid}">'
                "How many (for prices per unit or pack)"
                f'<span class="govuk-visually-hidden"> of {name}</span></label>'
                f'<div class="govuk-hint" id="quantity-{sid}-hint">{_QUANTITY_HINT}</div>'
                + (_error(f"quantity-{sid}-error", quantity_error) if quantity_error else "")
                + '<input class="govuk-input govuk-input--width-4'
                f' {"govuk-input--error" if quantity_error else ""}" id="quantity-{sid}"'
                f' name="quantity-{sid}" type="text" inputmode="numeric"'
                f' value="{escape(typed)}" aria-describedby="quantity-{sid}-hint{described}"'
                f" {disabled}>"
                "</div>"
            )
        parts.append(cost_line(item, answer))
        parts.append("</div>")
    # Every value put in above was escaped (names, errors, what was typed) or is a number.
    return Markup("".join(parts))  # noqa: S704


_QUANTITY_HINT = escape(QUANTITY_HINT)


def _error(id_: str, message: str) -> str:
    return (
        f'<p class="govuk-error-message" id="{id_}">'
        f'<span class="govuk-visually-hidden">Error:</span> {escape(message)}</p>'
    )


_STATUS_TAGS = {
    "Changed": '<strong class="govuk-tag govuk-tag--yellow">Changed, not yet sent</strong>',
    "Completed": "Completed",
    "In progress": '<strong class="govuk-tag govuk-tag--light-blue">In progress</strong>',
    "Not yet started": '<strong class="govuk-tag govuk-tag--blue">Not yet started</strong>',
}


def task_list_items(
    tasks: Sequence[Task], standing: Standing, category_link: Callable[[int], str]
) -> Markup:
    """The choice's task list, a category an item: its services, what it buys, its changes
    not yet sent and its status; written out here rather than by a Jinja loop (the test
    test_the_written_out_task_list_is_the_choice_pages_loop keeps them identical)."""
    unsent: dict[int, int] = {}
    for change in standing.changes:
        unsent[change.category_id] = unsent.get(change.category_id, 0) + 1
    parts = []
    for task in tasks:
        cid = int(task.category.id)
        services = task.services
        changes = unsent.get(cid, 0)
        hint = f"{services} service{'s' if services != 1 else ''}"
        if task.net_pence:
            hint += f"; buying {format_pence(task.net_pence + task.vat_pence)}"
        if changes:
            hint += f"; {changes} change{'s' if changes != 1 else ''} not yet sent to the council"
        status = task.status
        tag = _STATUS_TAGS["Changed" if changes and status == "Completed" else status]
        parts.append(
            '<li class="govuk-task-list__item govuk-task-list__item--with-link">'
            '<div class="govuk-task-list__name-and-hint">'
            f'<a class="govuk-link govuk-task-list__link" id="category-{cid}"'
            f' href="{escape(category_link(cid))}"'
            f' aria-describedby="category-{cid}-hint category-{cid}-status">'
            f"{escape(task.category.name)}</a>"
            f'<div id="category-{cid}-hint" class="govuk-task-list__hint">{hint}</div>'
            "</div>"
            f'<div class="govuk-task-list__status" id="category-{cid}-status">{tag}</div>'
            "</li>"
        )
    # The category's name and link are escaped; the rest is the portal's own words.
    return Markup("".join(parts))  # noqa: S704
