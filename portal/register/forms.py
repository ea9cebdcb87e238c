from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSubmitInput, GovTextArea
from wtforms import SubmitField, TextAreaField
from wtforms.validators import ValidationError

from portal.register.values import district_key

MAX_DISTRICTS = 50


class UploadForm(FlaskForm):
    extract = FileField(
        "GIAS establishment extract",
        description="The CSV file of establishments downloaded from Get Information about "
        "Schools: all of England, or your council's schools",
        widget=GovFileInput(),
        validators=[
            FileRequired(message="Choose the CSV file downloaded from GIAS"),
            FileAllowed(["csv"], message="The extract must be a CSV file"),
        ],
    )
    links = FileField(
        "GIAS links file (optional)",
        description="The CSV file of links between establishments, to find the successor of a "
        "school that closes (for example one that became an academy)",
        widget=GovFileInput(),
        validators=[FileAllowed(["csv"], message="The links file must be a CSV file")],
    )
    submit = SubmitField("Check the file", widget=GovSubmitInput())


class DistrictsForm(FlaskForm):
    districts = TextAreaField(
        "Districts",
        description="One a line, spelt as GIAS spells them (DistrictAdministrative), for "
        "example North Warwickshire",
        widget=GovTextArea(),
    )
    submit = SubmitField("Save districts", widget=GovSubmitInput())

    def __init__(self, elsewhere: dict[str, str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # District (normalised) -> the other area that already has it.
        self.elsewhere = elsewhere

    def validate_districts(self, field: TextAreaField) -> None:
        districts = self.cleaned()
        if len(districts) > MAX_DISTRICTS:
            raise ValidationError(f"Enter {MAX_DISTRICTS} districts or fewer")
        for district in districts:
            if len(district) > 100:
                raise ValidationError("Each district must be 100 characters or fewer")
            other = self.elsewhere.get(district_key(district))
            if other is not None:
                raise ValidationError(
                    f"{district} is already a district of the {other} area: a district's "
                    "schools can be in one area only, so remove it there first"
                )

    def cleaned(self) -> list[str]:
        """The districts entered, each once, spaces tidied, in the order given."""
        seen: dict[str, str] = {}
        for line in (self.districts.data or "").splitlines():
            district = " ".join(line.split())
            if district:
                seen.setdefault(district_key(district), district)
        return list(seen.values())


class ConfirmForm(FlaskForm):
    """No fields: a CSRF-protected button (apply, assign, mark as reviewed)."""
