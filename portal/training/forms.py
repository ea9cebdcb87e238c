"""The forms of finding and booking: a booking, an approver's refusal, a school's choice of
who approves its bookings."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from portal.forms import email_address, strip_whitespace
from portal.models import Approver, School, User

MYSELF, COLLEAGUE = "myself", "colleague"


class BookingForm(FlaskForm):
    for_whom = RadioField(
        "Who is the place for?",
        widget=GovRadioInput(),
        choices=[SelectChoice(MYSELF, "Myself"), SelectChoice(COLLEAGUE, "A colleague")],
        default=MYSELF,
        validators=[InputRequired(message="Choose who the place is for")],
    )
    school = SelectField("School", widget=GovSelect(), validate_choice=False)
    name = StringField(
        "Colleague's full name",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[Length(max=120, message="Full name must be 120 characters or fewer")],
    )
    email = StringField(
        "Colleague's e-mail address",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[Length(max=254, message="E-mail address must be 254 characters or fewer")],
    )
    job_title = StringField(
        "Colleague's job title",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[Length(max=120, message="Job title must be 120 characters or fewer")],
    )
    submission_key = HiddenField()
    # Set by the button "Join the waiting list", when the session is full.
    waiting_list = HiddenField()
    submit = SubmitField("Book a place", widget=GovSubmitInput())

    def __init__(self, schools: list[School], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schools = schools
        self.school.choices = [SelectChoice(str(s.id), s.name) for s in schools]

    def validate_school(self, field: SelectField) -> None:
        if len(self.schools) > 1 and field.data not in {str(s.id) for s in self.schools}:
            raise ValidationError("Choose the school the place is for")

    def validate_name(self, field: StringField) -> None:
        if self.for_whom.data == COLLEAGUE and not field.data:
            raise ValidationError("Enter your colleague's full name")

    def validate_email(self, field: StringField) -> None:
        if self.for_whom.data != COLLEAGUE:
            return
        for validator in email_address(
            "Enter your colleague's e-mail address", "name@school.example"
        ):
            validator(self, field)

    def validate_job_title(self, field: StringField) -> None:
        if self.for_whom.data == COLLEAGUE and not field.data:
            raise ValidationError("Enter your colleague's job title")

    def school_id(self) -> int | None:
        if len(self.schools) == 1:
            return self.schools[0].id
        data = self.school.data or ""
        return int(data) if data.isdigit() else None


class RefuseForm(FlaskForm):
    reason = TextAreaField(
        "Why is the place not approved?",
        description="The person booked is told this.",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        validators=[
            DataRequired(message="Enter why the place is not approved"),
            Length(max=500, message="The reason must be 500 characters or fewer"),
        ],
    )
    submit = SubmitField("Refuse the place", widget=GovSubmitInput())


class ApproveForm(FlaskForm):
    submit = SubmitField("Approve the place", widget=GovSubmitInput())


class ApprovalSettingsForm(FlaskForm):
    approver = RadioField(
        "Who approves your staff's training bookings?",
        widget=GovRadioInput(),
        choices=[SelectChoice(a.value, a.label) for a in Approver],
        validators=[InputRequired(message="Choose who approves bookings")],
    )
    training_lead = SelectField(
        "Training lead",
        description="A member of your school's staff with an account on the portal",
        widget=GovSelect(),
        validate_choice=False,
    )
    submit = SubmitField("Save", widget=GovSubmitInput())

    def __init__(self, staff: list[User], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff = staff
        self.training_lead.choices = [SelectChoice("", "Choose a person")] + [
            SelectChoice(str(u.id), f"{u.display_name} ({u.email})") for u in staff
        ]

    def validate_training_lead(self, field: SelectField) -> None:
        if self.approver.data != Approver.TRAINING_LEAD.value:
            return
        if field.data not in {str(u.id) for u in self.staff}:
            raise ValidationError("Choose the training lead")

    def lead_id(self) -> int | None:
        data = self.training_lead.data or ""
        return int(data) if data.isdigit() else None
