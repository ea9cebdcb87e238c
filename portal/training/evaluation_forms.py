"""The evaluation form: two ratings out of five and two short answers."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from portal.forms import RadioInput, SubmitInput, TextArea, strip_whitespace

# The longest answer kept (a few paragraphs).
ANSWER_LENGTH = 2000

OVERALL = [
    ("5", "Excellent"),
    ("4", "Good"),
    ("3", "Satisfactory"),
    ("2", "Poor"),
    ("1", "Very poor"),
]
OUTCOMES_MET = [
    ("5", "Fully"),
    ("4", "Mostly"),
    ("3", "Partly"),
    ("2", "A little"),
    ("1", "Not at all"),
]


def _choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class EvaluationForm(FlaskForm):
    overall = RadioField(
        "Overall, how would you rate the course?",
        widget=RadioInput(),
        choices=_choices(OVERALL),
        validators=[InputRequired(message="Select how you would rate the course overall")],
    )
    met_outcomes = RadioField(
        "How well did the course meet its learning outcomes?",
        widget=RadioInput(),
        choices=_choices(OUTCOMES_MET),
        validators=[InputRequired(message="Select how well the course met its outcomes")],
    )
    will_use = TextAreaField(
        "What will you use from the course in your work? (optional)",
        widget=TextArea(),
        filters=[strip_whitespace],
        validators=[
            Length(max=ANSWER_LENGTH, message="Keep this answer to 2,000 characters or fewer")
        ],
    )
    comments = TextAreaField(
        "Any other comments on the course or the session? (optional)",
        widget=TextArea(),
        filters=[strip_whitespace],
        validators=[
            Length(max=ANSWER_LENGTH, message="Keep your comments to 2,000 characters or fewer")
        ],
    )
    submit = SubmitField("Send evaluation", widget=SubmitInput())
