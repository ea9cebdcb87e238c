"""The question pages of a request for CAF officer support (the officers' forms are in
officer_forms.py)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from portal.forms import (
    strip_whitespace,
)
from portal.models import (
    SUPPORT_KIND_LABELS,
    LevelOfNeed,
    SupportKind,
    Urgency,
)
from portal.phones import parse_uk_phone
from portal.support.needs import AREAS_OF_NEED, YEAR_GROUPS

CONTINUE = "Continue"


def select_choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class SchoolForm(FlaskForm):
    school = RadioField(
        "Which school is the request for?",
        widget=GovRadioInput(),
        validators=[InputRequired(message="Choose the school the request is for")],
    )
    submit = SubmitField(CONTINUE, widget=GovSubmitInput())


class ConsentForm(FlaskForm):
    consent = RadioField(
        "Has the family agreed to you asking for this support?",
        description="An early help assessment needs the family's consent. Without it, you can "
        "ask for anonymous advice only, without the child's initials.",
        widget=GovRadioInput(),
        choices=select_choices(
            [
                ("yes", "Yes, the family has given consent"),
                ("no", "No, or not yet: I want anonymous advice"),
            ]
        ),
        validators=[InputRequired(message="Select whether the family has given consent")],
    )
    submit = SubmitField(CONTINUE, widget=GovSubmitInput())


class KindForm(FlaskForm):
    kind = RadioField(
        "What support do you need?",
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select the support you need")],
    )
    submit = SubmitField(CONTINUE, widget=GovSubmitInput())

    def __init__(self, *args: Any, consent: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = list(SupportKind) if consent else [SupportKind.ADVICE, SupportKind.TRAINING]
        self.kind.choices = [SelectChoice(k.value, SUPPORT_KIND_LABELS[k]) for k in kinds]


class ChildForm(FlaskForm):
    initials = StringField(
        "The child's initials",
        description="Initials only, for example JS. Never write a child's name in this portal.",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            DataRequired(message="Enter the child's initials"),
            Regexp(r"^[A-Za-z]{1,3}$", message="Initials must be 1 to 3 letters, like JS"),
        ],
    )
    year_group = SelectField(
        "Year group",
        widget=GovSelect(),
        choices=[
            SelectChoice("", "Choose a year group"),
            *select_choices([(y, y) for y in YEAR_GROUPS]),
        ],
        validators=[InputRequired(message="Choose the child's year group")],
    )
    submit = SubmitField(CONTINUE, widget=GovSubmitInput())

    def __init__(self, *args: Any, consent: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not consent:
            # Anonymous advice: no initials at all.
            del self.initials


class LevelForm(FlaskForm):
    level = RadioField(
        "What level of need do you think the child has?",
        widget=GovRadioInput(),
        choices=select_choices([(level.value, level.label) for level in LevelOfNeed]),
        validators=[InputRequired(message="Select the level of need")],
    )
    submit = SubmitField(CONTINUE, widget=GovSubmitInput())


class NeedsForm(FlaskForm):
    needs = SelectMultipleField(
        "What are the child's or family's needs?",
        description="Select all that apply.",
        widget=GovCheckboxesInput(),
        choices=select_choices(list(AREAS_OF_NEED.items())),
        validators=[InputRequired(message="Select at least one area of need")],
    )
    submit = SubmitField(CONTINUE, widget=GovSubmitInput())


class UrgencyForm(FlaskForm):
    urgency = RadioField(
        "How soon do you need a response?",
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select how soon you need a response")],
    )
    submit = SubmitField(CONTINUE, widget=GovSubmitInput())

    def __init__(self, *args: Any, targets: dict[Urgency, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.urgency.choices = [
            SelectChoice(
                u.value,
                f"{u.label}: within {targets[u]} working day{'s' if targets[u] != 1 else ''}",
            )
            for u in Urgency
        ]


class ContactForm(FlaskForm):
    contact_by = RadioField(
        "How should the CAF officer contact you?",
        widget=GovRadioInput(),
        choices=select_choices([("email", "By e-mail"), ("phone", "By telephone")]),
        validators=[InputRequired(message="Select how the CAF officer should contact you")],
    )
    contact_phone = StringField(
        "Telephone number (if by telephone)",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        # Not Optional(): that would skip the check below, which needs a number for a call.
        validators=[Length(max=30, message="Telephone number is too long")],
    )
    contact_times = StringField(
        "When is it best to contact you? (optional)",
        description="For example, weekday mornings before 10am",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[Optional(), Length(max=200, message="Keep this to 200 characters or fewer")],
    )
    submit = SubmitField(CONTINUE, widget=GovSubmitInput())

    def validate_contact_phone(self, field: StringField) -> None:
        if self.contact_by.data == "phone":
            if not field.data:
                raise ValidationError("Enter a telephone number to be called on")
            if parse_uk_phone(field.data) is None:
                raise ValidationError(
                    "Enter a UK telephone number, like 0121 496 0000 or 07700 900 982"
                )


class DetailsForm(FlaskForm):
    details = TextAreaField(
        "Is there anything else the CAF officer should know? (optional)",
        description="Do not include the child's or family's names, address or date of birth.",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        validators=[
            Optional(),
            Length(max=1200, message="Keep this to 1,200 characters or fewer"),
        ],
    )
    submit = SubmitField(CONTINUE, widget=GovSubmitInput())


class SubmitRequestForm(FlaskForm):
    submission_key = HiddenField()
    submit = SubmitField("Send request", widget=GovSubmitInput())
