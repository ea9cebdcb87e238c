"""The price engine: worked examples from councils' published prices, then its properties.

The prices are those of the reference price points (Oxfordshire 2019-20, Bradford Building
Technical Services), in pence, so each example can be checked against a real price list.
"""

# The workings print the multiplication sign, as price lists do; ruff takes it for an "x".
# ruff: noqa: RUF001

from __future__ import annotations

import json
import re
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from portal.models import Audience, OfferStatus, Phase, PricingBasis
from portal.numbers import MAX_QUANTITY
from portal.pricing import (
    MAX_PENCE,
    MAX_QUOTE_PENCE,
    Band,
    NoPrice,
    PriceRule,
    Quote,
    Tier,
    TooLarge,
    applies_to,
    format_pence,
    parse_pounds,
    plural,
    quote,
    uplift,
    uplift_rule,
    validate,
)

PER_SCHOOL = PricingBasis.PER_SCHOOL
PER_PUPIL = PricingBasis.PER_PUPIL
BANDED = PricingBasis.BANDED
FLAT_PLUS = PricingBasis.FLAT_PLUS_PER_PUPIL
PER_UNIT = PricingBasis.PER_UNIT

EARLY_YEARS_STANDARD = PriceRule(PER_SCHOOL, amount_pence=30000)
GOVERNOR_HUB = PriceRule(PER_SCHOOL, amount_pence=20400, vat=True)
HEALTH_AND_SAFETY = PriceRule(
    PER_PUPIL,
    by_phase={"Nursery": 507, "Primary": 507, "Secondary": 635},
    audience=Audience.MAINTAINED,
)
EDUCATION_FINANCE = PriceRule(
    BANDED,
    bands=(
        Band(0, 50, 169320),
        Band(51, 150, 211956),
        Band(151, 300, 304674),
        Band(301, 1000, 360366),
    ),
    audience=Audience.MAINTAINED,
)
GOVERNOR_TRAINING = PriceRule(BANDED, bands=(Band(0, 100, 76500), Band(101, None, 122400)))
# Published as "less than 300" and "more than 300": a school of exactly 300 is put in the upper.
GOVERNORS_ASSOCIATION = PriceRule(BANDED, bands=(Band(0, 299, 1020), Band(300, None, 1530)))
BUILDING_TECHNICAL_2017 = PriceRule(
    FLAT_PLUS, amount_pence=43900, per_pupil_pence=108, by_phase={"Secondary": 88}
)
BUILDING_TECHNICAL_2021 = PriceRule(FLAT_PLUS, amount_pence=46614, per_pupil_pence=114, vat=True)
EDUCATIONAL_PSYCHOLOGY = PriceRule(
    PER_UNIT, amount_pence=55000, unit="day", tiers=(Tier(10, 50000),)
)
CLERKING = PriceRule(PER_UNIT, amount_pence=173400, unit="meeting", pack_size=6)
PERSONNEL = PriceRule(
    PER_UNIT,
    amount_pence=2601,
    unit="occupied post",
    minimum_pence=30600,
    audience=Audience.MAINTAINED,
)
EMPLOYEE_ASSISTANCE_ACADEMY = PriceRule(
    PER_UNIT, amount_pence=643, unit="employee", audience=Audience.ACADEMIES
)


def efs(pupils: int, pence: int, band: str) -> tuple[object, ...]:
    line = f"{pupils:,} pupils on roll: the band for {band} pupils is {format_pence(pence)}"
    return (EDUCATION_FINANCE, pupils, "Primary", 1, pence, 0, (line,))


def vat_only(net: int, vat: int) -> tuple[object, ...]:
    rule = PriceRule(PER_SCHOOL, amount_pence=net, vat=True)
    return (
        rule,
        100,
        "Primary",
        1,
        net,
        vat,
        (
            f"Price per school per year = {format_pence(net)}",
            f"VAT at 20% = {format_pence(vat)}",
            f"Total including VAT = {format_pence(net + vat)}",
        ),
    )


WORKED_EXAMPLES = [
    pytest.param(
        EARLY_YEARS_STANDARD, 40, "Nursery", 1, 30000, 0,
        ("Price per school per year = £300.00",),
        id="per-school",
    ),
    pytest.param(
        GOVERNOR_HUB, 200, "Primary", 1, 20400, 4080,
        (
            "Price per school per year = £204.00",
            "VAT at 20% = £40.80",
            "Total including VAT = £244.80",
        ),
        id="per-school-with-vat",
    ),
    pytest.param(
        HEALTH_AND_SAFETY, 412, "Primary", 1, 208884, 0,
        ("412 pupils × £5.07 per pupil (Primary rate) = £2,088.84",),
        id="per-pupil-primary-rate",
    ),
    pytest.param(
        HEALTH_AND_SAFETY, 1100, "Secondary", 1, 698500, 0,
        ("1,100 pupils × £6.35 per pupil (Secondary rate) = £6,985.00",),
        id="per-pupil-secondary-rate",
    ),
    pytest.param(*efs(0, 169320, "0 to 50"), id="banded-0"),
    pytest.param(*efs(50, 169320, "0 to 50"), id="banded-50"),
    pytest.param(*efs(51, 211956, "51 to 150"), id="banded-51"),
    pytest.param(*efs(150, 211956, "51 to 150"), id="banded-150"),
    pytest.param(*efs(151, 304674, "151 to 300"), id="banded-151"),
    pytest.param(*efs(300, 304674, "151 to 300"), id="banded-300"),
    pytest.param(*efs(301, 360366, "301 to 1,000"), id="banded-301"),
    pytest.param(*efs(1000, 360366, "301 to 1,000"), id="banded-1000-last-closed-band"),
    pytest.param(
        GOVERNOR_TRAINING, 100, "Primary", 1, 76500, 0,
        ("100 pupils on roll: the band for 0 to 100 pupils is £765.00",),
        id="banded-100",
    ),
    pytest.param(
        GOVERNOR_TRAINING, 101, "Primary", 1, 122400, 0,
        ("101 pupils on roll: the band for 101 or more pupils is £1,224.00",),
        id="banded-101-open-ended",
    ),
    pytest.param(
        GOVERNORS_ASSOCIATION, 299, "Primary", 1, 1020, 0,
        ("299 pupils on roll: the band for 0 to 299 pupils is £10.20",),
        id="banded-299",
    ),
    pytest.param(
        GOVERNORS_ASSOCIATION, 300, "Secondary", 1, 1530, 0,
        ("300 pupils on roll: the band for 300 or more pupils is £15.30",),
        id="banded-300-open-ended",
    ),
    pytest.param(
        BUILDING_TECHNICAL_2017, 412, "Primary", 1, 88396, 0,
        (
            "Fixed fee £439.00",
            "412 pupils × £1.08 per pupil = £444.96",
            "£439.00 + £444.96 = £883.96",
        ),
        id="flat-plus-per-pupil-general-rate",
    ),
    pytest.param(
        BUILDING_TECHNICAL_2017, 1100, "Secondary", 1, 140700, 0,
        (
            "Fixed fee £439.00",
            "1,100 pupils × £0.88 per pupil (Secondary rate) = £968.00",
            "£439.00 + £968.00 = £1,407.00",
        ),
        id="flat-plus-per-pupil-phase-rate",
    ),
    pytest.param(
        BUILDING_TECHNICAL_2021, 412, "Primary", 1, 93582, 18716,
        (
            "Fixed fee £466.14",
            "412 pupils × £1.14 per pupil = £469.68",
            "£466.14 + £469.68 = £935.82",
            "VAT at 20% = £187.16",
            "Total including VAT = £1,122.98",
        ),
        id="flat-plus-per-pupil-with-vat",
    ),
    pytest.param(
        EDUCATIONAL_PSYCHOLOGY, 412, "Primary", 1, 55000, 0,
        ("1 day × £550.00 per day = £550.00",),
        id="per-day-1",
    ),
    pytest.param(
        EDUCATIONAL_PSYCHOLOGY, 412, "Primary", 9, 495000, 0,
        ("9 days × £550.00 per day = £4,950.00",),
        id="per-day-9-below-tier",
    ),
    pytest.param(
        EDUCATIONAL_PSYCHOLOGY, 412, "Primary", 10, 500000, 0,
        ("10 days × £500.00 per day (the price for 10 days or more) = £5,000.00",),
        id="per-day-10-volume-tier",
    ),
    pytest.param(
        CLERKING, 412, "Primary", 2, 346800, 0,
        ("2 packs of 6 meetings × £1,734.00 per pack = £3,468.00",),
        id="packs",
    ),
    pytest.param(
        PERSONNEL, 90, "Primary", 10, 30600, 0,
        (
            "10 occupied posts × £26.01 per occupied post = £260.10",
            "Minimum charge £306.00 applies",
        ),
        id="minimum-applies",
    ),
    pytest.param(
        PERSONNEL, 90, "Primary", 12, 31212, 0,
        ("12 occupied posts × £26.01 per occupied post = £312.12",),
        id="minimum-does-not-apply",
    ),
    pytest.param(
        EMPLOYEE_ASSISTANCE_ACADEMY, 900, "Secondary", 40, 25720, 0,
        ("40 employees × £6.43 per employee = £257.20",),
        id="academy-only-option",
    ),
    pytest.param(*vat_only(13, 3), id="vat-2.6p-rounds-up"),
    pytest.param(*vat_only(12, 2), id="vat-2.4p-rounds-down"),
    pytest.param(*vat_only(3, 1), id="vat-0.6p-rounds-up"),
    pytest.param(*vat_only(2, 0), id="vat-0.4p-rounds-down"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "pupils", "phase", "quantity", "net", "vat", "workings"), WORKED_EXAMPLES
)
def test_worked_example(
    rule: PriceRule,
    pupils: int,
    phase: str,
    quantity: int,
    net: int,
    vat: int,
    workings: tuple[str, ...],
) -> None:
    assert validate(rule) == []
    assert quote(rule, pupils=pupils, phase=phase, quantity=quantity) == Quote(
        net_pence=net, vat_pence=vat, gross_pence=net + vat, workings=workings
    )


@pytest.mark.parametrize(
    ("rule", "pupils", "phase", "quantity", "message"),
    [
        pytest.param(
            EDUCATION_FINANCE, 1001, "Primary", 1,
            "There is no price for a school with 1,001 pupils: the bands stop at 1,000 pupils",
            id="above-closed-last-band",
        ),
        pytest.param(
            EDUCATIONAL_PSYCHOLOGY, 100, "Primary", 0, "Quantity must be 1 or more",
            id="no-units",
        ),
        pytest.param(
            EARLY_YEARS_STANDARD, -1, "Nursery", 1, "Pupils on roll cannot be negative",
            id="negative-pupils",
        ),
        pytest.param(
            HEALTH_AND_SAFETY, 1400, "All-through", 1,
            "There is no per-pupil price for schools in the All-through phase",
            id="phase-without-a-rate",
        ),
        pytest.param(
            PriceRule(BANDED, bands=(Band(0, 100, 1), Band(101, 200, 2), Band(150, 300, 3))),
            120, "Primary", 1,
            "This price must be corrected before it can be used: "
            "Bands must not overlap: 101 to 200 and 150 to 300",
            id="invalid-rule",
        ),
    ],
)  # fmt: skip
def test_no_price(rule: PriceRule, pupils: int, phase: str, quantity: int, message: str) -> None:
    with pytest.raises(NoPrice) as raised:
        quote(rule, pupils=pupils, phase=phase, quantity=quantity)
    assert str(raised.value) == message


def test_a_yearly_price_is_not_sold_by_quantity() -> None:
    with pytest.raises(ValueError, match="quantity must be 1"):
        quote(EARLY_YEARS_STANDARD, pupils=40, phase="Nursery", quantity=2)


@pytest.mark.parametrize(
    ("audience", "is_academy", "applies"),
    [
        (Audience.ALL, False, True),
        (Audience.ALL, True, True),
        (Audience.MAINTAINED, False, True),
        (Audience.MAINTAINED, True, False),
        (Audience.ACADEMIES, False, False),
        (Audience.ACADEMIES, True, True),
    ],
)
def test_applies_to(audience: Audience, is_academy: bool, applies: bool) -> None:
    assert applies_to(audience, is_academy=is_academy) is applies
    assert applies_to(audience.value, is_academy=is_academy) is applies
    rule = replace(EARLY_YEARS_STANDARD, audience=audience)
    assert applies_to(rule, is_academy=is_academy) is applies


def test_an_academy_price_is_only_for_academies() -> None:
    assert applies_to(EMPLOYEE_ASSISTANCE_ACADEMY, is_academy=True)
    assert not applies_to(EMPLOYEE_ASSISTANCE_ACADEMY, is_academy=False)


@pytest.mark.parametrize(
    ("pence", "percent", "uplifted"),
    [
        pytest.param(50, Decimal(1), 51, id="50.5p-rounds-up"),
        pytest.param(150, Decimal(1), 152, id="151.5p-rounds-up"),
        pytest.param(250, Decimal(-1), 248, id="cut-247.5p-rounds-up"),
        pytest.param(30000, Decimal("2.5"), 30750, id="exact"),
        pytest.param(2601, Decimal(3), 2679, id="2679.03p-rounds-down"),
        pytest.param(55000, Decimal(0), 55000, id="no-change"),
    ],
)
def test_uplift(pence: int, percent: Decimal, uplifted: int) -> None:
    assert uplift(pence, percent) == uplifted


def test_uplift_refuses_floats_and_cuts_beyond_everything() -> None:
    with pytest.raises(TypeError):
        uplift(100, 2.5)
    with pytest.raises(ValueError, match="more than 100%"):
        uplift(100, Decimal(-101))


def test_uplift_rule_uplifts_each_amount_on_its_own() -> None:
    rule = replace(BUILDING_TECHNICAL_2017, minimum_pence=50000)
    assert uplift_rule(rule, Decimal("3.5")) == replace(
        rule,
        amount_pence=45437,  # 45,436.5 rounds up
        per_pupil_pence=112,  # 111.78
        by_phase={"Secondary": 91},  # 91.08
        minimum_pence=51750,
    )
    assert uplift_rule(EDUCATIONAL_PSYCHOLOGY, Decimal(2)).tiers == (Tier(10, 51000),)


@pytest.mark.parametrize(
    ("pence", "text"),
    [(0, "£0.00"), (7, "£0.07"), (515000, "£5,150.00"), (-300, "-£3.00"),
     (123456789, "£1,234,567.89")],
)  # fmt: skip
def test_format_pence(pence: int, text: str) -> None:
    assert format_pence(pence) == text


@pytest.mark.parametrize(
    ("text", "pence"),
    [("1,234.56", 123456), ("£1234.5", 123450), ("12", 1200), (" £ 0.07 ", 7),
     ("£1,000,000", 100000000), ("0", 0)],
)  # fmt: skip
def test_parse_pounds(text: str, pence: int) -> None:
    assert parse_pounds(text) == pence


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12.345", "Amount must have no more than 2 decimal places, like 1250.75"),
        ("-3", "Amount must be £0.00 or more"),
        ("-£3.00", "Amount must be £0.00 or more"),
        ("£-3", "Amount must be £0.00 or more"),
        ("", "Enter an amount in pounds and pence, like 1250.00"),
        ("twelve", "Enter an amount in pounds and pence, like 1250.00"),
        ("12,34", "Enter an amount in pounds and pence, like 1250.00"),
        ("12.", "Enter an amount in pounds and pence, like 1250.00"),
        ("1e3", "Enter an amount in pounds and pence, like 1250.00"),
        ("\u0661\u0662", "Enter an amount in pounds and pence, like 1250.00"),
    ],
)
def test_parse_pounds_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_pounds(text)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("rule", "problems"),
    [
        pytest.param(
            PriceRule(BANDED, bands=(Band(0, 100, 1), Band(101, 200, 2), Band(150, 300, 3))),
            ["Bands must not overlap: 101 to 200 and 150 to 300"],
            id="overlap",
        ),
        pytest.param(
            PriceRule(BANDED, bands=(Band(0, 100, 1), Band(102, None, 2))),
            ["Bands must not leave a gap between 100 and 102 pupils"],
            id="gap",
        ),
        pytest.param(
            PriceRule(BANDED, bands=(Band(1, 100, 1), Band(101, None, 2))),
            ["The first band must start at 0 pupils"],
            id="first-band-not-at-0",
        ),
        pytest.param(PriceRule(BANDED), ["Add at least one band"], id="no-bands"),
        pytest.param(
            PriceRule(BANDED, bands=(Band(0, None, 1), Band(100, None, 2))),
            ["Only the last band can have no upper limit"],
            id="open-ended-not-last",
        ),
        pytest.param(
            PriceRule(BANDED, bands=(Band(0, 100, 1), Band(101, 50, 2))),
            ["A band cannot end before it starts: 101 to 50"],
            id="band-backwards",
        ),
        pytest.param(
            PriceRule(PER_UNIT, amount_pence=100, pack_size=0),
            ["Pack size must be from 1 to 9,999"],
            id="pack-size-0",
        ),
        pytest.param(
            PriceRule(PER_UNIT, amount_pence=100, pack_size=10_000),
            ["Pack size must be from 1 to 9,999"],
            id="pack-size-too-large",
        ),
        pytest.param(
            PriceRule(PER_SCHOOL, amount_pence=100_000_001),
            ["Amount must be £1,000,000.00 or less"],
            id="amount-too-large",
        ),
        pytest.param(
            PriceRule(BANDED, bands=(Band(0, 100_000, 1), Band(100_001, None, 2))),
            ["Bands can go up to 99,999 pupils: leave the last one open"],
            id="band-too-high",
        ),
        pytest.param(
            PriceRule(PER_UNIT, amount_pence=1, tiers=(Tier(10_000, 1),)),
            ["Volume tiers must start at 9,999 or fewer"],
            id="tier-too-high",
        ),
        pytest.param(
            PriceRule(PER_PUPIL, per_pupil_pence=-1, minimum_pence=-5),
            ["Amounts cannot be negative"],
            id="negative",
        ),
        pytest.param(
            PriceRule(PER_UNIT, amount_pence=1, tiers=(Tier(0, 1), Tier(5, 1), Tier(5, 2))),
            ["Volume tiers must start at 1 or more", "Two volume tiers cannot both start at 5"],
            id="tiers",
        ),
        pytest.param(
            PriceRule(PER_PUPIL, per_pupil_pence=100, by_phase={"Primry": 90}),
            ["Primry is not a phase of education"],
            id="unknown-phase",
        ),
        pytest.param(
            PriceRule(
                PER_SCHOOL, amount_pence=1, by_phase={"Primary": 1}, bands=(Band(0, None, 1),),
                tiers=(Tier(2, 1),), pack_size=2,
            ),
            [
                "Only a per-pupil price can have rates by phase",
                "Only a banded price can have bands",
                "Only a per-unit price can have volume tiers",
                "Only a per-unit price can be sold in packs",
            ],
            id="rates-for-another-basis",
        ),
    ],
)  # fmt: skip
def test_validate(rule: PriceRule, problems: list[str]) -> None:
    assert validate(rule) == problems


def option_for(rule: PriceRule) -> SimpleNamespace:
    """A stand-in for a stored PriceOption, its rates through JSON as the database holds them."""
    return SimpleNamespace(
        basis=rule.basis.value,
        amount_pence=rule.amount_pence,
        per_pupil_pence=rule.per_pupil_pence,
        unit=rule.unit,
        minimum_pence=rule.minimum_pence,
        audience=rule.audience.value,
        rates=json.loads(json.dumps(rule.to_rates())),
    )


def test_rates_json_shapes() -> None:
    assert HEALTH_AND_SAFETY.to_rates() == {
        "by_phase": {"Nursery": 507, "Primary": 507, "Secondary": 635}
    }
    assert GOVERNOR_TRAINING.to_rates() == {
        "bands": [
            {"from": 0, "to": 100, "pence": 76500},
            {"from": 101, "to": None, "pence": 122400},
        ]
    }
    assert EDUCATIONAL_PSYCHOLOGY.to_rates() == {"tiers": [{"from": 10, "pence": 50000}]}
    assert CLERKING.to_rates() == {"pack_size": 6}
    assert EARLY_YEARS_STANDARD.to_rates() == {}


def test_from_option_reads_an_unsaved_option_and_phase_keys() -> None:
    option = SimpleNamespace(
        basis=PER_PUPIL, amount_pence=None, per_pupil_pence=None, unit="", minimum_pence=None,
        audience=None, rates={"by_phase": {Phase.SECONDARY: 635}},
    )  # fmt: skip
    assert PriceRule.from_option(option, vat=True) == PriceRule(
        PER_PUPIL, by_phase={"Secondary": 635}, vat=True
    )


@pytest.mark.parametrize(
    "rates",
    [{"bands": [{"from": 0, "pence": 1.5}]}, {"tiers": [{"pence": 100}]}, {"pack_size": "6"}],
)
def test_from_option_refuses_malformed_rates(rates: dict[str, object]) -> None:
    option = replace_rates(option_for(EARLY_YEARS_STANDARD), rates)
    with pytest.raises(ValueError, match="rates are malformed"):
        PriceRule.from_option(option, vat=False)


def replace_rates(option: SimpleNamespace, rates: dict[str, object]) -> SimpleNamespace:
    return SimpleNamespace(**{**vars(option), "rates": rates})


# --- properties -----------------------------------------------------------------------------

# Up to £10,000: times the largest quantity drawn (100), plus VAT, still inside the most one
# price can come to (MAX_QUOTE_PENCE), so every rule drawn has a price.
amounts = st.integers(min_value=0, max_value=1_000_000)
pupil_counts = st.integers(min_value=0, max_value=5000)
phases = st.sampled_from([phase.value for phase in Phase])
minimums = st.none() | amounts


@st.composite
def per_pupil_rules(draw: st.DrawFn) -> PriceRule:
    basis = draw(st.sampled_from([PER_PUPIL, FLAT_PLUS]))
    return PriceRule(
        basis,
        amount_pence=draw(amounts) if basis is FLAT_PLUS else 0,
        # At least 1p, so that a phase without its own rate still has a price.
        per_pupil_pence=draw(st.integers(min_value=1, max_value=5000)),
        by_phase=draw(st.dictionaries(phases, st.integers(0, 5000), max_size=3)),
        minimum_pence=draw(minimums),
        vat=draw(st.booleans()),
    )


@st.composite
def gapless_bands(draw: st.DrawFn, *, min_size: int = 1) -> tuple[Band, ...]:
    widths = draw(st.lists(st.integers(1, 300), min_size=min_size, max_size=8))
    prices = sorted(draw(st.lists(amounts, min_size=len(widths), max_size=len(widths))))
    open_ended = draw(st.booleans())
    bands, start = [], 0
    for position, (width, price) in enumerate(zip(widths, prices, strict=True)):
        last = position == len(widths) - 1
        bands.append(Band(start, None if last and open_ended else start + width - 1, price))
        start += width
    return tuple(bands)


@st.composite
def per_unit_rules(draw: st.DrawFn) -> PriceRule:
    starts = draw(st.lists(st.integers(1, 50), unique=True, max_size=4))
    return PriceRule(
        PER_UNIT,
        amount_pence=draw(amounts),
        unit=draw(st.sampled_from(["hour", "day", "session", "place", None])),
        tiers=tuple(Tier(start, draw(amounts)) for start in starts),
        pack_size=draw(st.none() | st.integers(1, 20)),
        minimum_pence=draw(minimums),
        vat=draw(st.booleans()),
    )


@st.composite
def open_banded_rules(draw: st.DrawFn) -> PriceRule:
    bands = draw(gapless_bands())
    return PriceRule(
        BANDED,
        bands=(*bands[:-1], replace(bands[-1], to_pupils=None)),
        minimum_pence=draw(minimums),
        vat=draw(st.booleans()),
    )


per_school_rules = st.builds(
    PriceRule,
    basis=st.just(PER_SCHOOL),
    amount_pence=amounts,
    minimum_pence=minimums,
    vat=st.booleans(),
)
any_rules = st.one_of(per_school_rules, per_pupil_rules(), open_banded_rules(), per_unit_rules())


def quote_any(rule: PriceRule, pupils: int, phase: str, quantity: int) -> Quote:
    """Quote any rule: the quantity only counts for a per-unit price."""
    units = quantity if rule.basis is PER_UNIT else 1
    return quote(rule, pupils=pupils, phase=phase, quantity=units)


@given(per_pupil_rules(), phases, pupil_counts, pupil_counts)
def test_more_pupils_never_cost_less(rule: PriceRule, phase: str, a: int, b: int) -> None:
    fewer, more = sorted((a, b))
    assert (
        quote(rule, pupils=fewer, phase=phase).net_pence
        <= quote(rule, pupils=more, phase=phase).net_pence
    )


@given(gapless_bands(), pupil_counts, pupil_counts)
def test_each_school_lands_in_the_band_that_contains_it(
    bands: tuple[Band, ...], a: int, b: int
) -> None:
    rule = PriceRule(BANDED, bands=bands)
    assert validate(rule) == []

    def net(pupils: int) -> int:
        return quote(rule, pupils=pupils, phase="Primary").net_pence

    for band in bands:
        assert net(band.from_pupils) == band.pence
        if band.to_pupils is not None:
            assert net(band.to_pupils) == band.pence
    top = bands[-1].to_pupils
    priced = [pupils for pupils in (a, b) if top is None or pupils <= top]
    for pupils in priced:
        (containing,) = [band for band in bands if band.contains(pupils)]
        assert net(pupils) == containing.pence
    if len(priced) == 2:
        fewer, more = sorted(priced)
        assert net(fewer) <= net(more)
    if top is not None:
        with pytest.raises(NoPrice):
            net(top + 1)


@given(any_rules, amounts, pupil_counts, phases, st.integers(1, 100))
def test_the_minimum_charge_always_holds(
    rule: PriceRule, minimum: int, pupils: int, phase: str, quantity: int
) -> None:
    without = quote_any(replace(rule, minimum_pence=None), pupils, phase, quantity).net_pence
    with_minimum = quote_any(replace(rule, minimum_pence=minimum), pupils, phase, quantity)
    assert with_minimum.net_pence >= minimum
    assert with_minimum.net_pence == max(without, minimum)
    applied = f"Minimum charge {format_pence(minimum)} applies" in with_minimum.workings
    assert applied is (without < minimum)


@given(any_rules, pupil_counts, phases, st.integers(1, 100))
def test_vat_is_a_fifth_of_net_rounded_half_up(
    rule: PriceRule, pupils: int, phase: str, quantity: int
) -> None:
    priced = quote_any(replace(rule, vat=True), pupils, phase, quantity)
    net = priced.net_pence
    assert priced.vat_pence == (net * 20 + 50) // 100
    assert priced.vat_pence == int((Decimal(net) * Decimal("0.2")).quantize(1, ROUND_HALF_UP))
    assert priced.gross_pence == net + priced.vat_pence
    assert all(type(p) is int for p in (net, priced.vat_pence, priced.gross_pence))
    no_vat = quote_any(replace(rule, vat=False), pupils, phase, quantity)
    assert (no_vat.net_pence, no_vat.vat_pence, no_vat.gross_pence) == (net, 0, net)


percents = st.decimals(min_value=-100, max_value=100, places=2)


@given(amounts, amounts, percents)
def test_uplift_rounds_half_up_and_keeps_order(a: int, b: int, percent: Decimal) -> None:
    assert uplift(a, Decimal(0)) == a
    # Integer arithmetic on hundredths of a percent, as an independent check of the rounding.
    assert uplift(a, percent) == (a * (10000 + int(percent * 100)) + 5000) // 10000
    smaller, larger = sorted((a, b))
    assert uplift(smaller, percent) <= uplift(larger, percent)


@given(any_rules, percents)
def test_uplift_rule_uplifts_every_amount(rule: PriceRule, percent: Decimal) -> None:
    up = uplift_rule(rule, percent)

    def u(pence: int) -> int:
        return uplift(pence, percent)

    assert up.amount_pence == u(rule.amount_pence)
    assert up.per_pupil_pence == u(rule.per_pupil_pence)
    assert dict(up.by_phase) == {phase: u(pence) for phase, pence in rule.by_phase.items()}
    assert up.bands == tuple(replace(band, pence=u(band.pence)) for band in rule.bands)
    assert up.tiers == tuple(replace(tier, pence=u(tier.pence)) for tier in rule.tiers)
    assert up.minimum_pence == (None if rule.minimum_pence is None else u(rule.minimum_pence))
    assert (up.basis, up.unit, up.pack_size, up.vat, up.audience) == (
        rule.basis,
        rule.unit,
        rule.pack_size,
        rule.vat,
        rule.audience,
    )


@given(st.integers(min_value=0, max_value=MAX_PENCE))
def test_parse_pounds_reads_what_format_pence_writes(pence: int) -> None:
    assert parse_pounds(format_pence(pence)) == pence
    assert parse_pounds(f"{pence // 100}.{pence % 100:02d}") == pence


@given(st.integers(min_value=MAX_PENCE + 1, max_value=10**4000))
def test_an_amount_over_a_million_pounds_is_refused_however_long(pence: int) -> None:
    for text in (format_pence(pence), f"{pence // 100}.{pence % 100:02d}", str(pence)):
        with pytest.raises(ValueError, match=r"^Amount must be £1,000,000\.00 or less$"):
            parse_pounds(text)


@given(
    rule=st.sampled_from(
        [
            PriceRule(PER_PUPIL, per_pupil_pence=MAX_PENCE),
            PriceRule(PER_UNIT, amount_pence=MAX_PENCE, vat=True),
            PriceRule(FLAT_PLUS, amount_pence=MAX_PENCE, per_pupil_pence=MAX_PENCE),
        ]
    ),
    pupils=st.integers(min_value=0, max_value=99_999),
    quantity=st.integers(min_value=1, max_value=9_999),
)
def test_a_price_never_comes_to_more_than_a_line_can_hold(
    rule: PriceRule, pupils: int, quantity: int
) -> None:
    """The largest amounts times the largest rolls and quantities: a quote, or TooLarge."""
    if rule.basis is not PER_UNIT:
        quantity = 1
    try:
        priced = quote(rule, pupils=pupils, phase="Primary", quantity=quantity)
    except TooLarge as error:
        assert str(error).endswith(
            "more than £2,000,000.00, the most one service can cost a school in a year"
        )
    else:
        assert priced.gross_pence <= MAX_QUOTE_PENCE < 2**31 - 1


@given(any_rules, st.sampled_from(list(Audience)))
def test_rules_round_trip_through_a_stored_option(rule: PriceRule, audience: Audience) -> None:
    rule = replace(rule, audience=audience)
    assert PriceRule.from_option(option_for(rule), vat=rule.vat) == rule


@given(gapless_bands(min_size=2), st.data())
def test_validate_finds_overlaps(bands: tuple[Band, ...], data: st.DataObject) -> None:
    at = data.draw(st.integers(1, len(bands) - 1))
    lower = bands[at - 1]
    assert lower.to_pupils is not None
    # Moved no further than the lower band's second pupil, so the two keep their order.
    assume(lower.to_pupils > lower.from_pupils)
    shift = data.draw(st.integers(1, lower.to_pupils - lower.from_pupils))
    moved = shifted(bands[at:], -shift)
    problems = validate(PriceRule(BANDED, bands=(*bands[:at], *moved)))
    assert problems == [f"Bands must not overlap: {lower.label} and {moved[0].label}"]


@given(gapless_bands(min_size=2), st.data())
def test_validate_finds_gaps(bands: tuple[Band, ...], data: st.DataObject) -> None:
    at = data.draw(st.integers(1, len(bands) - 1))
    lower = bands[at - 1]
    assert lower.to_pupils is not None
    moved = shifted(bands[at:], data.draw(st.integers(1, 500)))
    problems = validate(PriceRule(BANDED, bands=(*bands[:at], *moved)))
    assert problems == [
        f"Bands must not leave a gap between {lower.to_pupils:,} "
        f"and {moved[0].from_pupils:,} pupils"
    ]


def shifted(bands: tuple[Band, ...], by: int) -> tuple[Band, ...]:
    return tuple(
        Band(
            band.from_pupils + by,
            None if band.to_pupils is None else band.to_pupils + by,
            band.pence,
        )
        for band in bands
    )


# --- counts in words ------------------------------------------------------------------------

# A count and what it counts, as prices are described: "1 day", "10 visits", "412 pupils".
COUNTED = re.compile(
    r"(?<![\d,.£])([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+) "
    r"(half day|hour|day|session|place|visit|course|post|employee|pupil|pack|unit)(es|s)?\b"
)
# Small counts, 1 above all, are where "1 days" hides; large ones are where commas appear.
counts = st.integers(1, 3) | st.integers(0, 2_000_000)


def assert_counts_agree(text: str) -> None:
    """Each count in the text is singular for exactly one and plural otherwise."""
    for match in COUNTED.finditer(text):
        count = int(match[1].replace(",", ""))
        assert (match[3] is None) == (count == 1), f"“{match[0]}” in “{text}”"


def _workings(rule: PriceRule, pupils: int, quantity: int) -> tuple[str, ...]:
    """The quote's workings; none for a price that comes to more than one line may hold."""
    try:
        return quote(rule, pupils=pupils, phase="Primary", quantity=quantity).workings
    except TooLarge:
        return ()


@st.composite
def unit_rules(draw: st.DrawFn) -> PriceRule:
    """Per-unit prices in every unit the form offers, with packs and tiers of any size."""
    from portal.services.forms import UNITS

    starts = draw(
        st.lists(st.integers(1, 3) | st.integers(1, MAX_QUANTITY), unique=True, max_size=3)
    )
    return PriceRule(
        PER_UNIT,
        amount_pence=draw(amounts),
        unit=draw(st.sampled_from(UNITS)),
        tiers=tuple(Tier(start, draw(amounts)) for start in starts),
        pack_size=draw(st.none() | quantities),
        vat=draw(st.booleans()),
    )


# What a school may buy of one thing (portal.numbers.MAX_QUANTITY), fewest most often.
quantities = st.integers(1, 3) | st.integers(1, MAX_QUANTITY)


@given(unit_rules(), quantities, counts)
def test_every_count_in_a_price_reads_singular_for_one(
    rule: PriceRule, quantity: int, pupils: int
) -> None:
    from portal.api.costs import amounts as cost_amounts
    from portal.services.catalogue import prices_for_school
    from portal.services.display import describe
    from portal.services.offers import OfferPrices, OptionTerms

    described = describe(rule)
    # "From 1 day: £575.00 a day", not "From 1 days", and every tier has its line.
    assert len([line for line in described if line.startswith("From ")]) == (
        0 if rule.pack_size else len(rule.tiers)
    )
    texts = [
        *described,
        *_workings(rule, pupils, quantity),
        *(amount.description for amount in cost_amounts(rule)),
    ]
    rates = rule.to_rates()
    option = OptionTerms(
        1,
        1,
        "Option",
        rule.basis,
        Audience.ALL,
        rule.amount_pence,
        0,
        rule.unit,
        None,
        rates,
        rates_key=json.dumps(rates),
    )
    offer = OfferPrices(1, 2027, OfferStatus.PUBLISHED, None, rule.vat, (option,))
    school = SimpleNamespace(is_academy=False, phase=Phase.PRIMARY)
    texts += [price.per for price in prices_for_school(offer, school, pupils)]
    for text in texts:
        assert_counts_agree(text)


@given(per_pupil_rules() | open_banded_rules(), counts)
def test_pupil_counts_read_singular_for_one(rule: PriceRule, pupils: int) -> None:
    try:
        workings = quote(rule, pupils=pupils, phase="Primary").workings
    except NoPrice as refused:
        workings = (str(refused),)
    for text in workings:
        assert_counts_agree(text)


@pytest.mark.parametrize(
    ("count", "noun", "words"),
    [
        (0, "day", "0 days"),
        (1, "day", "1 day"),
        (1, "half day", "1 half day"),
        (2, "half day", "2 half days"),
        (1_000, "pupil", "1,000 pupils"),
        (3, "class", "3 classes"),
        (2, "nursery", "2 nurseries"),
        (2, "day", "2 days"),
    ],
)
def test_plural(count: int, noun: str, words: str) -> None:
    assert plural(count, noun) == words


def test_a_remembered_quote_is_the_quote_of_that_very_rule() -> None:
    """quoted() remembers by rule: two rules that differ only in their rates by phase (which
    a rule's hash leaves out) are two prices."""
    from portal.pricing import quoted

    general = PriceRule(PricingBasis.PER_PUPIL, per_pupil_pence=500)
    primary = replace(general, by_phase={"Primary": 400})
    assert hash(general) == hash(primary)
    assert quoted(general, 100, "Primary").net_pence == 50_000
    assert quoted(primary, 100, "Primary").net_pence == 40_000
    assert quoted(general, 100, "Primary") == quote(general, pupils=100, phase="Primary")
