"""Publishing forms. Prices are typed in pounds and kept in pence.

Longer than most modules: the price option form asks for every pricing basis (its fields
shown by the basis chosen), and turns what is typed for each into a price rule, with the
same words for each mistake wherever it is made.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from portal.forms import email_address, pence_in, strip_whitespace
from portal.models import (
    Audience,
    Eligibility,
    Phase,
    PricingBasis,
    ServiceCategory,
    ServiceKind,
    TradingDecision,
)
from portal.numbers import MAX_PUPILS, MAX_QUANTITY, record_id, whole_number
from portal.phones import parse_uk_phone
from portal.pricing import AMOUNT_HINT, PriceRule, format_pence, parse_pounds, validate
from portal.services.publishing import OptionDetails, ServiceDetails

UNITS = ["hour", "half day", "day", "session", "place", "visit", "course", "post", "employee"]
PHASE_RATES = ["Nursery", "Primary", "Secondary", "All-through"]

_PHASE_RATE_FIELDS = ("rate_nursery", "rate_primary", "rate_secondary", "rate_all_through")
# What each pricing basis asks for, beyond the name, basis and audience of every option: the
# price-option form shows these fields and no others, and reads no others when it saves.
BASIS_FIELDS: dict[PricingBasis, tuple[str, ...]] = {
    PricingBasis.PER_SCHOOL: ("amount",),
    PricingBasis.PER_PUPIL: ("per_pupil", *_PHASE_RATE_FIELDS, "minimum"),
    PricingBasis.FLAT_PLUS_PER_PUPIL: ("amount", "per_pupil", *_PHASE_RATE_FIELDS, "minimum"),
    PricingBasis.BANDED: ("bands",),
    PricingBasis.PER_UNIT: ("unit", "amount", "pack_size", "tiers", "minimum"),
}
# The one amount field means something different on each basis that has it.
AMOUNT_LABELS = {
    PricingBasis.PER_SCHOOL: "Price per school a year (£)",
    PricingBasis.FLAT_PLUS_PER_PUPIL: "Flat fee a year (£)",
    PricingBasis.PER_UNIT: "Price per unit, or per pack (£)",
}


def _text(label: str, required: str | None = None, max_length: int = 200, **kw: Any) -> StringField:
    validators: list[Any] = [DataRequired(message=required)] if required else [Optional()]
    validators.append(
        Length(max=max_length, message=f"{label} must be {max_length} characters or fewer")
    )
    return StringField(
        label, widget=GovTextInput(), filters=[strip_whitespace], validators=validators, **kw
    )


def _area(label: str, required: str | None = None, **kw: Any) -> TextAreaField:
    validators: list[Any] = [DataRequired(message=required)] if required else [Optional()]
    validators.append(Length(max=4000, message=f"{label} must be 4,000 characters or fewer"))
    return TextAreaField(
        label, widget=GovTextArea(), filters=[strip_whitespace], validators=validators, **kw
    )


class ServiceForm(FlaskForm):
    name = _text("Name", "Enter the service's name")
    category = SelectField(
        "Category",
        widget=GovSelect(),
        validators=[InputRequired(message="Choose a category")],
    )
    kind = RadioField(
        "Kind of service",
        widget=GovRadioInput(),
        choices=[SelectChoice(k.value, k.label) for k in ServiceKind],
        validators=[InputRequired(message="Select the kind of service")],
    )
    summary = _text("Summary", "Enter a one-line summary", max_length=300)
    included = _area("What is included", "Enter what is included")
    standards = _area("Service standards (optional)")
    statutory_duties = _area("Statutory duties it supports (optional)")
    provider_team = _text("Provider team", "Enter the team that provides it")
    contact_email = StringField(
        "Contact e-mail address",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=email_address("Enter a contact e-mail address", "team@council.example"),
    )
    contact_phone = _text("Contact telephone (optional)", max_length=30)
    eligible = SelectMultipleField(
        "Who can use it",
        description="Leave all unticked if every school can.",
        widget=GovCheckboxesInput(),
        choices=[SelectChoice(e.value, e.label) for e in Eligibility],
    )
    phases = SelectMultipleField(
        "Phases",
        description="Leave all unticked if every phase can.",
        widget=GovCheckboxesInput(),
        choices=[SelectChoice(p.value, p.value) for p in Phase if p is not Phase.NOT_APPLICABLE],
    )
    submit = SubmitField("Save service", widget=GovSubmitInput())

    def __init__(self, categories: list[ServiceCategory], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = [SelectChoice("", "Choose a category")] + [
            SelectChoice(str(c.id), c.name) for c in categories
        ]

    def validate_contact_phone(self, field: StringField) -> None:
        if field.data and parse_uk_phone(field.data) is None:
            raise ValidationError("Enter a UK telephone number, like 0121 496 0000")

    def details(self) -> ServiceDetails:
        return ServiceDetails(
            name=self.name.data or "",
            category_id=int(self.category.data),
            kind=ServiceKind(self.kind.data),
            summary=self.summary.data or "",
            included=self.included.data or "",
            standards=self.standards.data or None,
            statutory_duties=self.statutory_duties.data or None,
            provider_team=self.provider_team.data or "",
            contact_email=(self.contact_email.data or "").lower(),
            contact_phone=parse_uk_phone(self.contact_phone.data)
            if self.contact_phone.data
            else None,
            eligible=tuple(self.eligible.data or ()),
            phases=tuple(self.phases.data or ()),
        )


class OfferForm(FlaskForm):
    decision = RadioField(
        "Trading decision",
        widget=GovRadioInput(),
        choices=[SelectChoice(d.value, d.label) for d in TradingDecision],
        validators=[InputRequired(message="Select the trading decision")],
    )
    vat = RadioField(
        "Does VAT apply?",
        widget=GovRadioInput(),
        choices=[SelectChoice("no", "No"), SelectChoice("yes", "Yes, at 20%")],
        validators=[InputRequired(message="Select whether VAT applies")],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


def _pounds(label: str, description: str = "", **kw: Any) -> StringField:
    return StringField(
        label,
        # The most an amount may be, said beside it (parse_pounds refuses more).
        description=f"{description} {AMOUNT_HINT}".strip(),
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[Optional(), Length(max=20, message=f"{label} is too long")],
        **kw,
    )


_BASES = frozenset(basis.value for basis in PricingBasis)


class OptionForm(FlaskForm):
    name = _text("Name of the option", "Enter a name for the option, like Annual subscription", 120)
    basis = RadioField(
        "Pricing basis",
        widget=GovRadioInput(),
        choices=[SelectChoice(b.value, b.label) for b in PricingBasis],
        validators=[InputRequired(message="Select the pricing basis")],
    )
    audience = RadioField(
        "Which schools is this price for?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(Audience.ALL.value, "All schools"),
            SelectChoice(Audience.MAINTAINED.value, "Maintained schools only"),
            SelectChoice(Audience.ACADEMIES.value, "Academies and free schools only"),
        ],
        default=Audience.ALL.value,
        validators=[InputRequired(message="Select which schools the price is for")],
    )
    # The basis whose fields the page showed: "Save" saves only what was asked for.
    shown_basis = HiddenField()
    # Without JavaScript the basis is chosen first, and this draws its fields; with htmx
    # they are swapped in as the basis changes.
    choose_basis = SubmitField("Continue", widget=GovSubmitInput())
    amount = _pounds(
        "Amount (£)",
        description="Per school; the flat fee; or the price per unit or per pack.",
    )
    per_pupil = _pounds("Rate per pupil (£)")
    rate_nursery = _pounds("Rate per pupil for nursery schools (£, optional)")
    rate_primary = _pounds("Rate per pupil for primary schools (£, optional)")
    rate_secondary = _pounds("Rate per pupil for secondary schools (£, optional)")
    rate_all_through = _pounds("Rate per pupil for all-through schools (£, optional)")
    bands = TextAreaField(
        "Bands by pupils on roll",
        description="One band a line: from, to and the price, like 0-100: 765.00. "
        "Leave the last band open, like 101+: 1224.00. "
        f"Pupils up to {MAX_PUPILS:,}; prices {AMOUNT_HINT.lower()}",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        validators=[Optional(), Length(max=2000, message="Bands are too long")],
    )
    unit = SelectField(
        "Unit (for per unit prices)",
        widget=GovSelect(),
        choices=[SelectChoice("", "Choose a unit")] + [SelectChoice(u, u) for u in UNITS],
        # Checked in validate_unit; no answer is asked for in details(), as "Choose the unit".
        validate_choice=False,
    )
    tiers = TextAreaField(
        "Volume tiers (optional, per unit)",
        description="One a line: from how many units, and the price per unit, like 10: 500.00. "
        f"From 1 to {MAX_QUANTITY:,} units; prices {AMOUNT_HINT.lower()}",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        validators=[Optional(), Length(max=2000, message="Tiers are too long")],
    )
    pack_size = _text(
        "Pack size (optional, per unit)",
        # Long enough for any number typed to be read, and answered as the number it is.
        max_length=20,
        description=f"How many units a pack holds: a whole number from 1 to {MAX_QUANTITY:,}",
    )
    minimum = _pounds("Minimum charge (£, optional)")
    submit = SubmitField("Save price option", widget=GovSubmitInput())

    def chosen_basis(self) -> PricingBasis | None:
        return PricingBasis(self.basis.data) if self.basis.data in _BASES else None

    def saving(self) -> bool:
        """Whether "Save" was pressed on the fields of the basis chosen; "Continue", or a
        basis changed since its fields were drawn, only draws the fields for the basis."""
        return (
            self.is_submitted()
            and not self.choose_basis.data
            and self.chosen_basis() is not None
            and self.shown_basis.data == self.basis.data
        )

    def amount_label(self) -> str:
        """The amount field's label for the chosen basis: a price, a fee, a unit price."""
        basis = self.chosen_basis()
        if basis is None:
            return self.amount.label.text
        return AMOUNT_LABELS.get(basis, self.amount.label.text)

    def show_basis(self) -> tuple[Field, ...]:
        """Ready the form to be drawn for the chosen basis: its fields, none without one.

        Submitted with no basis chosen, says so beside the basis.
        """
        basis = self.chosen_basis()
        if basis is None and self.is_submitted() and not self.basis.errors:
            self.basis.errors = ["Select the pricing basis"]
        self.shown_basis.data = basis.value if basis else ""
        return tuple(self[name] for name in BASIS_FIELDS[basis]) if basis else ()

    def _forget_other_bases(self, basis: PricingBasis) -> None:
        # Fields of another basis were not shown: whatever came with them is not the price.
        for name in {name for names in BASIS_FIELDS.values() for name in names}:
            if name not in BASIS_FIELDS[basis]:
                self[name].data, self[name].errors = None, []

    def validate_unit(self, field: SelectField) -> None:
        if field.data not in (None, "", *UNITS):
            raise ValidationError("Choose a unit from the list")

    def details(self) -> OptionDetails | None:
        """The option as entered, or None with the errors put beside the fields."""
        basis = PricingBasis(self.basis.data)
        self._forget_other_bases(basis)
        rates: dict[str, Any] = {}
        by_phase = {}
        for phase, field in zip(
            PHASE_RATES,
            (self.rate_nursery, self.rate_primary, self.rate_secondary, self.rate_all_through),
            strict=True,
        ):
            value = pence_in(field)
            if value is not None:
                by_phase[phase] = value
        if by_phase:
            rates["by_phase"] = by_phase
        if self.bands.data:
            rates["bands"] = _parse_lines(self.bands, _band)
        if self.tiers.data:
            rates["tiers"] = _parse_lines(self.tiers, _tier)
        if self.pack_size.data:
            pack_size = whole_number(self.pack_size.data)
            if pack_size is None or not 1 <= pack_size <= MAX_QUANTITY:
                self.pack_size.errors.append(
                    f"Pack size must be a whole number from 1 to {MAX_QUANTITY:,}"
                )
            else:
                rates["pack_size"] = pack_size
        amount = pence_in(self.amount)
        per_pupil = pence_in(self.per_pupil)
        minimum = pence_in(self.minimum)
        needs_amount = basis in (
            PricingBasis.PER_SCHOOL,
            PricingBasis.FLAT_PLUS_PER_PUPIL,
            PricingBasis.PER_UNIT,
        )
        if needs_amount and amount is None and not self.amount.errors and not rates.get("tiers"):
            self.amount.errors.append("Enter the amount")
        needs_rate = basis in (PricingBasis.PER_PUPIL, PricingBasis.FLAT_PLUS_PER_PUPIL)
        if needs_rate and per_pupil is None and not by_phase and not self.per_pupil.errors:
            self.per_pupil.errors.append("Enter the rate per pupil")
        if basis is PricingBasis.BANDED and not self.bands.data:
            self.bands.errors.append("Enter the bands")
        if basis is PricingBasis.PER_UNIT and not self.unit.data:
            self.unit.errors.append("Choose the unit")
        if any(field.errors for field in self):
            return None
        details = OptionDetails(
            name=self.name.data or "",
            basis=basis,
            audience=Audience(self.audience.data),
            amount_pence=amount or 0,
            per_pupil_pence=per_pupil or 0,
            unit=self.unit.data or None,
            minimum_pence=minimum,
            rates=rates,
        )
        # The price engine's own checks (gaps and overlaps in bands, tiers, packs), each put
        # beside the field it is about.
        rule = PriceRule.from_option(SimpleNamespace(**vars(details)), vat=False)
        for problem in validate(rule):
            lowered = problem.lower()
            field = (
                self.bands
                if "band" in lowered
                else self.tiers
                if "tier" in lowered
                else self.pack_size
                if "pack" in lowered
                else self.amount
            )
            field.errors.append(problem)
        return None if any(field.errors for field in self) else details


def _band(text: str) -> dict[str, Any]:
    span, _, price = text.partition(":")
    span = span.replace(" ", "")
    if span.endswith("+"):
        low, high = span[:-1], None
    else:
        low, _, high = span.partition("-")
    start, end = whole_number(low), whole_number(high) if high is not None else None
    if start is None or (high is not None and end is None):
        raise ValueError(f"“{text}” is not a band: write it like 0-100: 765.00")
    return {"from": start, "to": end, "pence": _line_price(text, price)}


def _tier(text: str) -> dict[str, Any]:
    start, _, price = text.partition(":")
    first = whole_number(start)
    if first is None:
        raise ValueError(f"“{text}” is not a tier: write it like 10: 500.00")
    return {"from": first, "pence": _line_price(text, price)}


def _line_price(line: str, price: str) -> int:
    # A field of many lines: the message says which line's price is wrong.
    try:
        return parse_pounds(price)
    except ValueError as error:
        raise ValueError(f"“{line}”: {error}") from error


def _parse_lines(field: TextAreaField, parse: Any) -> list[dict[str, Any]]:
    parsed = []
    for line in (field.data or "").splitlines():
        if line.strip():
            try:
                parsed.append(parse(line.strip()))
            except ValueError as error:
                field.errors.append(str(error))
    return parsed


def option_form_data(option: Any) -> dict[str, Any]:
    """A stored option as the form shows it: pounds, bands and tiers as lines."""

    def pounds(pence: int | None) -> str:
        return "" if pence in (None, 0) else format_pence(pence).replace("£", "").replace(",", "")

    rates = option.rates or {}
    by_phase = rates.get("by_phase", {})
    return {
        "name": option.name,
        "basis": option.basis.value,
        "audience": option.audience.value,
        "amount": pounds(option.amount_pence),
        "per_pupil": pounds(option.per_pupil_pence),
        "rate_nursery": pounds(by_phase.get("Nursery")),
        "rate_primary": pounds(by_phase.get("Primary")),
        "rate_secondary": pounds(by_phase.get("Secondary")),
        "rate_all_through": pounds(by_phase.get("All-through")),
        "bands": "\n".join(
            f"{b['from']}{'+' if b['to'] is None else '-' + str(b['to'])}: "
            f"{pounds(b['pence']) or '0.00'}"
            for b in rates.get("bands", [])
        ),
        "unit": option.unit or "",
        "tiers": "\n".join(f"{t['from']}: {pounds(t['pence'])}" for t in rates.get("tiers", [])),
        "pack_size": str(rates["pack_size"]) if rates.get("pack_size") else "",
        "minimum": pounds(option.minimum_pence),
    }


class CopyYearForm(FlaskForm):
    from_year = SelectField(
        "Copy the offer of", widget=GovSelect(), validators=[InputRequired(message="Choose a year")]
    )
    uplift = StringField(
        "Uplift every price by (%)",
        description="From -50 to 100: for example 3.5, or 0 to keep this year's prices. Each "
        "price is rounded to the nearest penny, halves up.",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        default="0",
        validators=[DataRequired(message="Enter the uplift, or 0")],
    )
    submit = SubmitField("Draft next year's offer", widget=GovSubmitInput())

    def validate_uplift(self, field: StringField) -> None:
        try:
            value = Decimal(field.data)
        except InvalidOperation as error:
            raise ValidationError("Enter the uplift as a number, like 3.5") from error
        if not value.is_finite() or value < -50 or value > 100:
            raise ValidationError("Enter an uplift between -50 and 100 per cent")


# A year's offer is tens of services, a large council's a few hundred.
MOST_OFFERS_AT_ONCE = 1000


class PublishDraftsForm(FlaskForm):
    """Draft offers ticked to be published together."""

    year = HiddenField()
    # The ids of the offers ticked; checked against the drafts when published, so any
    # value is accepted here and one that is not an offer's id is simply not found.
    offer = SelectMultipleField(validate_choice=False)
    submit = SubmitField("Publish the selected offers", widget=GovSubmitInput())

    def validate_offer(self, field: SelectMultipleField) -> None:
        if not field.data:
            raise ValidationError("Select the offers to publish")
        if len(field.data) > MOST_OFFERS_AT_ONCE:
            raise ValidationError(
                f"Select at most {MOST_OFFERS_AT_ONCE:,} offers to publish at a time"
            )

    def offer_ids(self) -> list[int]:
        return [i for i in (record_id(value) for value in self.offer.data or ()) if i is not None]
