"""seed-scale: a large council's invented data, as much as the factor says, valid for the app.

Each test generates at the smallest factor inside the test's rolled-back transaction, so the
shared seeded database is left as the demo made it.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import create_app
from portal.buyback.offered import offered_to
from portal.clock import utcnow
from portal.models import (
    BuybackChoice,
    BuybackSubmission,
    BuybackSubmissionAnswer,
    BuybackWindow,
    ChoiceStatus,
    Contact,
    Membership,
    OfferStatus,
    Phase,
    PriceOption,
    Role,
    School,
    SchoolRoll,
    Service,
    ServiceKind,
    ServiceOffer,
    SupportRequest,
    SupportStatus,
    Trust,
    Urgency,
    User,
    submission_answers,
)
from portal.pricing import PriceRule, quote, validate
from portal.schools.rolls import pupils_for
from portal_seed.demo import SCHOOLS as DEMO_SCHOOLS
from portal_seed.scale import (
    FIRST_URN,
    REGISTER,
    SERVICE_IDEAS,
    Plan,
    Refused,
    generate,
    plan_for,
    plan_schools,
    plan_services,
    price_rules,
)
from tests.app.test_app import production

# Generates a large council's data: left out of make test-fast.
pytestmark = pytest.mark.slow

FACTOR = 0.1
PLAN = plan_for(FACTOR)
MODELS = (School, Trust, User, Contact, Service, SupportRequest)


def counts(session: Session) -> dict[str, int]:
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in MODELS
    }


@pytest.fixture
def before(session: Session) -> dict[str, int]:
    return counts(session)


@pytest.fixture
def scaled(app: Flask, before: dict[str, int]) -> dict[str, int]:
    with app.app_context():
        return generate(FACTOR)


def generated_schools(session: Session) -> list[School]:
    return list(session.scalars(select(School).where(School.urn >= FIRST_URN).order_by(School.urn)))


def test_the_plan_is_the_issues_numbers_scaled_linearly() -> None:
    assert plan_for(10) == Plan(
        schools=6_000,
        users=60_000,
        contacts=1_500,
        services=250,
        support_requests=50_000,
        courses=150,
        course_sessions=4_000,
        bookings=60_000,
        supply_claims=3_000,
    )
    assert plan_for(1) == Plan(600, 6_000, 150, 25, 5_000, 15, 400, 6_000, 300)
    assert plan_for(2.5) == Plan(1_500, 15_000, 375, 63, 12_500, 38, 1_000, 15_000, 750)
    assert plan_for(0.1) == Plan(60, 600, 15, 3, 500, 2, 40, 600, 30)
    for too_small_or_large in (0, 0.05, 100.5):
        with pytest.raises(ValueError, match=r"the factor must be from 0\.1 to 100"):
            plan_for(too_small_or_large)


def test_the_command_adds_what_the_plan_promises_and_says_so(
    app: Flask, session: Session, before: dict[str, int]
) -> None:
    result = app.test_cli_runner().invoke(args=["seed-scale", "--factor", str(FACTOR)])
    assert result.exit_code == 0, result.output
    assert "schools: 60 schools" in result.output
    assert "Generated: 60 schools" in result.output
    added = {name: count - before[name] for name, count in counts(session).items()}
    trusts = added.pop("Trust")
    assert added == {
        "School": PLAN.schools,
        "User": PLAN.users,
        "Contact": PLAN.contacts,
        "Service": PLAN.services,
        "SupportRequest": PLAN.support_requests,
    }
    assert trusts >= 2


def test_academies_are_mostly_in_trusts_of_realistic_size_each_with_a_lead(
    scaled: object, session: Session, client_for: Callable[[str], FlaskClient]
) -> None:
    schools = generated_schools(session)
    academies = [s for s in schools if s.is_academy]
    assert sum(s.trust is not None for s in academies) >= 0.7 * len(academies)
    assert all(s.trust is None for s in schools if not s.is_academy)
    sizes = Counter(s.trust_id for s in academies if s.trust_id is not None)
    assert all(2 <= size <= 41 for size in sizes.values()), sizes
    leads = set(
        session.scalars(select(Membership.trust_id).where(Membership.role == Role.TRUST_LEAD))
    )
    assert set(sizes) <= leads
    # The largest trust's lead signs in and sees every one of its academies' buy-back.
    trust = session.get(Trust, sizes.most_common(1)[0][0])
    page = client_for(f"lead1@{trust.group_uid.lower()}.trusts.example").get("/buy-back/")
    assert page.status_code == 200
    assert all(escape(school.name) in page.get_data(as_text=True) for school in trust.schools)


def test_schools_are_fictional_with_unique_invented_urns_and_realistic_sizes(
    scaled: object, session: Session
) -> None:
    schools = generated_schools(session)
    urns = [s.urn for s in session.scalars(select(School))]
    assert len(urns) == len(set(urns))
    assert all(FIRST_URN <= s.urn <= 999_999 for s in schools)
    assert not {s.urn for s in schools} & {school[1] for school in DEMO_SCHOOLS}
    with REGISTER.open(newline="") as file:
        real = {row["School name"].split(",")[0].lower() for row in csv.DictReader(file)}
    assert not [s.name for s in schools if s.name.split(",")[0].lower() in real]
    assert {s.area.name for s in schools} == {
        "North",
        "Nuneaton and Bedworth",
        "Rugby",
        "Warwick",
        "Stratford",
    }
    assert {Phase.PRIMARY, Phase.SECONDARY} <= {s.phase for s in schools}
    assert {True, False} == {s.is_academy for s in schools}
    assert all(s.pupils_on_roll > 500 for s in schools if s.phase is Phase.SECONDARY)
    assert all(s.pupils_on_roll < 150 for s in schools if s.phase is Phase.NURSERY)
    # A roll for each of the three years priced.
    rolls = Counter(
        session.scalars(
            select(SchoolRoll.school_id).where(SchoolRoll.school_id.in_([s.id for s in schools]))
        )
    )
    assert set(rolls.values()) == {3}


def test_every_address_is_invented_on_an_example_domain(scaled: object, session: Session) -> None:
    emails = list(session.scalars(select(User.email))) + list(
        session.scalars(select(Contact.email))
    )
    assert len(emails) > PLAN.users
    assert all(email.endswith(".example") for email in emails)
    # Ofcom's drama ranges, so that no real telephone rings.
    drama = re.compile(r"^\+44(1214960|1174960|1134960|7700900)\d{3}$")
    assert all(drama.match(phone) for phone in session.scalars(select(Contact.phone)))


def test_same_seed_same_schools_and_services() -> None:
    def plan(seed: int) -> tuple[object, ...]:
        rng = random.Random(seed)
        return tuple(plan_schools(rng, 40)), tuple(plan_services(rng, 30))

    assert plan(7) == plan(7)
    assert plan(7) != plan(8)


@pytest.mark.parametrize("seed", range(20))
def test_every_kind_of_generated_price_is_stored_and_read_back_unchanged(seed: int) -> None:
    rng = random.Random(seed)
    for idea in SERVICE_IDEAS:
        if idea.kind is not ServiceKind.TRADED:
            continue
        for name, rule in price_rules(rng, idea):
            stored = SimpleNamespace(
                basis=rule.basis,
                amount_pence=rule.amount_pence,
                per_pupil_pence=rule.per_pupil_pence,
                unit=rule.unit,
                minimum_pence=rule.minimum_pence,
                audience=rule.audience,
                rates=json.loads(json.dumps(rule.to_rates())),
            )
            assert PriceRule.from_option(stored, vat=False) == rule, (idea.name, name)
            assert validate(rule) == []
            assert quote(rule, pupils=250, phase="Primary").net_pence > 0


def test_a_generated_head_teacher_sees_their_schools_buyback_and_contacts(
    scaled: object, session: Session, client_for: Callable[[str], FlaskClient]
) -> None:
    school = next(s for s in generated_schools(session) if not s.is_academy)
    client = client_for(f"head@{school.urn}.schools.example")
    response = client.get("/buy-back/")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert escape(school.name) in page
    window = session.scalars(
        select(BuybackWindow).where(BuybackWindow.year == 2027).order_by(BuybackWindow.opens_at)
    ).first()
    choice = session.scalars(
        select(BuybackChoice).where(
            BuybackChoice.school_id == school.id, BuybackChoice.window_id == window.id
        )
    ).one()
    if choice.status is ChoiceStatus.SUBMITTED:
        assert f"Submitted {len(choice.submissions)} time" in page
    assert choice.lines
    # The choice lists the categories of the services in it, and its total.
    assert all(escape(line.service.category.name) in page for line in choice.lines)
    assert "Total for 2027-28: £" in page
    # The area's generated CAF officer is among the school's contacts.
    contacts = client.get("/contacts/").get_data(as_text=True)
    officer = session.scalars(
        select(Contact).where(Contact.email == f"caf.{school.area.code}.1@council.example")
    ).one()
    assert escape(officer.name) in contacts


def test_a_generated_caf_officer_sees_their_areas_queue(
    scaled: object, session: Session, client_for: Callable[[str], FlaskClient]
) -> None:
    officer = session.scalars(select(User).where(User.email == "caf.rugby.1@council.example")).one()
    area_id = officer.memberships[0].area_id
    open_statuses = [s for s in SupportStatus if s.is_open]
    first_due = session.scalars(
        select(SupportRequest)
        .where(SupportRequest.area_id == area_id, SupportRequest.status.in_(open_statuses))
        .order_by(SupportRequest.respond_by, SupportRequest.id)
    ).first()
    elsewhere = session.scalars(
        select(SupportRequest).where(SupportRequest.area_id != area_id)
    ).first()
    page = client_for(officer.email).get("/support/").get_data(as_text=True)
    assert first_due is not None and first_due.reference in page
    assert elsewhere is not None and elsewhere.reference not in page


def test_support_requests_are_varied_routed_and_have_timelines(
    scaled: object, session: Session
) -> None:
    schools = {s.id for s in generated_schools(session)}
    requests = [r for r in session.scalars(select(SupportRequest)) if r.school_id in schools]
    assert len(requests) == PLAN.support_requests
    assert {r.status for r in requests} == set(SupportStatus)
    assert {r.urgency for r in requests} == set(Urgency)
    moments = sorted(r.submitted_at for r in requests)
    assert moments[-1] < utcnow()
    assert moments[-1] - moments[0] > timedelta(days=600)
    officers = {
        (m.user_id, m.area_id)
        for m in session.scalars(select(Membership).where(Membership.role == Role.CAF_OFFICER))
    }
    for request in requests:
        assert re.fullmatch(rf"CAF-20\d\d-{request.id:06d}", request.reference)
        first = request.events[0]
        assert (first.to_status, first.actor_id) == (SupportStatus.NEW, request.requester_id)
        assert request.version == len(request.events)
        if request.status is not SupportStatus.NEW:
            assert (request.assigned_officer_id, request.area_id) in officers
            assert request.events[-1].to_status in (request.status, None)


def test_buyback_choices_for_every_school_priced_as_the_app_prices_them(
    app: Flask, scaled: object, session: Session
) -> None:
    schools = generated_schools(session)
    windows = session.scalars(select(BuybackWindow)).all()
    # The generator decides what has opened as of the start of the day.
    today = datetime.combine(utcnow().date(), time(), tzinfo=UTC)
    opened = {w.id for w in windows if w.opens_at <= today}
    choices = list(
        session.scalars(
            select(BuybackChoice).where(BuybackChoice.school_id.in_([s.id for s in schools]))
        )
    )
    per_school = Counter(c.school_id for c in choices)
    for school in schools:
        expected = {w.year for w in windows if w.id in opened and w.cohort.includes(school)}
        assert per_school[school.id] == len(expected) >= 2
    for option in session.scalars(select(PriceOption)):
        assert validate(PriceRule.from_option(option, vat=option.offer.vat_applies)) == []

    submitted = [c for c in choices if c.status is ChoiceStatus.SUBMITTED and c.window.year == 2026]
    assert len(submitted) >= 0.8 * len(schools)
    with app.app_context():
        for choice in submitted[:10]:
            school, year = choice.school, choice.window.year
            offered = offered_to(school, year)
            # Every service on the school's page was answered, and only those.
            assert {i.service.id for i in offered} == {line.service_id for line in choice.lines}
            pupils = pupils_for(school, year)
            for line in choice.lines:
                if not line.buying:
                    continue
                offer = next(i.offer for i in offered if i.service.id == line.service_id)
                priced = quote(
                    PriceRule.from_option(line.option, vat=offer.vat_applies),
                    pupils=pupils,
                    phase=school.phase.value,
                    quantity=line.quantity,
                )
                assert (line.net_pence, line.vat_pence) == (priced.net_pence, priced.vat_pence)
            latest = choice.submissions[-1]
            assert latest.net_pence == sum(line.net_pence or 0 for line in choice.lines)
    # Generated services are bought, and the buy-back analysis has a cost to set against each.
    generated = set(session.scalars(select(Service.id).order_by(Service.id.desc()).limit(3)))
    assert any(line.buying and line.service_id in generated for c in choices for line in c.lines)
    uncosted = session.scalars(
        select(ServiceOffer)
        .join(Service)
        .where(
            Service.kind == ServiceKind.TRADED,
            ServiceOffer.status == OfferStatus.PUBLISHED,
            ServiceOffer.delivery_cost_pence.is_(None),
        )
    ).all()
    assert not uncosted


def test_it_refuses_to_run_twice(app: Flask, scaled: object) -> None:
    with app.app_context(), pytest.raises(Refused, match="refuses to run twice"):
        generate(FACTOR)
    result = app.test_cli_runner().invoke(args=["seed-scale", "--factor", "0.1"])
    assert result.exit_code == 1
    assert "refuses to run twice" in result.output


def test_a_factor_out_of_range_is_refused(app: Flask, session: Session) -> None:
    result = app.test_cli_runner().invoke(args=["seed-scale", "--factor", "0.01"])
    assert result.exit_code == 2
    assert "the factor must be from 0.1 to 100" in result.output
    assert not generated_schools(session)


def test_it_refuses_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch)
    app = create_app()
    result = app.test_cli_runner().invoke(args=["seed-scale", "--factor", "1"])
    assert result.exit_code != 0
    assert "seed-scale refuses to run when PORTAL_ENV=production" in result.output
    app.extensions["portal.db"].engine.dispose()


def _answer_rows(session: Session) -> dict[int, dict[int, tuple[bool, int]]]:
    found: dict[int, dict[int, tuple[bool, int]]] = {}
    for answer in session.scalars(select(BuybackSubmissionAnswer)):
        found.setdefault(answer.submission_id, {})[answer.service_id] = (
            answer.buying,
            answer.net_pence,
        )
    return found


def _expected_rows(session: Session) -> dict[int, dict[int, tuple[bool, int]]]:
    expected: dict[int, dict[int, tuple[bool, int]]] = {}
    for submission_id, lines in session.execute(
        select(BuybackSubmission.id, BuybackSubmission.lines)
    ):
        for row in submission_answers(submission_id, lines):
            expected.setdefault(submission_id, {})[row["service_id"]] = (
                row["buying"],
                row["net_pence"],
            )
    return expected


def test_every_submission_has_its_answers_as_rows(scaled: object, session: Session) -> None:
    """The demo's submissions (written through the ORM) and the generated ones (bulk) alike:
    the analysis adds up these rows, so they must say what the frozen lines say."""
    expected = _expected_rows(session)
    assert sum(len(answers) for answers in expected.values()) > 1_000
    assert _answer_rows(session) == expected
