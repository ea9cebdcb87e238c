"""The forms of supply-cover funds and claims (views in fund_routes.py)."""

from __future__ import annotations

import re
from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from portal.forms import DateInput, strip_whitespace
from portal.models import FundEligibility
from portal.numbers import record_id, whole_number
from portal.pricing import AMOUNT_HINT, parse_pounds
from portal.training.claim_decisions import Verdict
from portal.training.evidence import EVIDENCE_HINT
from portal.training.funds import FundDetails

# The most cover one claim is for: a fortnight of school days.
MAX_DAYS = 10


def _pence(field: StringField, required: str) -> int:
    if not field.data:
        raise ValidationError(required)
    try:
        return parse_pounds(field.data)
    except ValueError as error:
        raise ValidationError(str(error)) from error


def _date_required(field: DateField, message: str) -> None:
    if field.data is None:
        field.errors = []
        raise ValidationError(message)


class FundForm(FlaskForm):
    name = StringField(
        "Name of the fund",
        description="For example, Supply cover for integrated working training 2027",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            DataRequired(message="Enter the name of the fund"),
            Length(max=200, message="Name must be 200 characters or fewer"),
        ],
    )
    total = StringField(
        "Total of the fund, in pounds",
        description=AMOUNT_HINT,
        widget=GovTextInput(),
        filters=[strip_whitespace],
    )
    courses = SelectMultipleField(
        "Courses it covers",
        description="Select every course whose sessions the fund pays supply cover for",
        widget=GovCheckboxesInput(),
        coerce=int,
        choices=[],
        validate_choice=False,
    )
    covers_from = DateField(
        "Sessions held from",
        description="For example, 1 9 2026",
        format="%d %m %Y",
        widget=DateInput(),
    )
    covers_to = DateField(
        "Sessions held up to",
        description="For example, 31 3 2027",
        format="%d %m %Y",
        widget=DateInput(),
    )
    claims_close_on = DateField(
        "Last day for claims",
        description="For example, 30 4 2027",
        format="%d %m %Y",
        widget=DateInput(),
    )
    daily_rate = StringField(
        "The most it pays for a day of cover, in pounds",
        description=AMOUNT_HINT,
        widget=GovTextInput(),
        filters=[strip_whitespace],
    )
    half_day_rate = StringField(
        "The most it pays for a half-day of cover, in pounds",
        description=AMOUNT_HINT,
        widget=GovTextInput(),
        filters=[strip_whitespace],
    )
    eligibility = RadioField(
        "Which schools",
        widget=GovRadioInput(),
        choices=[SelectChoice(e.value, e.label) for e in FundEligibility],
        default=FundEligibility.ALL_SCHOOLS.value,
        validators=[InputRequired(message="Select which schools the fund is for")],
    )
    lump_sum = StringField(
        "Lump sum for each school, in pounds",
        description="Every eligible school gets this; the rest of the fund is shared by pupils "
        "on roll. Enter 0 to share it all by pupils. " + AMOUNT_HINT,
        widget=GovTextInput(),
        filters=[strip_whitespace],
    )
    roll_year = StringField(
        "Pupils on roll for the financial year starting in April of",
        description="For example 2026, for the 2026-27 figures",
        widget=GovTextInput(),
        filters=[strip_whitespace],
    )
    version = HiddenField()
    submit = SubmitField("Save the fund", widget=GovSubmitInput())

    def validate_total(self, field: StringField) -> None:
        if _pence(field, "Enter the total of the fund") == 0:
            raise ValidationError("The total must be more than £0.00")

    def validate_courses(self, field: SelectMultipleField) -> None:
        known = {value for value, _label in (field.choices or [])}
        if not field.data or not set(field.data) <= known:
            raise ValidationError("Select the courses the fund covers")

    def validate_covers_from(self, field: DateField) -> None:
        _date_required(field, "Enter the first date of sessions the fund covers, like 1 9 2026")

    def validate_covers_to(self, field: DateField) -> None:
        _date_required(field, "Enter the last date of sessions the fund covers, like 31 3 2027")
        if self.covers_from.data and field.data < self.covers_from.data:
            raise ValidationError("The last date of sessions must be on or after the first")

    def validate_claims_close_on(self, field: DateField) -> None:
        _date_required(field, "Enter the last day for claims, like 30 4 2027")
        if self.covers_from.data and field.data < self.covers_from.data:
            raise ValidationError("The last day for claims must be after sessions start")

    def validate_daily_rate(self, field: StringField) -> None:
        if _pence(field, "Enter the most the fund pays for a day") == 0:
            raise ValidationError("The daily rate must be more than £0.00")

    def validate_half_day_rate(self, field: StringField) -> None:
        half = _pence(field, "Enter the most the fund pays for a half-day")
        if half == 0:
            raise ValidationError("The half-day rate must be more than £0.00")
        try:
            daily = parse_pounds(self.daily_rate.data or "")
        except ValueError:
            return
        if half > daily:
            raise ValidationError("The half-day rate must be no more than the daily rate")

    def validate_lump_sum(self, field: StringField) -> None:
        lump = _pence(field, "Enter the lump sum for each school, or 0")
        try:
            total = parse_pounds(self.total.data or "")
        except ValueError:
            return
        if lump > total:
            raise ValidationError("The lump sum must be no more than the total of the fund")

    def validate_roll_year(self, field: StringField) -> None:
        year = whole_number(field.data)
        if year is None or not 2000 <= year <= 2100:
            raise ValidationError("Enter a year like 2026")

    def details(self) -> FundDetails:
        return FundDetails(
            name=self.name.data or "",
            total_pence=parse_pounds(self.total.data or ""),
            course_ids=tuple(self.courses.data or ()),
            covers_from=_day(self.covers_from.data),
            covers_to=_day(self.covers_to.data),
            claims_close_on=_day(self.claims_close_on.data),
            daily_rate_pence=parse_pounds(self.daily_rate.data or ""),
            half_day_rate_pence=parse_pounds(self.half_day_rate.data or ""),
            eligibility=FundEligibility(self.eligibility.data),
            lump_sum_pence=parse_pounds(self.lump_sum.data or ""),
            roll_year=whole_number(self.roll_year.data) or 0,
        )


def _day(value: date | None) -> date:
    if value is None:
        raise ValueError("validated first")
    return value


class ConfirmAllocationForm(FlaskForm):
    fingerprint = HiddenField()
    submit = SubmitField("Confirm the allocation", widget=GovSubmitInput())


class ClaimForm(FlaskForm):
    fund = SelectField("Fund", widget=GovSelect(), choices=[], validate_choice=False)
    booking = SelectField(
        "Session the cover was for",
        description="Places your staff attended on a course the fund covers, within its dates",
        widget=GovSelect(),
        choices=[],
        validate_choice=False,
    )
    days = StringField(
        "Days of supply cover",
        description=f"0.5 for a half-day, 1 for a day, 1.5 for a day and a half; up to {MAX_DAYS}",
        widget=GovTextInput(),
        filters=[strip_whitespace],
    )
    cost = StringField(
        "What the cover cost, in pounds",
        description="As the agency's invoice says. " + AMOUNT_HINT,
        widget=GovTextInput(),
        filters=[strip_whitespace],
    )
    agency_reference = StringField(
        "The agency's invoice reference",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            DataRequired(message="Enter the agency's invoice reference"),
            Length(max=100, message="Reference must be 100 characters or fewer"),
        ],
    )
    evidence = FileField("The agency's invoice", description=EVIDENCE_HINT, widget=GovFileInput())
    submission_key = HiddenField()
    submit = SubmitField("Send the claim", widget=GovSubmitInput())

    def validate_fund(self, field: SelectField) -> None:
        if record_id(field.data) is None:
            raise ValidationError("Choose a fund that is open for claims")

    def validate_booking(self, field: SelectField) -> None:
        if record_id(field.data) is None:
            raise ValidationError("Choose the session the cover was for")

    def validate_days(self, field: StringField) -> None:
        if half_days(field.data) is None:
            raise ValidationError(
                f"Enter the days of cover in halves, like 0.5, 1 or 1.5, up to {MAX_DAYS}"
            )

    def validate_cost(self, field: StringField) -> None:
        if _pence(field, "Enter what the cover cost") == 0:
            raise ValidationError("The cost must be more than £0.00")


# Whole days (up to two digits) and perhaps a half: "1", "1.5", ".5", "2.0".
_DAYS = re.compile(r"(?P<whole>[0-9]{0,2})(?:\.(?P<half>50*|0+))?")


def half_days(text: str | None) -> int | None:
    """``"1.5"`` as 3 half-days; None for anything but a whole or half number of days from a
    half-day to MAX_DAYS."""
    found = _DAYS.fullmatch((text or "").strip())
    if found is None or not (found["whole"] or found["half"]):
        return None
    halves = int(found["whole"] or 0) * 2 + (found["half"] or "").startswith("5")
    return halves if 1 <= halves <= MAX_DAYS * 2 else None


class DecisionForm(FlaskForm):
    verdict = RadioField(
        "Decision",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(Verdict.APPROVE.value, "Approve"),
            SelectChoice(Verdict.PART_APPROVE.value, "Approve part of it"),
            SelectChoice(Verdict.REFUSE.value, "Refuse"),
        ],
        validators=[InputRequired(message="Select a decision")],
    )
    amount = StringField(
        "Amount approved, in pounds (for a part approval)",
        widget=GovTextInput(),
        filters=[strip_whitespace],
    )
    reason = TextAreaField(
        "Reason (for a part approval or a refusal)",
        description="The school is told this",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        validators=[Length(max=500, message="Reason must be 500 characters or fewer")],
    )
    submit = SubmitField("Record the decision", widget=GovSubmitInput())

    def validate_amount(self, field: StringField) -> None:
        if self.verdict.data == Verdict.PART_APPROVE.value:
            _pence(field, "Enter the amount approved")

    def amount_pence(self) -> int | None:
        if self.verdict.data != Verdict.PART_APPROVE.value or not self.amount.data:
            return None
        return parse_pounds(self.amount.data)


class ButtonForm(FlaskForm):
    """A form that is only its button (make a payment batch, mark one paid)."""

    submit = SubmitField("Continue", widget=GovSubmitInput())
