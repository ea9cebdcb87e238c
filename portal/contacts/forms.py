from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice

# DataRequired, not InputRequired, for text: it judges what is left once spaces are stripped.
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from portal.contacts.directory import COUNTYWIDE
from portal.contacts.keeping import ContactDetails
from portal.forms import email_address, strip_whitespace
from portal.models import Area, Contact, ContactRole
from portal.numbers import record_id
from portal.phones import national, parse_uk_phone


class UKPhone:
    """A UK telephone number, stored in E.164 form once valid."""

    message = "Enter a UK telephone number, like 0121 496 0000 or 07700 900 982"

    def __call__(self, form: FlaskForm, field: StringField) -> None:
        if not field.data:
            return
        if parse_uk_phone(field.data) is None:
            raise ValidationError(self.message)


class ContactForm(FlaskForm):
    name = StringField(
        "Name",
        description="A person's full name, or a team's name",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            DataRequired(message="Enter the contact's name"),
            Length(max=120, message="Name must be 120 characters or fewer"),
        ],
    )
    job_title = StringField(
        "Job title (optional)",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            Optional(),
            Length(max=120, message="Job title must be 120 characters or fewer"),
        ],
    )
    role = SelectField(
        "Role",
        widget=GovSelect(),
        choices=[SelectChoice("", "Choose a role")]
        + [SelectChoice(role.value, role.label) for role in ContactRole],
        validators=[InputRequired(message="Choose the contact's role")],
    )
    help_with = TextAreaField(
        "What schools should contact them about",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        validators=[
            DataRequired(message="Enter what schools should contact them about"),
            Length(
                max=1000, message="What to contact them about must be 1,000 characters or fewer"
            ),
        ],
    )
    phone = StringField(
        "Telephone",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[DataRequired(message="Enter a telephone number"), UKPhone()],
    )
    email = StringField(
        "E-mail address",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=email_address("Enter an e-mail address", "name@council.example"),
    )
    out_of_hours = StringField(
        "Out of hours (optional)",
        description="Who to call when this contact is not available, e.g. the Emergency Duty Team",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            Optional(),
            Length(max=300, message="Out of hours must be 300 characters or fewer"),
        ],
    )
    coverage = SelectMultipleField(
        "Which schools does this contact serve?",
        description="Choose countywide, or one or more areas",
        widget=GovCheckboxesInput(),
        validators=[InputRequired(message="Choose countywide or at least one area")],
    )
    submit = SubmitField("Save contact", widget=GovSubmitInput())

    def __init__(self, areas: list[Area], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.coverage.choices = [SelectChoice(COUNTYWIDE, "Countywide: every school")] + [
            SelectChoice(str(area.id), f"{area.name} area") for area in areas
        ]

    def validate_coverage(self, field: SelectMultipleField) -> None:
        if COUNTYWIDE in (field.data or []) and len(field.data) > 1:
            raise ValidationError("Choose either countywide or one or more areas, not both")

    @classmethod
    def for_contact(cls, areas: list[Area], contact: Contact) -> ContactForm:
        form = cls(areas, obj=contact)
        if not form.is_submitted():
            form.role.data = contact.role.value
            form.phone.data = national(contact.phone)
            form.coverage.data = (
                [COUNTYWIDE] if contact.countywide else [str(a.id) for a in contact.areas]
            )
        return form

    def details(self) -> ContactDetails:
        coverage = self.coverage.data or []
        return ContactDetails(
            name=self.name.data or "",
            job_title=self.job_title.data or None,
            role=ContactRole(self.role.data),
            help_with=self.help_with.data or "",
            phone=parse_uk_phone(self.phone.data or "") or "",
            email=(self.email.data or "").lower(),
            out_of_hours=self.out_of_hours.data or None,
            countywide=COUNTYWIDE in coverage,
            area_ids=frozenset(
                area_id for value in coverage if (area_id := record_id(value)) is not None
            ),
        )


class ConfirmForm(FlaskForm):
    """No fields: a CSRF-protected button (retire, reinstate, mark checked)."""


class SendLettersForm(FlaskForm):
    """E-mail the annual letter to every head teacher: of every school, or of one area's."""

    area = SelectField(
        "Which schools",
        widget=GovSelect(),
        validators=[Optional()],
    )
    submit = SubmitField("E-mail the letters", widget=GovSubmitInput())

    def __init__(self, areas: list[Area], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._areas = {str(area.id): area for area in areas}
        self.area.choices = [SelectChoice("", "Every school")] + [
            SelectChoice(str(area.id), f"Schools in the {area.name} area") for area in areas
        ]

    def chosen_area(self) -> Area | None:
        return self._areas.get(self.area.data or "")
