"""The accounts forms, with GOV.UK's wording for every failure."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import Field, PasswordField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from portal.accounts.invitations import Invitation, InviteOptions
from portal.accounts.roles import SCHOOL_ROLES
from portal.forms import email_address, strip_whitespace
from portal.models import Role
from portal.numbers import record_id
from portal.passwords import MIN_LENGTH, password_problem, service_names

PASSWORDS_DIFFER = "Enter the same password twice"
PASSWORD_HINT = (
    f"Use {MIN_LENGTH} characters or more. Three or four unrelated words make a password "
    "that is easy to remember and hard to guess."
)


def _password_field(label: str) -> PasswordField:
    return PasswordField(
        label,
        description=PASSWORD_HINT,
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a password")],
    )


def _confirm_field() -> PasswordField:
    return PasswordField(
        "Confirm your password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Confirm your password")],
    )


class _PasswordPolicy:
    """Checks ``password`` against the policy (portal/passwords.py), and ``confirm`` against it.

    Passwords are never stripped or sent back to the browser: every character counts.
    """

    account_email: str
    password: PasswordField

    def validate_password(self, field: Field) -> None:
        problem = password_problem(
            field.data or "", email=self.account_email, names=service_names()
        )
        if problem:
            raise ValidationError(problem)

    def validate_confirm(self, field: Field) -> None:
        # Only once the password itself is acceptable: one problem at a time.
        if not self.password.errors and field.data != self.password.data:
            raise ValidationError(PASSWORDS_DIFFER)


class NewPasswordForm(_PasswordPolicy, FlaskForm):
    """Choosing a password: on accepting an invitation, or from a reset link."""

    password = _password_field("Create a password")
    confirm = _confirm_field()
    submit = SubmitField("Save password", widget=GovSubmitInput())

    def __init__(self, email: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account_email = email


class ChangePasswordForm(_PasswordPolicy, FlaskForm):
    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Enter your current password"),
            Length(max=1024, message="Password must be 1,024 characters or fewer"),
        ],
    )
    password = _password_field("New password")
    confirm = _confirm_field()
    submit = SubmitField("Change password", widget=GovSubmitInput())

    def __init__(self, email: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account_email = email


class ForgotPasswordForm(FlaskForm):
    email = StringField(
        "E-mail address",
        description="The address you sign in with",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=email_address("Enter your e-mail address", "name@school.example"),
    )
    submit = SubmitField("Send me a link", widget=GovSubmitInput())


NO_CHOICE = ""


class InviteForm(FlaskForm):
    email = StringField(
        "E-mail address",
        description="Their work address: the invitation goes there, and they sign in with it",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=email_address("Enter their e-mail address", "name@school.example"),
    )
    display_name = StringField(
        "Full name",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            DataRequired(message="Enter their full name"),
            Length(max=120, message="Full name must be 120 characters or fewer"),
        ],
    )
    role = RadioField(
        "Role",
        widget=GovRadioInput(),
        validators=[InputRequired(message="Choose their role")],
        validate_choice=False,
    )
    school = SelectField(
        "School",
        description="For school staff and head teachers",
        widget=GovSelect(),
        validate_choice=False,
    )
    trust = SelectField(
        "Trust",
        description="For trust leads",
        widget=GovSelect(),
        validate_choice=False,
    )
    area = SelectField(
        "Area",
        description="For CAF officers",
        widget=GovSelect(),
        validate_choice=False,
    )
    submit = SubmitField("Send invitation", widget=GovSubmitInput())

    def __init__(self, options: InviteOptions, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options = options
        self.role.choices = [SelectChoice(role.value, role.label) for role in options.roles]
        # A head teacher of one school has nothing to choose: their school is the answer.
        prompt = [] if len(options.schools) == 1 else [SelectChoice(NO_CHOICE, "Choose a school")]
        self.school.choices = prompt + [
            SelectChoice(str(school.id), f"{school.name} (URN {school.urn})")
            for school in options.schools
        ]
        self.trust.choices = [SelectChoice(NO_CHOICE, "Choose a trust")] + [
            SelectChoice(str(trust.id), trust.name) for trust in options.trusts
        ]
        self.area.choices = [SelectChoice(NO_CHOICE, "Choose an area")] + [
            SelectChoice(str(area.id), area.name) for area in options.areas
        ]
        if not self.is_submitted() and options.roles == list(SCHOOL_ROLES):
            self.role.data = Role.SCHOOL_STAFF.value

    @property
    def chosen_role(self) -> Role | None:
        allowed = {role.value: role for role in self.options.roles}
        return allowed.get(self.role.data or "")

    def validate_role(self, field: Field) -> None:
        if self.chosen_role is None:
            raise ValidationError("Choose their role")

    def _chosen(self, field: SelectField, ids: set[int], message: str) -> None:
        value = field.data or ""
        if record_id(value) not in ids:
            raise ValidationError(message)

    def validate_school(self, field: SelectField) -> None:
        if self.chosen_role in SCHOOL_ROLES:
            self._chosen(field, {s.id for s in self.options.schools}, "Choose their school")

    def validate_trust(self, field: SelectField) -> None:
        if self.chosen_role is Role.TRUST_LEAD:
            self._chosen(field, {t.id for t in self.options.trusts}, "Choose their trust")

    def validate_area(self, field: SelectField) -> None:
        if self.chosen_role is Role.CAF_OFFICER:
            self._chosen(field, {a.id for a in self.options.areas}, "Choose their area")

    @property
    def shows_organisations(self) -> tuple[bool, bool, bool]:
        """Which of school, trust and area this inviter has any choice of."""
        return bool(self.options.schools), bool(self.options.trusts), bool(self.options.areas)

    def invitation(self) -> Invitation:
        role = self.chosen_role
        assert role is not None, "only for a validated form"

        def number(field: SelectField) -> int | None:
            value = field.data or ""
            return record_id(value)

        return Invitation(
            email=self.email.data or "",
            display_name=self.display_name.data or "",
            role=role,
            school_id=number(self.school),
            trust_id=number(self.trust),
            area_id=number(self.area),
        )


class ConfirmForm(FlaskForm):
    """No fields: a CSRF-protected button (deactivate, reactivate)."""
