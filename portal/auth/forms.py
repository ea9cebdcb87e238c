from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from portal.forms import email_address, strip_whitespace


class SignInForm(FlaskForm):
    email = StringField(
        "E-mail address",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=email_address("Enter your e-mail address", "name@school.example"),
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Enter your password"),
            Length(max=1024, message="Password must be 1,024 characters or fewer"),
        ],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class SignOutForm(FlaskForm):
    """No fields: it exists so that signing out is a CSRF-protected POST."""


class SecurityCodeForm(FlaskForm):
    """The second step of a council sign-in: the app's code, or a recovery code."""

    code = StringField(
        "Security code",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            InputRequired(message="Enter the code from your authenticator app"),
            Length(max=40, message="Enter a correct security code"),
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class TwoFactorSetupForm(FlaskForm):
    """Setting up an authenticator app: the code it shows proves it has the secret."""

    # The secret the page showed, signed for this person (see two_factor.setup_token).
    setup = HiddenField()
    code = StringField(
        "Code from your authenticator app",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            InputRequired(message="Enter the 6-digit code from your authenticator app"),
            Length(max=40, message="Enter the 6-digit code from your authenticator app"),
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())
