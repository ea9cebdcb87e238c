"""The forms of changes to a booked place: cancelling, answering an offer, swapping who
attends."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import TextArea, email_address, strip_whitespace


class CancelForm(FlaskForm):
    """Cancel a booking. It carries the charge the page stated, so that a window closing
    between the page and the button is noticed (cancelling.cancel_booking)."""

    seen_charge = HiddenField()
    reason = TextAreaField(
        "Why are you cancelling? (optional)",
        description="The course's coordinator sees this.",
        widget=TextArea(),
        filters=[strip_whitespace],
        validators=[
            Optional(),
            Length(max=500, message="Reason must be 500 characters or fewer"),
        ],
    )
    submit = SubmitField("Yes, cancel this booking", widget=GovSubmitInput())

    def seen_charge_pence(self) -> int | None:
        """The charge the page stated, in pence (None if the form came without it)."""
        text = (self.seen_charge.data or "").strip()
        return int(text) if text.isdigit() else None


class AnswerOfferForm(FlaskForm):
    """No fields: a CSRF-protected button (accept, or decline, an offered place)."""


class SwapForm(FlaskForm):
    """Who attends instead: a colleague at the same school."""

    name = StringField(
        "Full name",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            DataRequired(message="Enter the full name of the person attending instead"),
            Length(max=120, message="Full name must be 120 characters or fewer"),
        ],
    )
    email = StringField(
        "E-mail address",
        description="Their work address: the confirmation and the joining details go there.",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=email_address(
            "Enter the e-mail address of the person attending instead", "name@school.example"
        ),
    )
    job_title = StringField(
        "Job title",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            DataRequired(message="Enter their job title"),
            Length(max=120, message="Job title must be 120 characters or fewer"),
        ],
    )
    submit = SubmitField("Swap who attends", widget=GovSubmitInput())
