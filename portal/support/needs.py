"""The words of a request's questions that the form, the wizard and the request's page share."""

from __future__ import annotations

# The areas of need a school can tick, in the words of councils' early help forms.
AREAS_OF_NEED = {
    "learning": "Learning and progress",
    "attendance": "Attendance",
    "behaviour": "Behaviour",
    "emotional_health": "Emotional health and wellbeing",
    "physical_health": "Physical health or development",
    "family_relationships": "Family relationships",
    "parenting": "Parenting support",
    "housing_money": "Housing or money worries",
    "young_carer": "Young carer",
    "domestic_abuse": "Domestic abuse (no immediate risk)",
    "substance_misuse": "Drugs or alcohol in the family",
}

YEAR_GROUPS = ["Nursery", "Reception"] + [f"Year {n}" for n in range(1, 14)]
