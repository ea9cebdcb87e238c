"""Pieces every GOV.UK form in the portal shares."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
)
from wtforms.validators import DataRequired, Email, Length

from portal.components import RenderedWidget
from portal.pricing import parse_pounds


def pence_in(field: Any) -> int | None:
    """An amount of money typed in pounds (a StringField), in pence: None if left empty, or
    if it is not an amount, in which case the field is given the reason as its error."""
    if not field.data:
        return None
    try:
        return parse_pounds(field.data)
    except ValueError as error:
        field.errors.append(str(error))
        return None


def strip_whitespace(value: Any) -> Any:
    """Spaces at either end are never meant (they come with pasted text)."""
    return value.strip() if isinstance(value, str) else value


def email_address(required: str, example: str) -> list[Any]:
    """Validators for an e-mail address, with GOV.UK's wording for each failure."""
    return [
        DataRequired(message=required),
        Length(max=254, message="E-mail address must be 254 characters or fewer"),
        Email(
            message=f"Enter an e-mail address in the correct format, like {example}",
            check_deliverability=False,
        ),
    ]


class DateInput(RenderedWidget, GovDateInput):
    """GOV.UK's day, month and year boxes, also when a request left them out altogether
    (the upstream widget expects exactly three values once anything was posted); empty, drawn
    once (portal/components.py)."""

    component = "date-input"

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        if field.raw_data is not None and len(field.raw_data) != 3:
            field.raw_data = None
        return super().map_gov_params(field, **kwargs)

    def holds_typing(self, params: dict[str, Any]) -> bool:
        return any(item.get("value") for item in params.get("items", []))


# GOV.UK's widgets, drawn once for each set of choices and what is chosen (RenderedWidget).
class RadioInput(RenderedWidget, GovRadioInput):
    component = "radios"


class SelectInput(RenderedWidget, GovSelect):
    component = "select"


class SubmitInput(RenderedWidget, GovSubmitInput):
    component = "button"


class TextArea(RenderedWidget, GovTextArea):
    """A text area: kept only while empty, never with what someone wrote in it."""

    component = "textarea"

    def holds_typing(self, params: dict[str, Any]) -> bool:
        return bool(params.get("value"))


def within_a_year_of(day: date) -> tuple[date, date]:
    """The first and the last date within a year of ``day``, before or after it: what a date
    typed for something happening about now can be (29 February's year on is the 28th)."""

    def years_on(years: int) -> date:
        try:
            return day.replace(year=day.year + years)
        except ValueError:
            return day.replace(year=day.year + years, day=28)

    return years_on(-1), years_on(1)


def new_submission_key() -> str:
    """A fresh key for a form that must act once however often it is sent (a second press of
    its button, a resubmitted page): the form carries it, and the record it makes keeps it."""
    return secrets.token_urlsafe(24)
