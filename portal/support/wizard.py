"""The question pages of a support request: which apply, in what order, and the answers
kept between them (in the signed session, so nothing is saved until it is sent)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import session, url_for
from flask_wtf import FlaskForm

from portal.models import LevelOfNeed, SupportKind, Urgency
from portal.support import forms
from portal.support.dates import response_target_days
from portal.support.needs import AREAS_OF_NEED

DRAFT_KEY = "support_draft"


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    fields: tuple[str, ...]
    build: Callable[..., FlaskForm]
    applies: Callable[[dict[str, Any]], bool] = lambda answers: True
    # A page of one question uses the question as its heading.
    heading: str | None = None


def _consent(answers: dict[str, Any]) -> bool:
    return answers.get("consent") != "no"


def _about_a_child(answers: dict[str, Any]) -> bool:
    return answers.get("kind") != SupportKind.TRAINING.value


def _targets() -> dict[Urgency, int]:
    return {u: response_target_days(u) for u in Urgency}


STEPS: tuple[Step, ...] = (
    Step(
        "school",
        "School",
        ("school_id",),
        lambda answers, **kw: forms.SchoolForm(**kw),
        # Only asked of people who work with more than one school (trust leads).
        applies=lambda answers: answers.get("_schools", 1) > 1,
    ),
    Step("consent", "Consent", ("consent",), lambda answers, **kw: forms.ConsentForm(**kw)),
    Step(
        "kind",
        "Support needed",
        ("kind",),
        lambda answers, **kw: forms.KindForm(consent=_consent(answers), **kw),
    ),
    Step(
        "child",
        "The child",
        ("initials", "year_group"),
        lambda answers, **kw: forms.ChildForm(consent=_consent(answers), **kw),
        applies=_about_a_child,
        heading="About the child",
    ),
    Step(
        "level",
        "Level of need",
        ("level",),
        lambda answers, **kw: forms.LevelForm(**kw),
        applies=_about_a_child,
    ),
    Step(
        "needs",
        "Areas of need",
        ("needs",),
        lambda answers, **kw: forms.NeedsForm(**kw),
        applies=_about_a_child,
    ),
    Step(
        "urgency",
        "Urgency",
        ("urgency",),
        lambda answers, **kw: forms.UrgencyForm(targets=_targets(), **kw),
    ),
    Step(
        "contact",
        "How to contact you",
        ("contact_by", "contact_phone", "contact_times"),
        lambda answers, **kw: forms.ContactForm(**kw),
        heading="How to contact you",
    ),
    Step(
        "details",
        "Anything else",
        ("details",),
        lambda answers, **kw: forms.DetailsForm(**kw),
    ),
)

BY_SLUG = {step.slug: step for step in STEPS}


def answers() -> dict[str, Any]:
    return dict(session.get(DRAFT_KEY, {}))


def save(new: dict[str, Any]) -> None:
    current = answers()
    current.update(new)
    # Answers that a later change makes impossible are dropped, so they are asked again.
    if current.get("consent") == "no":
        # Anonymous: the initials are answered, with nothing.
        if "initials" in current or "year_group" in current:
            current["initials"] = None
        if current.get("kind") not in (SupportKind.ADVICE.value, SupportKind.TRAINING.value):
            current.pop("kind", None)
    elif current.get("consent") == "yes" and current.get("initials", "") is None:
        # Consent given after all: the initials are now needed.
        current.pop("initials")
    session[DRAFT_KEY] = current


def clear() -> None:
    session.pop(DRAFT_KEY, None)


def applicable(current: dict[str, Any]) -> list[Step]:
    return [step for step in STEPS if step.applies(current)]


def is_answered(step: Step, current: dict[str, Any]) -> bool:
    # Optional fields (initials for anonymous advice, phone, times, details) are answered
    # once the page has been saved, which stores every field, empty or not.
    return all(name in current for name in step.fields)


def first_unanswered(current: dict[str, Any]) -> Step | None:
    return next((s for s in applicable(current) if not is_answered(s, current)), None)


def after(step: Step, current: dict[str, Any]) -> Step | None:
    steps = applicable(current)
    index = steps.index(step) if step in steps else -1
    return steps[index + 1] if index + 1 < len(steps) else None


def before(step: Step, current: dict[str, Any]) -> Step | None:
    steps = applicable(current)
    index = steps.index(step) if step in steps else 0
    return steps[index - 1] if index > 0 else None


def form_for(step: Step, current: dict[str, Any]) -> FlaskForm:
    """The step's form: what was posted, or else what was answered before."""
    data = {name: current.get(name) for name in step.fields if current.get(name) is not None}
    return step.build(current, data=data)


def values(form: FlaskForm, step: Step) -> dict[str, Any]:
    # A field the page left out (initials, for anonymous advice) is answered as None.
    fields = {name: getattr(form, name, None) for name in step.fields}
    return {name: field.data if field is not None else None for name, field in fields.items()}


def summary(current: dict[str, Any], school_name: str) -> list[dict[str, Any]]:
    """The rows of 'check your answers', each with its Change link's step."""
    consent = {"yes": "Yes, the family has given consent", "no": "No: anonymous advice only"}
    contact = (
        "By telephone on " + (current.get("contact_phone") or "")
        if (current.get("contact_by") == "phone")
        else "By e-mail"
    )
    if current.get("contact_times"):
        contact += ", " + current["contact_times"]

    def label(kind: Any, key: str) -> str:
        return kind(current[key]).label if current.get(key) else ""

    values = {
        "school": ("School", school_name),
        "consent": ("Family's consent", consent.get(current.get("consent", ""), "")),
        "kind": (
            "Support needed",
            SupportKind(current["kind"]).label if current.get("kind") else "",
        ),
        "child": (
            "The child",
            f"{(current.get('initials') or '').upper() or 'Anonymous'}, "
            f"{current.get('year_group') or ''}",
        ),
        "level": (
            "Level of need",
            LevelOfNeed(current["level"]).label if current.get("level") else "",
        ),
        "needs": ("Areas of need", ", ".join(AREAS_OF_NEED[n] for n in current.get("needs") or [])),
        "urgency": ("Urgency", label(Urgency, "urgency")),
        "contact": ("Contact me", contact),
        "details": ("Anything else", current.get("details") or "None"),
    }
    rows = []
    for step in applicable(current):
        key, value = values[step.slug]
        rows.append(
            {
                "key": {"text": key},
                "value": {"text": value},
                "actions": {
                    "items": [
                        {
                            "href": url_for("support.question", slug=step.slug, change=1),
                            "text": "Change",
                            "visuallyHiddenText": key.lower(),
                        }
                    ]
                },
            }
        )
    return rows
