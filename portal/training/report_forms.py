"""The take-up report's filter: a period of London dates, and a course or an area; and
the plain values it gives the report (portal/training/take_up.py).

A GET form, so that a report can be bookmarked and shared, and the CSV download asks for
the same figures: no CSRF token, since it changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation

from portal import clock
from portal.forms import DateInput, SelectInput
from portal.numbers import record_id


@dataclass(frozen=True)
class Period:
    """London dates, both ends included."""

    start: date
    end: date

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC moments: from its first London moment to the next day's."""
        return _start_of(self.start), _start_of(self.end + timedelta(days=1))

    @property
    def slug(self) -> str:
        return f"{self.start.isoformat()}-to-{self.end.isoformat()}"


def financial_year_period(today: date) -> Period:
    """The financial year ``today`` falls in: 1 April to 31 March."""
    year = clock.financial_year(today)
    return Period(date(year, 4, 1), date(year + 1, 3, 31))


def _start_of(day: date) -> datetime:
    """The first moment of a London day, in UTC."""
    return datetime.combine(day, time.min, tzinfo=clock.LONDON).astimezone(UTC)


@dataclass(frozen=True)
class Choice:
    """A course or an area the report can be narrowed to."""

    id: int
    name: str


@dataclass(frozen=True)
class TakeUpFilter:
    period: Period
    course_id: int | None = None
    area_id: int | None = None


@dataclass(frozen=True)
class TakeUpChoices:
    """What the filter form offers: every course and every area, by name."""

    courses: list[Choice]
    areas: list[Choice]
    # Open schools per area id: the share of schools is of these.
    open_schools: dict[int, int] = field(default_factory=dict)


# Years a period's dates may be in: no training is older, and none so far ahead.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
EVERY = ""


class TakeUpForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = DateField(
        "From", format="%d %m %Y", description="For example, 1 4 2026", widget=DateInput()
    )
    date_to = DateField(
        "To", format="%d %m %Y", description="For example, 31 3 2027", widget=DateInput()
    )
    course = SelectField("Course", widget=SelectInput(), validate_choice=False)
    area = SelectField("Area", widget=SelectInput(), validate_choice=False)

    def __init__(self, *args: Any, choices: TakeUpChoices, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.financial_year = financial_year_period(today)
        self.course.choices = [SelectChoice(EVERY, "Every course")] + [
            SelectChoice(str(choice.id), choice.name) for choice in choices.courses
        ]
        self.area.choices = [SelectChoice(EVERY, "Every area")] + [
            SelectChoice(str(choice.id), choice.name) for choice in choices.areas
        ]
        self._course_ids = {choice.id for choice in choices.courses}
        self._area_ids = {choice.id for choice in choices.areas}
        # Nothing typed: the financial year we are in, shown in the boxes as chosen.
        for date_field, default in (
            (self.date_from, self.financial_year.start),
            (self.date_to, self.financial_year.end),
        ):
            if not _typed(date_field):
                date_field.data, date_field.raw_data = default, None
                date_field.process_errors = []

    def validate_date_from(self, field: DateField) -> None:
        _a_date(field, "The from date")

    def validate_date_to(self, field: DateField) -> None:
        _a_date(field, "The to date")
        start = self.date_from.data
        if field.data is None or start is None or self.date_from.errors:
            return
        if start > field.data:
            raise StopValidation("The to date must be the same as or after the from date")

    def validate_course(self, field: SelectField) -> None:
        if (field.data or EVERY) != EVERY and record_id(field.data) not in self._course_ids:
            raise StopValidation("Select a course from the list, or every course")

    def validate_area(self, field: SelectField) -> None:
        if (field.data or EVERY) != EVERY and record_id(field.data) not in self._area_ids:
            raise StopValidation("Select an area from the list, or every area")

    @property
    def chosen(self) -> TakeUpFilter:
        """What the figures are for (once the form is valid)."""
        assert self.date_from.data is not None and self.date_to.data is not None
        return TakeUpFilter(
            period=Period(self.date_from.data, self.date_to.data),
            course_id=record_id(self.course.data) if self.course.data else None,
            area_id=record_id(self.area.data) if self.area.data else None,
        )


def _typed(field: DateField) -> bool:
    return any(part.strip() for part in field.raw_data or [])


def _a_date(field: DateField, name: str) -> None:
    """A whole, real date (an empty one has been given its default already)."""
    if not _typed(field):
        return
    field.errors.clear()  # the date parser's own complaint, in GOV.UK's words below
    if field.data is None:
        raise StopValidation(f"{name} must be a real date, like 1 4 2026")
    if not EARLIEST_YEAR <= field.data.year < LATEST_YEAR:
        raise StopValidation(f"{name} must be between {EARLIEST_YEAR} and {LATEST_YEAR - 1}")
