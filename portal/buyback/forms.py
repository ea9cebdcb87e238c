from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import DateField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Regexp, ValidationError

from portal.buyback.windows import parse_days
from portal.forms import DateInput, strip_whitespace
from portal.models import Cohort
from portal.numbers import whole_number

TIME = Regexp(r"^([01]?\d|2[0-3]):[0-5]\d$", message="Enter a time like 09:00 or 17:30")


class WindowForm(FlaskForm):
    year = StringField(
        "Financial year starting in April of",
        description="For example 2027, for April 2027 to March 2028",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[DataRequired(message="Enter the year the financial year starts")],
    )
    cohort = RadioField(
        "Which schools",
        widget=GovRadioInput(),
        choices=[SelectChoice(c.value, c.label) for c in Cohort],
        validators=[InputRequired(message="Select which schools the window is for")],
    )
    opens_on = DateField("Opens on", format="%d %m %Y", widget=DateInput())
    opens_time = StringField(
        "Opens at (time, UK)", widget=GovTextInput(), default="09:00", validators=[TIME]
    )
    closes_on = DateField("Closes on", format="%d %m %Y", widget=DateInput())
    closes_time = StringField(
        "Closes at (time, UK)", widget=GovTextInput(), default="17:00", validators=[TIME]
    )
    reminder_days = StringField(
        "Reminders, in days before the deadline (optional)",
        description="Schools that have not submitted are e-mailed this many days before the "
        "deadline, like 14, 3. Leave empty for the council's usual reminders",
        widget=GovTextInput(),
        filters=[strip_whitespace],
    )
    submit = SubmitField("Set up the window", widget=GovSubmitInput())

    def validate_year(self, field: StringField) -> None:
        year = whole_number(field.data)
        if year is None or not 2000 <= year <= 2100:
            raise ValidationError("Enter a year like 2027")

    def validate_opens_on(self, field: DateField) -> None:
        if field.data is None:
            field.errors.clear()
            raise ValidationError("Enter the date the window opens, like 6 1 2027")

    def validate_closes_on(self, field: DateField) -> None:
        if field.data is None:
            field.errors.clear()
            raise ValidationError("Enter the date the window closes, like 2 3 2027")

    def validate_reminder_days(self, field: StringField) -> None:
        _validate_days(field)


class ChangeWindowForm(WindowForm):
    submit = SubmitField("Save the changes", widget=GovSubmitInput())


class DeadlineForm(FlaskForm):
    closes_on = DateField(
        "New deadline", description="For example, 16 3 2027", format="%d %m %Y", widget=DateInput()
    )
    closes_time = StringField(
        "At (time, UK)", widget=GovTextInput(), default="17:00", validators=[TIME]
    )
    submit = SubmitField("Extend the deadline", widget=GovSubmitInput())

    def validate_closes_on(self, field: DateField) -> None:
        if field.data is None:
            field.errors.clear()
            raise ValidationError("Enter the new deadline, like 16 3 2027")


class RemindersForm(FlaskForm):
    reminder_days = StringField(
        "Reminders, in days before the deadline",
        description="Like 14, 3. Leave empty for the council's usual reminders",
        widget=GovTextInput(),
        filters=[strip_whitespace],
    )
    submit = SubmitField("Save the reminders", widget=GovSubmitInput())

    def validate_reminder_days(self, field: StringField) -> None:
        _validate_days(field)


class CloseWindowForm(FlaskForm):
    submit = SubmitField("Close the window now", widget=GovSubmitInput())


def _validate_days(field: StringField) -> None:
    try:
        parse_days(field.data or "")
    except ValueError as error:
        raise ValidationError(str(error)) from error
