"""The price engine: what one traded service costs one school, and how that was worked out.

Plain values in, plain values out: no database and no Flask, so the catalogue, buy-back and
their tests can price a school from a ``PriceOption`` (``PriceRule.from_option``) or from a
rule made by hand.

Money is integer pence throughout. Only two operations can produce fractions of a penny, VAT
and a percentage uplift, and both round half-up (Decimal ROUND_HALF_UP) to the whole penny;
everything else is integer arithmetic.

The ``rates`` JSON on a price option, by basis (every amount in pence, every key optional):

- per pupil, flat plus per pupil: ``{"by_phase": {"Primary": 507, "Secondary": 635}}``. A
  phase's rate replaces ``per_pupil_pence`` for schools of that phase (keys are ``Phase``
  values).
- banded: ``{"bands": [{"from": 0, "to": 50, "pence": 169320},
  {"from": 51, "to": null, "pence": 211956}]}``. Inclusive pupil numbers, from 0 upwards
  without gaps or overlaps; only the last band may be open-ended (``"to": null``).
- per unit: ``{"tiers": [{"from": 10, "pence": 50000}], "pack_size": 6}``. The whole quantity
  is priced at the rate of the highest tier whose ``from`` is at most the quantity, and at
  ``amount_pence`` below the first tier. With a pack size, ``amount_pence`` and the tier
  prices are per pack and the quantity counts packs.

Longer than most modules: every pricing basis is here, with the checks of what is typed for
it, so that one price is worked out one way wherever it is shown or frozen.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from itertools import pairwise
from types import MappingProxyType
from typing import Any, Protocol

from portal.models import Audience, Phase, PricingBasis
from portal.numbers import MAX_PUPILS, MAX_QUANTITY

# The UK standard rate; the only rate a council charges schools on traded services.
VAT_PERCENT = Decimal(20)

# The multiplication sign, as printed price lists use; spelt out because it looks like "x".
TIMES = "\u00d7"

# The most any one amount may be: a price, a rate per pupil, a band's or a tier's price, a
# minimum charge. More than a school pays for any one service in a year, and small enough
# that a price at most this, doubled by the largest uplift of a copied year, still fits the
# database's integer columns (publishing refuses a price above it: see validate).
MAX_PENCE = 100_000_000  # £1,000,000.00
# The most one service may cost one school for a year, VAT included: a buy-back line holds
# it, and a choice adds its lines up, in the database's integer columns (at most
# £21,474,836.47). A price that comes to more (a rate per pupil times a large roll, a price
# per unit times many) is not a price the portal can take: NoPrice says so.
MAX_QUOTE_PENCE = 200_000_000  # £2,000,000.00

_PER_PUPIL_BASES = (PricingBasis.PER_PUPIL, PricingBasis.FLAT_PLUS_PER_PUPIL)
_PHASES = frozenset(phase.value for phase in Phase)


class NoPrice(Exception):
    """The rule cannot price this school or quantity; the message says why, for a person."""


class TooLarge(NoPrice):
    """The price comes to more than one service may cost a school in a year."""

    def __init__(self, gross_pence: int) -> None:
        super().__init__(
            f"This comes to {format_pence(gross_pence)}, more than "
            f"{format_pence(MAX_QUOTE_PENCE)}, the most one service can cost a school in a year"
        )
        self.gross_pence = gross_pence


@dataclass(frozen=True)
class Band:
    """Schools with ``from_pupils`` to ``to_pupils`` on roll (inclusive) pay ``pence``."""

    from_pupils: int
    to_pupils: int | None
    pence: int

    def contains(self, pupils: int) -> bool:
        return self.from_pupils <= pupils and (self.to_pupils is None or pupils <= self.to_pupils)

    @property
    def label(self) -> str:
        if self.to_pupils is None:
            return f"{self.from_pupils:,} or more"
        return f"{self.from_pupils:,} to {self.to_pupils:,}"


@dataclass(frozen=True)
class Tier:
    """From this quantity up, every unit (or pack) of the order costs ``pence``."""

    from_quantity: int
    pence: int


class PriceOptionLike(Protocol):
    """What the engine reads from a ``PriceOption``; a ``SimpleNamespace`` will do in tests."""

    @property
    def basis(self) -> str: ...
    @property
    def amount_pence(self) -> int | None: ...
    @property
    def per_pupil_pence(self) -> int | None: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def minimum_pence(self) -> int | None: ...
    @property
    def audience(self) -> str | None: ...
    @property
    def rates(self) -> Mapping[str, Any] | None: ...


def _no_phase_rates() -> Mapping[str, int]:
    return MappingProxyType({})


@dataclass(frozen=True)
class PriceRule:
    """One way to buy a service, as the engine sees it. Amounts are whole pence."""

    basis: PricingBasis
    amount_pence: int = 0
    per_pupil_pence: int = 0
    # Read-only; left out of the hash because a mapping has none (equality still compares it).
    by_phase: Mapping[str, int] = field(default_factory=_no_phase_rates, hash=False)
    bands: tuple[Band, ...] = ()
    tiers: tuple[Tier, ...] = ()
    pack_size: int | None = None
    unit: str | None = None
    minimum_pence: int | None = None
    vat: bool = False
    audience: Audience = Audience.ALL

    def __post_init__(self) -> None:
        # Callers pass strings from JSON, lists, Phase keys and bands in any order: normalise
        # them so that equal prices compare equal and no rule can change once made.
        normalised = {
            "basis": PricingBasis(self.basis),
            "audience": Audience(self.audience),
            "by_phase": MappingProxyType({str(k): v for k, v in self.by_phase.items()}),
            "bands": tuple(sorted(self.bands, key=_band_order)),
            "tiers": tuple(sorted(self.tiers, key=lambda tier: tier.from_quantity)),
        }
        for name, value in normalised.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_option(cls, option: PriceOptionLike, *, vat: bool) -> PriceRule:
        """The rule a stored price option describes; VAT is a flag on its offer."""
        rates = option.rates or {}
        try:
            return cls(
                basis=PricingBasis(option.basis),
                # Column defaults only apply at flush, so an unsaved option may hold None.
                amount_pence=_pence(option.amount_pence or 0),
                per_pupil_pence=_pence(option.per_pupil_pence or 0),
                by_phase={str(k): _pence(v) for k, v in rates.get("by_phase", {}).items()},
                bands=tuple(
                    Band(
                        _pence(band["from"]),
                        _optional_pence(band.get("to")),
                        _pence(band["pence"]),
                    )
                    for band in rates.get("bands", [])
                ),
                tiers=tuple(
                    Tier(_pence(tier["from"]), _pence(tier["pence"]))
                    for tier in rates.get("tiers", [])
                ),
                pack_size=_optional_pence(rates.get("pack_size")),
                unit=option.unit or None,
                minimum_pence=_optional_pence(option.minimum_pence),
                vat=vat,
                audience=Audience(option.audience or Audience.ALL),
            )
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise ValueError(f"The price option's rates are malformed: {error}") from error

    def to_rates(self) -> dict[str, Any]:
        """The ``rates`` JSON for a ``PriceOption``; ``from_option`` reads it back unchanged."""
        rates: dict[str, Any] = {}
        if self.by_phase:
            rates["by_phase"] = dict(self.by_phase)
        if self.bands:
            rates["bands"] = [
                {"from": band.from_pupils, "to": band.to_pupils, "pence": band.pence}
                for band in self.bands
            ]
        if self.tiers:
            rates["tiers"] = [{"from": t.from_quantity, "pence": t.pence} for t in self.tiers]
        if self.pack_size is not None:
            rates["pack_size"] = self.pack_size
        return rates


@dataclass(frozen=True)
class Quote:
    """A price for one school, with the sums written out as the school would check them."""

    net_pence: int
    vat_pence: int
    gross_pence: int
    workings: tuple[str, ...]


def _band_order(band: Band) -> tuple[int, float]:
    return band.from_pupils, float("inf") if band.to_pupils is None else band.to_pupils


def _pence(value: object) -> int:
    # JSON can hold 12.5 or "12": neither is a stored amount, and int() would hide that.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not a whole number")
    return value


def _optional_pence(value: object) -> int | None:
    return None if value is None else _pence(value)


# --- checking a rule ------------------------------------------------------------------------


def validate(rule: PriceRule) -> list[str]:
    """What is wrong with a rule, in words for the publisher; empty when it can be used."""
    problems: list[str] = []
    if any(amount < 0 for amount in _amounts(rule)):
        problems.append("Amounts cannot be negative")
    if any(amount > MAX_PENCE for amount in _amounts(rule)):
        problems.append(AMOUNT_TOO_LARGE)
    if rule.by_phase and rule.basis not in _PER_PUPIL_BASES:
        problems.append("Only a per-pupil price can have rates by phase")
    unknown = sorted(rule.by_phase.keys() - _PHASES)
    problems += [f"{name} is not a phase of education" for name in unknown]
    if rule.basis is PricingBasis.BANDED:
        problems += _band_problems(rule.bands)
    elif rule.bands:
        problems.append("Only a banded price can have bands")
    if rule.basis is not PricingBasis.PER_UNIT:
        if rule.tiers:
            problems.append("Only a per-unit price can have volume tiers")
        if rule.pack_size is not None:
            problems.append("Only a per-unit price can be sold in packs")
    if rule.pack_size is not None and not 1 <= rule.pack_size <= MAX_QUANTITY:
        problems.append(f"Pack size must be from 1 to {MAX_QUANTITY:,}")
    problems += _tier_problems(rule.tiers)
    return list(dict.fromkeys(problems))


def _amounts(rule: PriceRule) -> Iterator[int]:
    yield rule.amount_pence
    yield rule.per_pupil_pence
    yield from rule.by_phase.values()
    yield from (band.pence for band in rule.bands)
    yield from (tier.pence for tier in rule.tiers)
    if rule.minimum_pence is not None:
        yield rule.minimum_pence


def _band_problems(bands: tuple[Band, ...]) -> list[str]:
    if not bands:
        return ["Add at least one band"]
    problems = []
    if bands[0].from_pupils != 0:
        problems.append("The first band must start at 0 pupils")
    if any(max(band.from_pupils, band.to_pupils or 0) > MAX_PUPILS for band in bands):
        problems.append(f"Bands can go up to {MAX_PUPILS:,} pupils: leave the last one open")
    problems += [
        f"A band cannot end before it starts: {band.label}"
        for band in bands
        if band.to_pupils is not None and band.to_pupils < band.from_pupils
    ]
    for lower, upper in pairwise(bands):
        if lower.to_pupils is None:
            problems.append("Only the last band can have no upper limit")
        elif upper.from_pupils <= lower.to_pupils:
            problems.append(f"Bands must not overlap: {lower.label} and {upper.label}")
        elif upper.from_pupils > lower.to_pupils + 1:
            problems.append(
                f"Bands must not leave a gap between {lower.to_pupils:,} "
                f"and {upper.from_pupils:,} pupils"
            )
    return problems


def _tier_problems(tiers: tuple[Tier, ...]) -> list[str]:
    problems = []
    if any(tier.from_quantity < 1 for tier in tiers):
        problems.append("Volume tiers must start at 1 or more")
    if any(tier.from_quantity > MAX_QUANTITY for tier in tiers):
        problems.append(f"Volume tiers must start at {MAX_QUANTITY:,} or fewer")
    problems += [
        f"Two volume tiers cannot both start at {lower.from_quantity:,}"
        for lower, upper in pairwise(tiers)
        if lower.from_quantity == upper.from_quantity
    ]
    return problems


# --- pricing a school -----------------------------------------------------------------------


def quote(rule: PriceRule, *, pupils: int, phase: str, quantity: int = 1) -> Quote:
    """The price of ``rule`` for a school with ``pupils`` on roll in ``phase``.

    ``quantity`` counts units (or packs) of a per-unit price; every other basis is a price
    for the school's year, so its quantity must be 1.
    """
    problems = _problems(rule)
    if problems:
        # A price the publisher got wrong is never shown as a number to a school.
        raise NoPrice(f"This price must be corrected before it can be used: {problems[0]}")
    if pupils < 0:
        raise NoPrice("Pupils on roll cannot be negative")
    if rule.basis is PricingBasis.PER_UNIT:
        if quantity < 1:
            raise NoPrice("Quantity must be 1 or more")
        net, workings = _per_unit(rule, quantity)
    elif quantity != 1:
        raise ValueError(f"A {rule.basis.label.lower()} price is for the year: quantity must be 1")
    elif rule.basis is PricingBasis.PER_SCHOOL:
        net = rule.amount_pence
        workings = [f"Price per school per year = {format_pence(net)}"]
    elif rule.basis is PricingBasis.PER_PUPIL:
        net, line = _pupil_element(rule, pupils, phase)
        workings = [line]
    elif rule.basis is PricingBasis.FLAT_PLUS_PER_PUPIL:
        pupil_part, line = _pupil_element(rule, pupils, phase)
        net = rule.amount_pence + pupil_part
        workings = [
            f"Fixed fee {format_pence(rule.amount_pence)}",
            line,
            f"{format_pence(rule.amount_pence)} + {format_pence(pupil_part)} = {format_pence(net)}",
        ]
    else:
        net, workings = _banded(rule, pupils)

    if rule.minimum_pence is not None and net < rule.minimum_pence:
        net = rule.minimum_pence
        workings.append(f"Minimum charge {format_pence(net)} applies")
    vat = vat_on(net) if rule.vat else 0
    if net + vat > MAX_QUOTE_PENCE:
        raise TooLarge(net + vat)
    if rule.vat:
        workings.append(f"VAT at {VAT_PERCENT}% = {format_pence(vat)}")
        workings.append(f"Total including VAT = {format_pence(net + vat)}")
    return Quote(net_pence=net, vat_pence=vat, gross_pence=net + vat, workings=tuple(workings))


@lru_cache(maxsize=16384)
def quoted(rule: PriceRule, pupils: int, phase: str, quantity: int = 1) -> Quote:
    """:func:`quote`, remembered. A quote depends on nothing but its arguments, and a rule
    cannot change once made, so one worked out is the answer for as long as it is kept:
    pages ask the same few thousand (a school's roll and phase, a service's price)."""
    return quote(rule, pupils=pupils, phase=phase, quantity=quantity)


@lru_cache(maxsize=4096)
def _problems(rule: PriceRule) -> tuple[str, ...]:
    # A rule cannot change once made (frozen, its mappings read-only), and every page quotes
    # the same few hundred: each is checked once.
    return tuple(validate(rule))


def _pupil_element(rule: PriceRule, pupils: int, phase: str) -> tuple[int, str]:
    rate, note = rule.per_pupil_pence, ""
    if phase in rule.by_phase:
        rate, note = rule.by_phase[phase], f" ({phase} rate)"
    elif rule.by_phase and rule.per_pupil_pence == 0:
        # Rates by phase with no general rate price only those phases: a school of another
        # phase has no price, rather than nothing per pupil.
        raise NoPrice(f"There is no per-pupil price for schools in the {phase} phase")
    total = pupils * rate
    working = f"{plural(pupils, 'pupil')} {TIMES} {format_pence(rate)} per pupil{note}"
    return total, f"{working} = {format_pence(total)}"


def _banded(rule: PriceRule, pupils: int) -> tuple[int, list[str]]:
    band = next((band for band in rule.bands if band.contains(pupils)), None)
    if band is None:
        # Validated bands start at 0 without gaps, so only a closed last band can miss.
        raise NoPrice(
            f"There is no price for a school with {plural(pupils, 'pupil')}: "
            f"the bands stop at {plural(rule.bands[-1].to_pupils or 0, 'pupil')}"
        )
    return band.pence, [
        f"{plural(pupils, 'pupil')} on roll: the band for {band.label} "
        f"{'pupil' if band.to_pupils == 1 else 'pupils'} "
        f"is {format_pence(band.pence)}"
    ]


def _per_unit(rule: PriceRule, quantity: int) -> tuple[int, list[str]]:
    rate, tier = rule.amount_pence, None
    for candidate in rule.tiers:  # in ascending order, so the last that fits wins
        if candidate.from_quantity <= quantity:
            rate, tier = candidate.pence, candidate
    unit = rule.unit or "unit"
    if rule.pack_size is None:
        per, what = unit, plural(quantity, unit)
    else:
        per, what = "pack", f"{plural(quantity, 'pack')} of {plural(rule.pack_size, unit)}"
    note = f" (the price for {plural(tier.from_quantity, per)} or more)" if tier else ""
    total = quantity * rate
    return total, [f"{what} {TIMES} {format_pence(rate)} per {per}{note} = {format_pence(total)}"]


def plural(count: int, noun: str) -> str:
    """``count`` and the noun, singular for exactly one: "1 day", "10 days", "2 lunches".

    Every count a price is described with goes through here, so that none reads "1 days".
    """
    if count == 1:
        return f"{count:,} {noun}"
    if noun.endswith(("s", "x", "ch", "sh")):
        return f"{count:,} {noun}es"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u"):
        return f"{count:,} {noun[:-1]}ies"
    return f"{count:,} {noun}s"


def unit_priced(rule: PriceRule) -> str:
    """What one price of a per-unit rule buys: "day", or "pack of 10 visits"."""
    unit = rule.unit or "unit"
    return unit if rule.pack_size is None else f"pack of {plural(rule.pack_size, unit)}"


def applies_to(rule_or_audience: PriceRule | Audience | str, *, is_academy: bool) -> bool:
    """Whether a school may buy at this price; academies include free schools."""
    if isinstance(rule_or_audience, PriceRule):
        audience = rule_or_audience.audience
    else:
        audience = Audience(rule_or_audience)
    if audience is Audience.MAINTAINED:
        return not is_academy
    if audience is Audience.ACADEMIES:
        return is_academy
    return True


# --- the two roundings ----------------------------------------------------------------------


def _round_half_up(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def vat_on(net_pence: int) -> int:
    """VAT on a net amount, rounded half-up to the whole penny."""
    return _round_half_up(Decimal(net_pence) * VAT_PERCENT / 100)


def uplift(pence: int, percent: Decimal) -> int:
    """``pence`` raised (or, for a negative percent, cut) by ``percent``, rounded half-up."""
    if isinstance(percent, float):
        raise TypeError("Give the percentage as a Decimal: a float cannot hold 2.3 exactly")
    percent = Decimal(percent)
    if percent < -100:
        raise ValueError("A price cannot fall by more than 100%")
    return _round_half_up(Decimal(pence) * (100 + percent) / 100)


def uplift_rule(rule: PriceRule, percent: Decimal) -> PriceRule:
    """The rule with every amount uplifted, each rounded on its own to whole pence."""

    def up(pence: int) -> int:
        return uplift(pence, percent)

    return replace(
        rule,
        amount_pence=up(rule.amount_pence),
        per_pupil_pence=up(rule.per_pupil_pence),
        by_phase={phase: up(pence) for phase, pence in rule.by_phase.items()},
        bands=tuple(replace(band, pence=up(band.pence)) for band in rule.bands),
        tiers=tuple(replace(tier, pence=up(tier.pence)) for tier in rule.tiers),
        minimum_pence=None if rule.minimum_pence is None else up(rule.minimum_pence),
    )


# --- pounds and pence as people write them --------------------------------------------------

ENTER_AMOUNT = "Enter an amount in pounds and pence, like 1250.00"
AMOUNT_NOT_NEGATIVE = "Amount must be £0.00 or more"
AMOUNT_TOO_PRECISE = "Amount must have no more than 2 decimal places, like 1250.75"

# Optional sign and pound sign in either order, then pounds with or without thousands
# commas, then optional pence. [0-9], not \d: \d also matches other scripts' digits.
_AMOUNT = re.compile(
    r"(?P<sign>[-\u2212]?)\s*£?\s*(?P<sign_after>[-\u2212]?)\s*"
    r"(?P<pounds>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<pence>[0-9]+))?"
)


def pounds(pence: int) -> str:
    """``-123456`` as ``-1234.56``: a number a spreadsheet reads as one."""
    whole, pennies = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}{whole}.{pennies:02d}"


def format_pence(pence: int) -> str:
    """``515000`` as ``£5,150.00``; ``-300`` as ``-£3.00``."""
    pounds, pennies = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}£{pounds:,}.{pennies:02d}"


AMOUNT_TOO_LARGE = f"Amount must be {format_pence(MAX_PENCE)} or less"
# Said beside every field that takes an amount.
AMOUNT_HINT = f"Up to {format_pence(MAX_PENCE)}."


def parse_pounds(text: str) -> int:
    """Pence from an amount a person typed, like ``1,234.56`` or ``£1234.5``.

    Raises ``ValueError`` with a message to show beside the field.
    """
    match = _AMOUNT.fullmatch(text.strip())
    if match is None:
        raise ValueError(ENTER_AMOUNT)
    if match["sign"] or match["sign_after"]:
        raise ValueError(AMOUNT_NOT_NEGATIVE)
    pence = match["pence"] or ""
    if len(pence) > 2:
        raise ValueError(AMOUNT_TOO_PRECISE)
    pounds = match["pounds"].replace(",", "").lstrip("0")
    # Counted in digits first: a number of thousands of digits is refused, never converted.
    if len(pounds) > len(str(MAX_PENCE // 100)):
        raise ValueError(AMOUNT_TOO_LARGE)
    amount = int(pounds or "0") * 100 + int(pence.ljust(2, "0"))
    if amount > MAX_PENCE:
        raise ValueError(AMOUNT_TOO_LARGE)
    return amount
