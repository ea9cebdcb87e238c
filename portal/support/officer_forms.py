"""The officers' forms: an update to a request, giving it to an officer, and the dates of the
statistics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, NamedTuple

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    InputRequired,
    Length,
    StopValidation,
    ValidationError,
)

from portal.forms import (
    DateInput,
    RadioInput,
    SelectInput,
    SubmitInput,
    TextArea,
    strip_whitespace,
    within_a_year_of,
)
from portal.models import (
    RedirectReason,
    SupportOutcome,
    SupportStatus,
)
from portal.support.dates import today_in_london
from portal.support.forms import select_choices
from portal.support.request_page import Officer
from portal.support.stats import LONGEST_PERIOD_MONTHS, Period
from portal.support.updates import next_statuses, refusal

NOTE_ONLY = "note"


class UpdateForm(FlaskForm):
    """One form for every update, so that a conflict can hand everything typed back. It asks
    only what fits the request's status: the meeting date only where a meeting can be
    arranged, the outcome only where the request can be closed."""

    # The version the officer saw: a different one now means someone else got there first.
    version = HiddenField()
    action = RadioField(
        "What do you want to do?",
        widget=RadioInput(),
        # Checked below against the request's status, with a message that says why not.
        validate_choice=False,
        validators=[InputRequired(message="Select what you want to do")],
    )
    meeting_on = DateField(
        "Meeting date (if arranging the meeting)",
        format="%d %m %Y",
        description="For example, 27 3 2027. Within a year of today, before or after.",
        widget=DateInput(),
    )
    outcome = RadioField(
        "Outcome (if closing)",
        widget=RadioInput(),
        choices=select_choices([(o.value, o.label) for o in SupportOutcome]),
        validate_choice=False,
    )
    redirect_reason = RadioField(
        "Reason (if redirecting)",
        widget=RadioInput(),
        choices=select_choices([(r.value, r.label) for r in RedirectReason]),
        validate_choice=False,
    )
    note = TextAreaField(
        "Note",
        widget=TextArea(),
        filters=[strip_whitespace],
        validators=[Length(max=2000, message="Keep the note to 2,000 characters or fewer")],
    )
    shared = RadioField(
        "Who can read the note?",
        widget=RadioInput(),
        choices=select_choices(
            [("school", "The school and the council"), ("council", "The council only")]
        ),
        default="school",
        validators=[InputRequired(message="Select who can read the note")],
    )
    submit = SubmitField("Save update", widget=SubmitInput())

    # Each status change in the officer's words, and the field it needs (if any).
    ACTIONS: ClassVar[dict[SupportStatus, tuple[str, str | None]]] = {
        SupportStatus.ACKNOWLEDGED: ("Acknowledge it", None),
        SupportStatus.IN_PROGRESS: ("Arrange a meeting (in progress)", "meeting_on"),
        SupportStatus.CLOSED: ("Close it with an outcome", "outcome"),
        SupportStatus.REDIRECTED: ("Redirect it", "redirect_reason"),
    }

    def __init__(self, *args: Any, status: SupportStatus, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status = status
        possible = next_statuses(status)
        self.action.choices = [SelectChoice(s.value, self.ACTIONS[s][0]) for s in possible] + [
            SelectChoice(NOTE_ONLY, "Add a note only")
        ]
        # What no possible action needs is not asked at all.
        needed = {self.ACTIONS[s][1] for s in possible}
        for name in ("meeting_on", "outcome", "redirect_reason"):
            if name not in needed:
                delattr(self, name)

    def validate_action(self, field: RadioField) -> None:
        if field.data == NOTE_ONLY:
            return
        chosen = (
            SupportStatus(field.data) if field.data in SupportStatus._value2member_map_ else None
        )
        refused = refusal(self.status, chosen) if chosen else "Select what you want to do"
        if refused is not None:
            raise StopValidation(refused)

    # These fields are needed only for some actions, so each checks itself here rather than
    # with Optional(), which would stop these checks from running at all.
    def validate_meeting_on(self, field: DateField) -> None:
        field.errors.clear()  # the date parser's own complaint about empty boxes
        if self.action.data != SupportStatus.IN_PROGRESS.value:
            field.data = None
            raise StopValidation()
        if field.data is None:
            typed = any(part.strip() for part in field.raw_data or [])
            raise StopValidation(
                "Meeting date must be a real date, like 27 3 2027"
                if typed
                else "Enter the meeting date"
            )
        # A meeting in 2020, or in 2207, is a slip of the keyboard, not a meeting.
        earliest, latest = within_a_year_of(today_in_london())
        if not earliest <= field.data <= latest:
            raise StopValidation(
                f"Meeting date must be within a year of today: between "
                f"{earliest:%-d %B %Y} and {latest:%-d %B %Y}"
            )

    def validate_outcome(self, field: RadioField) -> None:
        if self.action.data != SupportStatus.CLOSED.value:
            return
        if field.data not in SupportOutcome._value2member_map_:
            raise ValidationError("Select the outcome")

    def validate_redirect_reason(self, field: RadioField) -> None:
        if self.action.data != SupportStatus.REDIRECTED.value:
            return
        if field.data not in RedirectReason._value2member_map_:
            raise ValidationError("Select why it is being redirected")

    def validate_note(self, field: TextAreaField) -> None:
        if self.action.data == NOTE_ONLY and not field.data:
            raise ValidationError("Enter the note")


class _Value(NamedTuple):
    data: str


@dataclass(frozen=True)
class UnsentUpdateForm:
    """The update form as a request's page first shows it (a GET), without building the
    form: nothing is wrong with it yet, its ``version`` is the request's, and its fields as
    first shown are a function of the ``status`` alone, drawn once for each status
    (support/display.py update_fields_html, which builds an UpdateForm only to draw them the
    first time). What the template reads of an UpdateForm, no more."""

    status: SupportStatus
    version: _Value
    errors: ClassVar[dict[str, list[str]]] = {}

    @classmethod
    def of(cls, status: SupportStatus, version: int) -> UnsentUpdateForm:
        return cls(status, _Value(str(version)))


UNASSIGNED = ""


class AssignForm(FlaskForm):
    """Give the request to a CAF officer of its area, or to nobody."""

    officer = SelectField("CAF officer", widget=SelectInput(), validate_choice=False)
    submit = SubmitField("Assign", widget=SubmitInput())

    def __init__(
        self, *args: Any, officers: Sequence[Any], current: Officer | None, **kwargs: Any
    ) -> None:
        """``officers``: those the request may be given to, each with an id and a name;
        ``current``: whom it is with now."""
        super().__init__(*args, **kwargs)
        choices = [SelectChoice(UNASSIGNED, "Nobody (unassigned)")] + [
            SelectChoice(str(o.id), o.display_name) for o in officers
        ]
        if current is not None and current.id not in {o.id for o in officers}:
            # Someone who has since left the area's officers: shown as it is, and kept if
            # the form is sent unchanged, but nobody new can be given a request this way.
            choices.append(
                SelectChoice(str(current.id), f"{current.display_name} (no longer an officer here)")
            )
        self.officer.choices = choices
        self.officer.validators = [
            AnyOf(
                [choice.value for choice in choices],
                message="Choose a CAF officer of this request's area, or nobody",
            )
        ]

    @property
    def chosen_id(self) -> int | None:
        return int(self.officer.data) if self.officer.data else None


@dataclass(frozen=True)
class UnsentAssignForm:
    """The assign form as a request's page first shows it (a GET), without building the
    form: whom the request may be given to (``officers``) and whom it is with (``current``);
    nothing is wrong with it yet. Its fields are a function of these and the area's name,
    drawn once for each (support/display.py assign_fields_html, which builds the form only to
    draw them the first time). What the template reads of an AssignForm, no more."""

    officers: tuple[Officer, ...]
    current: Officer | None
    errors: ClassVar[dict[str, list[str]]] = {}

    def form(self) -> AssignForm:
        """The form itself, as first shown: with whom the request is with chosen."""
        form = AssignForm(formdata=None, officers=self.officers, current=self.current)
        form.officer.data = str(self.current.id) if self.current else ""
        return form


class StatisticsForm(FlaskForm):
    """The period of the statistics: dates submitted, either end open. A GET form, so that a
    period can be bookmarked and shared: no CSRF token, since it changes nothing."""

    class Meta:
        csrf = False

    date_from = DateField(
        "From", format="%d %m %Y", description="For example, 1 4 2026", widget=DateInput()
    )
    date_to = DateField(
        "To", format="%d %m %Y", description="For example, 31 3 2027", widget=DateInput()
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def validate_date_from(self, field: DateField) -> None:
        _optional_date(field, "The from date")
        if field.data is not None and field.data > self.today:
            raise StopValidation("The from date must be today or in the past")

    def validate_date_to(self, field: DateField) -> None:
        _optional_date(field, "The to date")
        start = self.date_from.data
        if field.data is None or start is None or self.date_from.errors:
            return
        if start > field.data:
            raise StopValidation("The to date must be the same as or after the from date")

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        period = self.period
        months = period.months(self.today)
        if len(months) > LONGEST_PERIOD_MONTHS:
            self.date_from.errors = [
                f"The period can be at most {LONGEST_PERIOD_MONTHS // 12} years: "
                "choose a later from date"
            ]
            return False
        return True

    @property
    def period(self) -> Period:
        return Period(self.date_from.data, self.date_to.data)


# Years of the statistics' dates: no request is older, and none can be so far ahead.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def _optional_date(field: DateField, name: str) -> None:
    """A date that may be left empty, but not half typed or impossible."""
    field.errors.clear()  # the date parser's own complaint, in GOV.UK's words below
    if not any(part.strip() for part in field.raw_data or []):
        field.data = None
        raise StopValidation()
    if field.data is None:
        raise StopValidation(f"{name} must be a real date, like 1 4 2026")
    if not EARLIEST_YEAR <= field.data.year < LATEST_YEAR:
        raise StopValidation(f"{name} must be between {EARLIEST_YEAR} and {LATEST_YEAR - 1}")
