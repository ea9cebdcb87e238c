"""The training coordinator's forms: a course, a session, cancelling a session, confirming
a course's publication or withdrawal, and the register. Amounts are typed in pounds and
kept in pence (portal/pricing.py parse_pounds); times are typed in London time.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextArea, GovTextInput
from wtforms import DateField, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import RadioField, SelectChoice, SelectField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from portal import clock
from portal.forms import (
    DateInput,
    RadioInput,
    SelectInput,
    SubmitInput,
    pence_in,
    strip_whitespace,
)
from portal.models import MAX_TRAINING_PENCE, Area, Service, StaffLevel
from portal.numbers import record_id, whole_number
from portal.pricing import format_pence
from portal.training.courses import CourseDetails
from portal.training.sessions import SessionDetails

AMOUNT_HINT = f"In pounds, like 45 or 45.50. Up to {format_pence(MAX_TRAINING_PENCE)}."
TIME = Regexp(r"^([01]?\d|2[0-3]):[0-5]\d$", message="Enter a time like 09:30 or 16:00")


def _text(label: str, required: str | None, max_length: int, **kw: Any) -> StringField:
    validators: list[Any] = [DataRequired(message=required)] if required else [Optional()]
    validators.append(
        Length(max=max_length, message=f"{label} must be {max_length} characters or fewer")
    )
    return StringField(
        label, widget=GovTextInput(), filters=[strip_whitespace], validators=validators, **kw
    )


def _area(label: str, required: str | None, max_length: int = 4000, **kw: Any) -> TextAreaField:
    validators: list[Any] = [DataRequired(message=required)] if required else [Optional()]
    validators.append(
        Length(max=max_length, message=f"{label} must be {max_length:,} characters or fewer")
    )
    return TextAreaField(
        label, widget=GovTextArea(), filters=[strip_whitespace], validators=validators, **kw
    )


def _pounds(label: str, description: str = "") -> StringField:
    return StringField(
        label,
        description=f"{description} {AMOUNT_HINT}".strip(),
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[Optional(), Length(max=20, message=f"{label} is too long")],
    )


def _pence_text(pence: int | None) -> str:
    """Pence as the coordinator would type them back: 4550 as 45.50."""
    if pence is None:
        return ""
    whole, pennies = divmod(pence, 100)
    return f"{whole}.{pennies:02d}" if pennies else str(whole)


class CourseForm(FlaskForm):
    # The version of the course the coordinator saw: another now means someone else saved.
    version = HiddenField()
    title = _text("Title", "Enter the course's title", 200)
    description = _area("Description", "Enter what the course covers")
    audience = _text(
        "Who it is for",
        "Enter who the course is for",
        300,
        description="In your words, like New designated safeguarding leads",
    )
    staff_level = SelectField(
        "Level of staff",
        widget=SelectInput(),
        choices=[SelectChoice(level.value, level.label) for level in StaffLevel],
        validators=[InputRequired(message="Choose the level of staff")],
    )
    learning_outcomes = _area(
        "Learning outcomes (optional)", None, description="One outcome a line"
    )
    duration_hours = _text("Hours", None, 5)
    duration_minutes = _text("Minutes", None, 5)
    charged = RadioField(
        "Price of a place",
        widget=RadioInput(),
        choices=[SelectChoice("no", "Free"), SelectChoice("yes", "A price per place")],
        validators=[InputRequired(message="Select whether the course is free")],
    )
    price = _pounds("Price per place (£)", "For a maintained school, if not free.")
    member_service = SelectField(
        "Lower price for schools that buy (optional)", widget=SelectInput()
    )
    member_price = _pounds("Lower price per place (£)", "For schools that buy that service.")
    academy_price = _pounds("Academy price per place (optional, £)", "If academies pay another.")
    cancellation_days = _text(
        "Cancellation window, in days",
        "Enter the number of days before a session a place can be given up without charge",
        5,
        description="Giving up a place fewer days than this before a session costs the late "
        "charge, as does not attending",
    )
    late_charge = _pounds(
        "Late-cancellation and no-show charge (optional, £)",
        "Leave empty to charge the price of the place. A free course may have one.",
    )
    submit = SubmitField("Save the course", widget=SubmitInput())

    def __init__(self, services: list[Service], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.member_service.choices = [SelectChoice("", "No lower price")] + [
            SelectChoice(str(s.id), s.name) for s in services
        ]
        self.amounts: dict[str, int | None] = {}
        self.minutes = 0

    @classmethod
    def data_of(cls, course: Any) -> dict[str, Any]:
        """What the form shows for ``course`` before anything is typed."""
        hours, minutes = divmod(course.duration_minutes, 60)
        return {
            "version": str(course.version),
            "title": course.title,
            "description": course.description,
            "audience": course.audience,
            "staff_level": course.staff_level.value,
            "learning_outcomes": course.learning_outcomes,
            "duration_hours": str(hours),
            "duration_minutes": str(minutes),
            "charged": "yes" if course.price_pence else "no",
            "price": _pence_text(course.price_pence or None),
            "member_service": str(course.member_service_id or ""),
            "member_price": _pence_text(course.member_price_pence),
            "academy_price": _pence_text(course.academy_price_pence),
            "cancellation_days": str(course.cancellation_days),
            "late_charge": _pence_text(course.late_charge_pence),
        }

    def validate(self, extra_validators: Any = None) -> bool:
        fine = super().validate(extra_validators)
        self._duration()
        days = whole_number(self.cancellation_days.data)
        if self.cancellation_days.data and (days is None or days > 90):
            self.cancellation_days.errors.append("Enter a number of days from 0 to 90")
        price = pence_in(self.price)
        if self.charged.data == "yes" and not self.price.errors and not price:
            self.price.errors.append("Enter the price of a place, or choose Free")
        price = price if self.charged.data == "yes" else 0
        member = pence_in(self.member_price)
        service = self.member_service.data or None
        if member is not None and service is None:
            self.member_service.errors.append("Choose the service whose buyers pay less")
        if service is not None and member is None and not self.member_price.errors:
            self.member_price.errors.append("Enter the lower price, or choose No lower price")
        if member is not None and price is not None and member > price:
            self.member_price.errors.append(
                "The lower price must be no more than the price per place"
            )
        self.amounts = {
            "price": price,
            "member": member,
            "academy": pence_in(self.academy_price),
            "late": pence_in(self.late_charge),
        }
        return fine and not any(field.errors for field in self)

    def _duration(self) -> None:
        if not self.duration_hours.data and not self.duration_minutes.data:
            self.duration_hours.errors.append("Enter how long the course lasts")
            return
        hours = whole_number(self.duration_hours.data or "0")
        minutes = whole_number(self.duration_minutes.data or "0")
        if hours is None or minutes is None or minutes > 59:
            self.duration_hours.errors.append("Enter the duration in whole hours and minutes")
            return
        self.minutes = hours * 60 + minutes
        if not 15 <= self.minutes <= 7200:
            self.duration_hours.errors.append("The course must last from 15 minutes to 120 hours")

    def details(self) -> CourseDetails:
        member = self.amounts["member"]
        return CourseDetails(
            title=self.title.data or "",
            description=self.description.data or "",
            audience=self.audience.data or "",
            staff_level=StaffLevel(self.staff_level.data),
            learning_outcomes="\n".join(
                line.strip()
                for line in (self.learning_outcomes.data or "").splitlines()
                if line.strip()
            ),
            duration_minutes=self.minutes,
            price_pence=self.amounts["price"] or 0,
            member_price_pence=member,
            member_service_id=record_id(self.member_service.data) if member is not None else None,
            academy_price_pence=self.amounts["academy"],
            cancellation_days=whole_number(self.cancellation_days.data) or 0,
            late_charge_pence=self.amounts["late"],
        )


class ConfirmForm(FlaskForm):
    """Publishing or withdrawing a course: the button is the confirmation."""

    submit = SubmitField("Confirm", widget=SubmitInput())


class SessionForm(FlaskForm):
    version = HiddenField()
    day = DateField(
        "Date", format="%d %m %Y", description="For example, 27 3 2027", widget=DateInput()
    )
    starts = StringField(
        "Starts at (UK time)", widget=GovTextInput(), default="09:30", validators=[TIME]
    )
    ends = StringField(
        "Ends at (UK time)", widget=GovTextInput(), default="12:30", validators=[TIME]
    )
    venue = _text("Venue", None, 300, description="Leave empty for a session held only online")
    online_link = _text(
        "Online link",
        None,
        500,
        description="The address to join, starting https://. Leave empty for a session held "
        "only at a venue",
    )
    area = SelectField("Area", widget=SelectInput())
    capacity = _text("Places", "Enter the number of places", 5, description="From 1 to 1,000")
    trainer = _text("Trainer", "Enter who trains", 200)
    submit = SubmitField("Save the session", widget=SubmitInput())

    def __init__(self, areas: list[Area], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.area.choices = [SelectChoice("", "Countywide")] + [
            SelectChoice(str(a.id), a.name) for a in areas
        ]

    @classmethod
    def data_of(cls, session: Any) -> dict[str, Any]:
        return {
            "version": str(session.version),
            "day": clock.today_in_london(session.starts_at),
            "starts": clock.london_time(session.starts_at, "%H:%M"),
            "ends": clock.london_time(session.ends_at, "%H:%M"),
            "venue": session.venue or "",
            "online_link": session.online_link or "",
            "area": str(session.area_id or ""),
            "capacity": str(session.capacity),
            "trainer": session.trainer,
        }

    def validate(self, extra_validators: Any = None) -> bool:
        fine = super().validate(extra_validators)
        day: date | None = self.day.data
        if day is None:
            self.day.errors[:] = ["Enter the session's date, like 27 3 2027"]
        elif not 2000 <= day.year <= 2100:
            self.day.errors.append("Enter a real date, like 27 3 2027")
        capacity = whole_number(self.capacity.data)
        if self.capacity.data and (capacity is None or not 1 <= capacity <= 1000):
            self.capacity.errors.append("Enter a number of places from 1 to 1,000")
        if not self.venue.data and not self.online_link.data:
            self.venue.errors.append("Enter a venue, an online link, or both")
        link = self.online_link.data
        if link:
            parts = urlsplit(link)
            if parts.scheme != "https" or not parts.netloc or " " in link:
                self.online_link.errors.append(
                    "Enter the online link as a full address starting https://"
                )
        if day is not None and not self.day.errors:
            self._times(day)
        return fine and not any(field.errors for field in self)

    def _times(self, day: date) -> None:
        for field in (self.starts, self.ends):
            if field.errors:
                continue
            # A time the clocks skip (the spring change) is not a time anyone meets at.
            if clock.london_time(clock.from_london(day, field.data), "%H:%M") != _padded(
                field.data
            ):
                field.errors.append("That time does not exist on that day: the clocks change")
        if (
            not self.starts.errors
            and not self.ends.errors
            and _padded(self.ends.data) <= _padded(self.starts.data)
        ):
            self.ends.errors.append("The session must end after it starts")

    def details(self) -> SessionDetails:
        day = self.day.data
        assert day is not None  # validated
        return SessionDetails(
            starts_at=clock.from_london(day, self.starts.data),
            ends_at=clock.from_london(day, self.ends.data),
            venue=self.venue.data or None,
            online_link=self.online_link.data or None,
            area_id=record_id(self.area.data),
            capacity=whole_number(self.capacity.data) or 0,
            trainer=self.trainer.data or "",
        )


def _padded(text: str) -> str:
    """ "9:30" as "09:30", to compare times as text."""
    hours, _, minutes = text.partition(":")
    return f"{int(hours):02d}:{minutes}"


class CancelSessionForm(FlaskForm):
    reason = _area(
        "Why it is cancelled",
        "Enter why the session is cancelled: everyone booked is told",
        500,
        description="Everyone booked or on the waiting list is e-mailed this",
    )
    submit = SubmitField("Cancel the session", widget=SubmitInput())


class RegisterForm(FlaskForm):
    """The register: one choice for each confirmed place, named ``attendance-<booking id>``,
    read by the view (the places are the session's, not the form's)."""

    submit = SubmitField("Save the register", widget=SubmitInput())
