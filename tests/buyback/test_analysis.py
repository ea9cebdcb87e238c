"""The buy-back analysis: returns, take-up, income against cost, groups, last year, CSV, page;
a closed window's figures kept; the whole year.

Five demo schools, three traded services of our own and a window in 2031, far from the demo's
windows (2026 and 2027), so that every figure below is ours and can be worked out by hand.

    school          URN     phase      type        2031 answer
    Atherstone      140202  Primary    Academy     not started
    Coleshill Heath 125604  Nursery    Maintained  a draft only
    Oakfield        125601  Primary    Maintained  submitted twice: the second counts
    Polesworth      125605  Secondary  Maintained  submitted; no line for outdoor education
    Riverside       140201  Secondary  Academy     submitted

    service            for               cost       Oak (latest)  Pol      Riv
    Payroll            everyone          £1,000.00  buys £350     £600     £600
    Finance            maintained only   £500.00    does not      £250     (not eligible)
    Outdoor education  everyone          not entered buys £120    (no line) does not

Their offers are published; a draft offer is offered to nobody and counted nowhere. The last
tests make two years of their own (2040's windows closed, 2041's open) from whatever sets of
submissions hypothesis draws, change the register after the deadline, and check that nothing
of the closed windows moved, and that the whole year's page adds up its windows' pages.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask, render_template
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.buyback.analysis import Totals, WindowAnalysis, analyse
from portal.buyback.analysis_csv import CSV_COLUMNS, analysis_csv
from portal.buyback.analysis_page import charts_for, page_context
from portal.buyback.figures import GroupTakeUp, ReturnState, percentage
from portal.charts import BarChart
from portal.models import (
    BuybackChoice,
    BuybackSubmission,
    BuybackWindow,
    ChoiceStatus,
    Cohort,
    OfferStatus,
    School,
    SchoolStatus,
    Service,
    ServiceCategory,
    ServiceKind,
    ServiceOffer,
    User,
)
from portal.register import jobs
from portal_seed.demo import SCHOOLS as demo_schools
from tests.conftest import QueryCounter
from tests.register.test_register import extract, school_row

YEAR = 2031
OAKFIELD = 125601
RIVERSIDE = 140201
POLESWORTH = 125605
COLESHILL = 125604
ATHERSTONE = 140202
HARTSHILL = 125602  # closed for these tests; it bought last year
OURS = (OAKFIELD, RIVERSIDE, POLESWORTH, COLESHILL, ATHERSTONE)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_service(
    session: Session,
    name: str,
    *,
    eligible: list[str] | None = None,
    costs: dict[int, int | None] | None = None,
    kind: ServiceKind = ServiceKind.TRADED,
    status: OfferStatus = OfferStatus.PUBLISHED,
) -> Service:
    """A service with an offer (published, unless ``status`` says otherwise), at its cost
    of delivery, for each year in ``costs``."""
    category = session.scalars(
        select(ServiceCategory).where(ServiceCategory.name == "Buy-back analysis tests")
    ).first() or ServiceCategory(name="Buy-back analysis tests")
    service = Service(
        name=name,
        category=category,
        kind=kind,
        summary="For the analysis tests.",
        included="Whatever the test needs.",
        provider_team="Test team",
        contact_email="test@council.example",
        eligible=eligible or [],
        phases=[],
    )
    for year, cost in (costs or {YEAR: None}).items():
        service.offers.append(ServiceOffer(year=year, status=status, delivery_cost_pence=cost))
    session.add(service)
    session.flush()
    return service


@dataclass
class World:
    session: Session
    schools: dict[int, School]
    payroll: Service
    finance: Service
    outdoor: Service
    window: BuybackWindow
    submitter: User
    keys: itertools.count[int]

    def window_for(self, year: int, cohort: Cohort = Cohort.ALL) -> BuybackWindow:
        window = BuybackWindow(
            year=year,
            cohort=cohort,
            opens_at=utc(f"{year - 1}-11-02T09:00"),
            closes_at=utc(f"{year}-03-02T17:00"),
        )
        self.session.add(window)
        self.session.flush()
        return window

    def choice(self, urn: int, window: BuybackWindow | None = None) -> BuybackChoice:
        window = window or self.window
        school = (
            self.schools.get(urn)
            or self.session.scalars(select(School).where(School.urn == urn)).one()
        )
        found = self.session.scalars(
            select(BuybackChoice).where(
                BuybackChoice.school_id == school.id, BuybackChoice.window_id == window.id
            )
        ).first()
        if found is None:
            found = BuybackChoice(school=school, window=window)
            self.session.add(found)
            self.session.flush()
        return found

    def submit(
        self,
        urn: int,
        lines: list[dict[str, Any]],
        *,
        at: str = "2031-02-01T10:00",
        window: BuybackWindow | None = None,
    ) -> BuybackSubmission:
        choice = self.choice(urn, window)
        submission = BuybackSubmission(
            choice=choice,
            number=len(choice.submissions) + 1,
            submission_key=f"analysis-test-{next(self.keys)}",
            submitted_at=utc(at),
            submitted_by=self.submitter,
            lines=lines,
            net_pence=sum(line["net_pence"] for line in lines),
            vat_pence=sum(line["vat_pence"] for line in lines),
        )
        choice.status = ChoiceStatus.SUBMITTED
        choice.submitted_at = submission.submitted_at
        self.session.add(submission)
        self.session.flush()
        return submission


def line(service: Service, net_pence: int | None = None) -> dict[str, Any]:
    """A frozen line: buying at ``net_pence``, or not buying when it is None."""
    buying = net_pence is not None
    return {
        "service_id": service.id,
        "service": service.name,
        "buying": buying,
        "option_id": None,
        "option": "Standard" if buying else None,
        "quantity": 1,
        "net_pence": net_pence or 0,
        # VAT is never income: a large figure here would show if it were counted.
        "vat_pence": 99_999 if buying else 0,
    }


@pytest.fixture
def world(session: Session) -> World:
    # The demo has thirty schools and these tests count exactly: close all but five.
    session.execute(
        update(School).where(School.urn.not_in(OURS)).values(status=SchoolStatus.CLOSED)
    )
    schools = {
        school.urn: school for school in session.scalars(select(School).where(School.urn.in_(OURS)))
    }
    # Neither of the last two is in the analysis: one is free, one was traded only last year.
    payroll = add_service(session, "Payroll", costs={YEAR: 100_000, YEAR - 1: 90_000})
    finance = add_service(
        session, "Finance", eligible=["maintained"], costs={YEAR: 50_000, YEAR - 1: 50_000}
    )
    outdoor = add_service(session, "Outdoor education", costs={YEAR: None})
    add_service(session, "Admissions", kind=ServiceKind.STATUTORY, costs={YEAR: 1})
    add_service(session, "Ceased service", costs={YEAR - 1: 10_000})
    window = BuybackWindow(
        year=YEAR,
        cohort=Cohort.ALL,
        opens_at=utc("2030-11-02T09:00"),
        closes_at=utc("2031-03-02T17:00"),
    )
    session.add(window)
    submitter = session.scalars(select(User).where(User.email == "head@oakfield.example")).one()
    made = World(session, schools, payroll, finance, outdoor, window, submitter, itertools.count(1))

    # Oakfield's first submission is replaced by its second.
    made.submit(
        OAKFIELD,
        [line(made.payroll, 30_000), line(made.finance, 20_000), line(made.outdoor)],
        at="2031-01-10T09:00",
    )
    made.submit(
        OAKFIELD,
        [line(made.payroll, 35_000), line(made.finance), line(made.outdoor, 12_000)],
        at="2031-02-20T15:30",
    )
    made.submit(RIVERSIDE, [line(made.payroll, 60_000), line(made.outdoor)])
    made.submit(POLESWORTH, [line(made.payroll, 60_000), line(made.finance, 25_000)])
    made.choice(COLESHILL)  # a draft, never submitted
    return made


def analysed(app: Flask, world: World, window: BuybackWindow | None = None) -> WindowAnalysis:
    world.session.commit()
    with app.app_context():
        return analyse(window or world.window)


def by_service(analysis: WindowAnalysis) -> dict[str, Any]:
    return {row.service: row for row in analysis.services}


def test_returns_show_who_has_submitted_and_who_has_not(app: Flask, world: World) -> None:
    analysis = analysed(app, world)

    assert [
        (entry.school.urn, entry.state, entry.submitted_at, entry.submissions)
        for entry in analysis.returns
    ] == [
        (ATHERSTONE, ReturnState.NOT_STARTED, None, 0),
        (COLESHILL, ReturnState.DRAFT, None, 0),
        (OAKFIELD, ReturnState.SUBMITTED, utc("2031-02-20T15:30"), 2),
        (POLESWORTH, ReturnState.SUBMITTED, utc("2031-02-01T10:00"), 1),
        (RIVERSIDE, ReturnState.SUBMITTED, utc("2031-02-01T10:00"), 1),
    ]
    assert [entry.school.urn for entry in analysis.returned] == [OAKFIELD, POLESWORTH, RIVERSIDE]
    assert [entry.school.urn for entry in analysis.not_returned] == [ATHERSTONE, COLESHILL]


def test_take_up_income_and_cost_of_each_service(app: Flask, world: World) -> None:
    analysis = analysed(app, world)

    # Only the traded services offered in 2031: not the statutory one, not the ceased one.
    assert [row.service for row in analysis.services] == ["Finance", "Outdoor education", "Payroll"]
    rows = by_service(analysis)

    payroll = rows["Payroll"]
    # Everyone is eligible (5); Oakfield's latest, Polesworth and Riverside buy (3); Coleshill
    # (a draft) and Atherstone are undecided (2). 3 / 5 = 60.0%.
    assert (payroll.eligible, payroll.buying, payroll.not_buying, payroll.undecided) == (5, 3, 0, 2)
    assert payroll.take_up == Decimal("60.0")
    # £350 (Oakfield's second submission, not its first £300) + £600 + £600; VAT left out.
    assert payroll.income_pence == 35_000 + 60_000 + 60_000 == 155_000
    assert payroll.cost_pence == 100_000
    assert payroll.surplus_pence == 155_000 - 100_000 == 55_000
    assert payroll.pays is True

    finance = rows["Finance"]
    # Maintained only: Oakfield, Polesworth, Coleshill (3). Polesworth buys; Oakfield did in
    # its first submission but not in its latest; Coleshill is undecided. 1 / 3 = 33.3%.
    assert (finance.eligible, finance.buying, finance.not_buying, finance.undecided) == (3, 1, 1, 1)
    assert finance.take_up == Decimal("33.3")
    assert finance.income_pence == 25_000
    assert finance.surplus_pence == 25_000 - 50_000 == -25_000
    assert finance.pays is False

    outdoor = rows["Outdoor education"]
    # Oakfield buys, Riverside does not; Polesworth sent no line for it, so it is undecided
    # with Coleshill and Atherstone. 1 / 5 = 20.0%.
    assert (outdoor.eligible, outdoor.buying, outdoor.not_buying, outdoor.undecided) == (5, 1, 1, 3)
    assert outdoor.take_up == Decimal("20.0")
    assert outdoor.income_pence == 12_000
    # No cost entered: nothing can be said about its balance.
    assert (outdoor.cost_pence, outdoor.surplus_pence, outdoor.pays) == (None, None, None)

    # No 2030 window: nothing to compare with.
    assert analysis.last_year is None
    assert all(
        (row.last_year_buying, row.last_year_income_pence, row.buying_change) == (None,) * 3
        for row in analysis.services
    )


def test_totals_wait_for_every_cost(app: Flask, world: World) -> None:
    # 155,000 + 25,000 + 12,000; outdoor education has no cost, so no total cost or surplus.
    assert analysed(app, world).totals == Totals(192_000, None, None, ("Outdoor education",))

    offer = world.session.scalars(
        select(ServiceOffer).where(
            ServiceOffer.service_id == world.outdoor.id, ServiceOffer.year == YEAR
        )
    ).one()
    offer.delivery_cost_pence = 20_000
    totals = analysed(app, world).totals

    # Cost 100,000 + 50,000 + 20,000 = 170,000; surplus 192,000 - 170,000 = 22,000.
    assert totals == Totals(192_000, 170_000, 22_000)
    assert totals.pays is True


def test_a_service_for_maintained_schools_is_not_counted_against_academies(
    app: Flask, world: World
) -> None:
    # A buying line from an academy (say, kept from before the service was restricted) is
    # not take-up of a service it cannot buy.
    world.submit(RIVERSIDE, [line(world.payroll, 60_000), line(world.finance, 40_000)])
    analysis = analysed(app, world)

    finance = by_service(analysis)["Finance"]
    assert (finance.eligible, finance.buying, finance.income_pence) == (3, 1, 25_000)
    assert [row.group for row in analysis.by_type if row.service == "Finance"] == ["Maintained"]


def test_take_up_by_phase_and_by_maintained_or_academy(app: Flask, world: World) -> None:
    analysis = analysed(app, world)

    def rows(groups: list[GroupTakeUp]) -> list[tuple[str, str, int, int, str | None, int]]:
        return [
            (
                row.service,
                row.group,
                row.eligible,
                row.buying,
                None if row.take_up is None else str(row.take_up),
                row.income_pence,
            )
            for row in groups
        ]

    # Phases in the register's order; a phase with nobody eligible has no row.
    assert rows(analysis.by_phase) == [
        ("Finance", "Nursery", 1, 0, "0.0", 0),  # Coleshill
        ("Finance", "Primary", 1, 0, "0.0", 0),  # Oakfield (Atherstone is an academy)
        ("Finance", "Secondary", 1, 1, "100.0", 25_000),  # Polesworth
        ("Outdoor education", "Nursery", 1, 0, "0.0", 0),
        ("Outdoor education", "Primary", 2, 1, "50.0", 12_000),  # Oakfield of 2
        ("Outdoor education", "Secondary", 2, 0, "0.0", 0),
        ("Payroll", "Nursery", 1, 0, "0.0", 0),
        ("Payroll", "Primary", 2, 1, "50.0", 35_000),  # Oakfield; Atherstone not started
        ("Payroll", "Secondary", 2, 2, "100.0", 120_000),  # 60,000 + 60,000
    ]
    assert rows(analysis.by_type) == [
        ("Finance", "Maintained", 3, 1, "33.3", 25_000),
        ("Outdoor education", "Maintained", 3, 1, "33.3", 12_000),
        ("Outdoor education", "Academy", 2, 0, "0.0", 0),
        ("Payroll", "Maintained", 3, 2, "66.7", 95_000),  # 2 / 3; 35,000 + 60,000
        ("Payroll", "Academy", 2, 1, "50.0", 60_000),  # Riverside of 2
    ]
    undecided = {(row.service, row.group): row.undecided for row in analysis.by_type}
    assert undecided[("Payroll", "Academy")] == 1  # Atherstone


def test_change_from_last_year(app: Flask, world: World) -> None:
    last = world.window_for(YEAR - 1)
    world.submit(
        OAKFIELD,
        [line(world.payroll, 33_000), line(world.finance, 19_000)],
        at="2030-02-10T09:00",
        window=last,
    )
    world.submit(RIVERSIDE, [line(world.payroll, 58_000)], at="2030-02-11T09:00", window=last)
    # Closed since, but it paid last year: that income was real.
    world.submit(HARTSHILL, [line(world.payroll, 30_000)], at="2030-02-12T09:00", window=last)
    world.choice(POLESWORTH, last)  # a draft last year: bought nothing
    # Another cohort's window of the same year is no comparison.
    maintained = world.window_for(YEAR - 1, Cohort.MAINTAINED)
    world.submit(COLESHILL, [line(world.payroll, 77_777)], window=maintained)

    analysis = analysed(app, world)
    rows = by_service(analysis)

    assert analysis.last_year is not None and analysis.last_year.id == last.id
    payroll = rows["Payroll"]
    # Last year: Oakfield, Riverside, Hartshill bought: 3, 33,000 + 58,000 + 30,000 = 121,000.
    assert (payroll.last_year_buying, payroll.last_year_income_pence) == (3, 121_000)
    # This year 3 buying, 155,000: no change in buyers, 155,000 - 121,000 = +34,000.
    assert (payroll.buying_change, payroll.income_change_pence) == (0, 34_000)
    finance = rows["Finance"]
    assert (finance.last_year_buying, finance.last_year_income_pence) == (1, 19_000)
    assert (finance.buying_change, finance.income_change_pence) == (0, 25_000 - 19_000)
    # New this year: there is nothing to compare with.
    outdoor = rows["Outdoor education"]
    assert (outdoor.last_year_buying, outdoor.last_year_income_pence) == (None, None)
    assert (outdoor.buying_change, outdoor.income_change_pence) == (None, None)


def test_the_number_of_queries_does_not_grow(
    app: Flask, world: World, count_queries: Callable[[], QueryCounter]
) -> None:
    world.window_for(YEAR - 1)

    def queries() -> int:
        world.session.commit()
        with app.app_context(), count_queries() as counter:
            analyse(world.window)
        return counter.count

    few = queries()
    # Every demo school open again, five more services, and a return from each school.
    world.session.execute(update(School).values(status=SchoolStatus.OPEN))
    extra = [
        add_service(world.session, f"Extra {n}", costs={YEAR: 1_000, YEAR - 1: 1_000})
        for n in range(5)
    ]
    for school in world.session.scalars(select(School).where(School.urn.not_in(OURS))):
        world.submit(school.urn, [line(service, 500) for service in extra])
        world.submit(school.urn, [line(service, 700) for service in extra], window=None)
    many = queries()

    assert few == many
    # Last year's window, the offers of both years, and for both windows at once: their
    # returns, their schools and their answers added up.
    assert many <= 5


def test_a_closed_window_is_kept_once_and_again_if_its_deadline_moves(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its deadline a window's figures are kept the first time they are asked for, and
    read from there since; extended, it is open again and counts afresh, and is kept again
    (at the new deadline) when it closes."""
    from portal import clock

    monkeypatch.setattr(clock, "now", lambda: utc("2031-03-03T09:00"))
    first = analysed(app, world)
    assert first.kept_at == utc("2031-03-03T09:00")
    assert by_service(first)["Payroll"].income_pence == 155_000

    # Whatever happens afterwards (here, straight to the database) moves nothing.
    world.session.execute(
        update(School).where(School.urn == POLESWORTH).values(status=SchoolStatus.CLOSED)
    )
    world.session.execute(
        update(School).where(School.urn == ATHERSTONE).values(status=SchoolStatus.CLOSED)
    )
    kept = analysed(app, world)
    assert kept.kept_at == first.kept_at
    assert kept.services == first.services and kept.by_type == first.by_type
    assert [entry.school.urn for entry in kept.returns] == [e.school.urn for e in first.returns]

    # Extended to the end of March: open again, counted as things stand (Atherstone has
    # closed; Polesworth's submission stands).
    world.window.closes_at = utc("2031-03-31T17:00")
    reopened = analysed(app, world)
    assert reopened.kept_at is None
    payroll = by_service(reopened)["Payroll"]
    assert (payroll.eligible, payroll.buying, payroll.income_pence) == (4, 3, 155_000)

    monkeypatch.setattr(clock, "now", lambda: utc("2031-04-01T09:00"))
    again = analysed(app, world)
    assert again.kept_at == utc("2031-04-01T09:00")
    assert by_service(again)["Payroll"].eligible == 4
    with app.app_context():
        assert analyse(world.window).kept_at == again.kept_at


def test_the_daily_command_keeps_a_closed_windows_figures_before_anyone_looks(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without it, what happened between the deadline and the first look (here a school
    closing) would be in the figures kept then."""
    from portal import clock

    # The last moment of the window: its figures as they stand at the deadline.
    monkeypatch.setattr(clock, "now", lambda: utc("2031-03-02T16:59"))
    at_the_deadline = analysed(app, world)
    assert at_the_deadline.kept_at is None

    monkeypatch.setattr(clock, "now", lambda: utc("2031-03-03T02:00"))
    ran = app.test_cli_runner().invoke(args=["buyback", "keep-figures"])
    assert ran.exit_code == 0, ran.output
    # This window and the demo's others, all past their deadlines by 2031.
    assert re.search(r"Kept the figures of [1-9]\d* closed windows?\.", ran.output)
    again = app.test_cli_runner().invoke(args=["buyback", "keep-figures"])
    assert "Kept the figures of 0 closed windows." in again.output

    world.session.execute(
        update(School).where(School.urn == ATHERSTONE).values(status=SchoolStatus.CLOSED)
    )
    monkeypatch.setattr(clock, "now", lambda: utc("2031-03-05T10:00"))
    looked = analysed(app, world)
    assert looked.kept_at == utc("2031-03-03T02:00")
    assert looked.services == at_the_deadline.services
    assert looked.by_type == at_the_deadline.by_type


def test_the_page_of_a_closed_window_says_its_figures_are_kept(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal import clock

    monkeypatch.setattr(clock, "now", lambda: utc("2031-03-05T10:00"))
    page = render(app, analysed(app, world))
    inset = " ".join(page.select_one("main .govuk-inset-text").get_text().split())
    assert inset.startswith(
        "The window closed on 2 March 2031 at 5:00pm. Its figures were kept on 5 March 2031"
        " at 10:00am and do not change"
    )
    year = page.find("a", string=lambda text: bool(text) and "The whole of 2031-32" in text)
    assert year["href"] == "/buy-back/years/2031/analysis"


def test_percentages_round_half_up_to_one_place() -> None:
    assert percentage(1, 16) == Decimal("6.3")  # 6.25: half up, not to even
    assert percentage(2, 3) == Decimal("66.7")
    assert percentage(3, 3) == Decimal("100.0")
    assert percentage(0, 0) is None


# --- the download ---------------------------------------------------------------------------


def test_the_csv_has_every_figure_of_every_service(app: Flask, world: World) -> None:
    lines = analysis_csv(analysed(app, world)).splitlines()

    assert tuple(next(csv.reader(lines[:1]))) == CSV_COLUMNS
    # Service, eligible, buying, not buying, undecided, take-up, income, cost, surplus, pays
    # its way, then last year's buying and income and the changes: none, with no 2030 window.
    assert lines[1:] == [
        "Finance,3,1,1,1,33.3,250.00,500.00,-250.00,No,,,,",
        "Outdoor education,5,1,1,3,20.0,120.00,,,,,,,",
        "Payroll,5,3,0,2,60.0,1550.00,1000.00,550.00,Yes,,,,",
    ]


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-1+1", "@SUM(A1)", "\tTab"]
)
def test_a_service_name_cannot_become_a_spreadsheet_formula(
    app: Flask, world: World, name: str
) -> None:
    world.payroll.name = name
    table = list(csv.reader(io.StringIO(analysis_csv(analysed(app, world)))))

    assert "'" + name in [row[0] for row in table]
    # A deficit stays a number a spreadsheet can add up.
    assert "-250.00" in [row[8] for row in table]


# --- the charts and the page ----------------------------------------------------------------


def chart_rows(chart: BarChart) -> list[tuple[str, str]]:
    """(label, value) of each bar, as drawn (templates/macros/charts.html writes these)."""
    return [(bar.shown, bar.value) for bar in chart.bars]


def test_charts_draw_the_figures_in_whole_percent_and_pounds(app: Flask, world: World) -> None:
    charts = charts_for(analysed(app, world))

    assert set(charts) == {"take_up", "income_and_cost", "surplus", "deficit"}
    assert chart_rows(charts["take_up"]) == [
        ("Finance", "33"),
        ("Outdoor education", "20"),
        ("Payroll", "60"),
    ]
    assert chart_rows(charts["income_and_cost"]) == [
        ("Income: Finance", "250"),
        ("Cost: Finance", "500"),
        ("Income: Outdoor education", "120"),  # no cost entered: no cost bar
        ("Income: Payroll", "1,550"),
        ("Cost: Payroll", "1,000"),
    ]
    assert chart_rows(charts["surplus"]) == [("Payroll", "550")]
    # A deficit is drawn as a positive length on a chart of its own.
    assert chart_rows(charts["deficit"]) == [("Finance", "250")]


def render(app: Flask, analysis: WindowAnalysis) -> BeautifulSoup:
    with app.test_request_context("/"):
        html = render_template("buyback/analysis.html", **page_context(analysis))
    return BeautifulSoup(html, "html.parser")


def table(page: BeautifulSoup, caption: str) -> list[list[str]]:
    """A table's body, found by the start of its caption, as the words of each cell."""
    for found in page.select("main table"):
        if found.caption.get_text(strip=True).startswith(caption):
            return [
                [" ".join(cell.get_text(" ").split()) for cell in row.select("th, td")]
                for row in found.select("tbody tr, tfoot tr")
            ]
    raise AssertionError(f"no table captioned {caption!r}")


def test_the_page(app: Flask, world: World) -> None:
    analysis = analysed(app, world)
    page = render(app, analysis)
    main = " ".join(page.select_one("main").get_text(" ").split())

    assert page.select_one("h1").get_text(strip=True) == "Buy-back analysis: All schools 2031-32"
    assert "3 of 5 schools have returned." in main
    assert table(page, "Schools that have not returned") == [
        ["Atherstone Meadows Primary School", "140202", "Primary", "Not started"],
        ["Coleshill Heath Nursery School", "125604", "Nursery", "Draft started"],
    ]
    assert table(page, "Schools that have returned") == [
        ["Oakfield Primary School", "125601", "20 February 2031 at 3:30pm", "2"],
        ["Polesworth Valley School", "125605", "1 February 2031 at 10:00am", "1"],
        ["Riverside Academy", "140201", "1 February 2031 at 10:00am", "1"],
    ]
    assert table(page, "Take-up by service") == [
        ["Finance", "3", "1", "1", "1", "33.3%"],
        ["Outdoor education", "5", "1", "1", "3", "20.0%"],
        ["Payroll", "5", "3", "0", "2", "60.0%"],
    ]
    assert table(page, "Income, cost of delivery") == [
        ["Finance", "£250.00", "£500.00", "-£250.00", "Deficit"],
        ["Outdoor education", "£120.00", "Not entered", "Not known", "No cost entered"],
        ["Payroll", "£1,550.00", "£1,000.00", "£550.00", "Pays its way"],
        ["All services", "£1,920.00", "Not known", "Not known", ""],
    ]
    assert "not been entered for Outdoor education" in main
    assert "no buy-back window for all schools in the year before" in main
    assert ["Payroll", "Secondary", "2", "2", "0", "0", "100.0%", "£1,200.00"] in table(
        page, "Take-up and income by school phase"
    )
    assert ["Payroll", "Academy", "2", "1", "0", "1", "50.0%", "£600.00"] in table(
        page, "Take-up and income of maintained schools and of academies"
    )
    download = page.find("a", string=lambda text: bool(text) and "(CSV)" in text)
    assert download["href"] == f"/buy-back/windows/{world.window.id}/analysis.csv"
    assert len(page.select("main svg[role=img]")) == 4
    assert all(found.select_one("caption") for found in page.select("main table"))
    assert all(th.get("scope") == "col" for th in page.select("main thead th"))
    assert page.select_one("main [style]") is None


def test_the_lists_of_schools_come_a_page_at_a_time(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large council's thousands of schools: each list pages on its own, keeping the
    other's place, and together the pages hold every school once."""
    from portal.buyback import analysis_page as module

    monkeypatch.setattr(module, "SCHOOLS_PER_LIST", 2)
    analysis = analysed(app, world)
    with app.test_request_context("/"):
        first = module.page_context(analysis, {})
        assert [e.school.urn for e in first["returned"].items] == [125601, 125605]
        assert first["returned"].pages == 2 and first["waiting"].pages == 1
        links = first["list_pagination"](first["returned"], "returned")
        assert links["next"]["href"] == (
            f"/buy-back/windows/{world.window.id}/analysis?returned=2#returns"
        )
        second = module.page_context(analysis, {"returned": "2", "waiting": "1"})
        assert [e.school.urn for e in second["returned"].items] == [140201]
        kept = second["list_pagination"](second["returned"], "returned")["previous"]["href"]
        assert "waiting=1" in kept and "returned=1" in kept
        # A page past the end, or not a number, shows the nearest real page.
        assert module.page_context(analysis, {"returned": "9"})["returned"].number == 2
        assert module.page_context(analysis, {"returned": "x"})["returned"].number == 1
        html = render_template("buyback/analysis.html", **second)
    page = BeautifulSoup(html, "html.parser")
    assert table(page, "Schools that have returned") == [
        ["Riverside Academy", "140201", "1 February 2031 at 10:00am", "1"]
    ]
    caption = " ".join(
        page.find("caption", string=lambda t: t and "have returned" in t).get_text().split()
    )
    assert caption == "Schools that have returned: 3 to 3 of 3"


def test_the_page_compares_with_last_year(app: Flask, world: World) -> None:
    last = world.window_for(YEAR - 1)
    world.submit(OAKFIELD, [line(world.payroll, 40_000)], window=last)

    page = render(app, analysed(app, world))

    # Last year only Oakfield bought, payroll at £400; finance was offered but nobody bought it.
    assert table(page, "Schools buying each service, 2030-31 and 2031-32") == [
        ["Finance", "0", "1", "+1"],
        ["Outdoor education", "Not offered", "1", "New"],
        ["Payroll", "1", "3", "+2"],
    ]
    assert table(page, "Income from each service, 2030-31 and 2031-32") == [
        ["Finance", "£0.00", "£250.00", "+£250.00"],
        ["Outdoor education", "Not offered", "£120.00", "New"],
        ["Payroll", "£400.00", "£1,550.00", "+£1,150.00"],  # 155,000 - 40,000 pence
    ]


def test_the_page_of_a_window_with_no_services_and_no_schools(app: Flask, session: Session) -> None:
    session.execute(update(School).values(status=SchoolStatus.CLOSED))
    window = BuybackWindow(
        year=2045,
        cohort=Cohort.ACADEMIES,
        opens_at=utc("2044-11-01T09:00"),
        closes_at=utc("2045-03-01T17:00"),
    )
    session.add(window)
    session.commit()
    with app.app_context():
        analysis = analyse(window)

    assert analysis.returns == analysis.services == analysis.by_phase == []
    assert analysis.totals == Totals(0, 0, 0)
    main = " ".join(render(app, analysis).select_one("main").get_text(" ").split())
    assert "0 of 0 schools have returned." in main
    assert "No traded service has an offer for 2045-46." in main


# --- only what was offered ------------------------------------------------------------------


def test_an_unpublished_draft_offer_is_not_counted(
    app: Flask, world: World, client_for: Callable[[str], Any]
) -> None:
    """A draft offer was offered to no school: it is in no table of take-up, income or
    the change from last year, nor in the CSV; an offer that was only a draft last year was
    not offered last year."""
    add_service(world.session, "Draft only", costs={YEAR: 5_000}, status=OfferStatus.DRAFT)
    late = add_service(world.session, "Late starter", costs={YEAR: 5_000})
    world.session.add(ServiceOffer(service=late, year=YEAR - 1, status=OfferStatus.DRAFT))
    last = world.window_for(YEAR - 1)
    world.submit(OAKFIELD, [line(world.payroll, 40_000)], window=last)
    outdoor = world.session.scalars(
        select(ServiceOffer).where(
            ServiceOffer.service_id == world.outdoor.id, ServiceOffer.year == YEAR
        )
    ).one()
    outdoor.delivery_cost_pence = 20_000
    world.session.commit()

    admin = client_for("la_admin")
    page = BeautifulSoup(
        admin.get(f"/buy-back/windows/{world.window.id}/analysis").get_data(as_text=True),
        "html.parser",
    )
    services = ["Finance", "Late starter", "Outdoor education", "Payroll"]
    for caption in (
        "Take-up by service",
        "Income, cost of delivery",
        "Schools buying each service, 2030-31 and 2031-32",
        "Income from each service, 2030-31 and 2031-32",
    ):
        assert [row[0] for row in table(page, caption)][:4] == services, caption
    assert "Draft only" not in page.select_one("main").get_text()
    assert table(page, "Schools buying each service")[1] == [
        "Late starter",
        "Not offered",
        "0",
        "New",
    ]
    # Nor is its cost: 100,000 + 50,000 + 5,000 (late starter) + 20,000 (outdoor) only.
    assert table(page, "Income, cost of delivery")[-1][:3] == [
        "All services",
        "£1,920.00",
        "£1,750.00",
    ]
    csv_text = admin.get(f"/buy-back/windows/{world.window.id}/analysis.csv").get_data(as_text=True)
    assert "Draft only" not in csv_text and "Late starter" in csv_text


# --- a closed window stands still; the whole year -------------------------------------------

# Two years of windows far from the demo's: 2040's two closed, 2041's maintained one open.
EARLIER, LATER = 2040, 2041
NOW = utc("2040-12-01T12:00")
DEMO = {urn: (name, kind, phase) for name, urn, kind, phase, *_ in demo_schools}

# A school's answers in an earlier window: a draft only, or one or more submissions, each
# (payroll, finance): pence bought at, or None for not buying.
price = st.one_of(st.none(), st.integers(min_value=0, max_value=5_000_000))
answers_of_a_school = st.one_of(
    st.just("draft"), st.lists(st.tuples(price, price), min_size=1, max_size=2)
)
answers_of_schools = st.dictionaries(
    st.sampled_from(sorted(DEMO)), answers_of_a_school, max_size=10
)


@dataclass
class Year:
    """The services and windows of one hypothesis example, made in its own savepoint."""

    payroll: Service
    finance: Service
    windows: dict[tuple[int, Cohort], BuybackWindow]
    answers: dict[int, Any]

    def expected_income(self, cohort: Cohort) -> dict[str, int]:
        """What the earlier window's schools' latest submissions bought, by hand, in pence."""
        income = {"Payroll": 0, "Finance": 0}
        for urn, said in self.answers.items():
            academy = DEMO[urn][1].is_academy
            if said == "draft" or academy != (cohort is Cohort.ACADEMIES):
                continue
            payroll, finance = said[-1]
            income["Payroll"] += payroll or 0
            if not academy:  # finance is for maintained schools: academies are not asked
                income["Finance"] += finance or 0
        return income


@contextmanager
def undone(app: Flask) -> Iterator[None]:
    """Everything written inside (by the test, the pages and the register import) undone
    afterwards: each hypothesis example starts from the demo."""
    connection = app.extensions["portal.db"].session_factory.kw["bind"]
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


def make_year(app: Flask, answers: dict[int, Any]) -> Year:
    with app.extensions["portal.db"].session_factory() as session:
        payroll = add_service(session, "Payroll", costs={EARLIER: 300_000, LATER: 310_000})
        finance = add_service(
            session, "Finance", eligible=["maintained"], costs={EARLIER: 200_000, LATER: 1}
        )
        add_service(session, "Draft only", costs={EARLIER: 1, LATER: 1}, status=OfferStatus.DRAFT)
        windows = {}
        for year, cohort, opens, closes in (
            (EARLIER, Cohort.MAINTAINED, "2039-11-02T09:00", "2040-03-02T17:00"),
            (EARLIER, Cohort.ACADEMIES, "2040-04-01T09:00", "2040-06-30T17:00"),
            (LATER, Cohort.MAINTAINED, "2040-11-02T09:00", "2041-03-02T17:00"),
        ):
            windows[year, cohort] = BuybackWindow(
                year=year, cohort=cohort, opens_at=utc(opens), closes_at=utc(closes)
            )
        session.add_all(windows.values())
        submitter = session.scalars(select(User).where(User.email == "head@oakfield.example")).one()
        made = World(
            session, {}, payroll, finance, payroll, windows[EARLIER, Cohort.MAINTAINED],
            submitter, itertools.count(1),
        )  # fmt: skip
        for urn, said in answers.items():
            academy = DEMO[urn][1].is_academy
            window = windows[EARLIER, Cohort.ACADEMIES if academy else Cohort.MAINTAINED]
            if said == "draft":
                made.choice(urn, window)
                continue
            for number, (paying, financing) in enumerate(said):
                lines = [line(payroll, paying)]
                if not academy:
                    lines.append(line(finance, financing))
                made.submit(urn, lines, at=f"2040-02-{number + 1:02d}T10:00", window=window)
        # This year, one school has already answered: last year is what is compared with.
        made.submit(
            OAKFIELD,
            [line(payroll, 1_000), line(finance)],
            window=windows[LATER, Cohort.MAINTAINED],
        )
        session.commit()
        return Year(payroll, finance, windows, answers)


def pages(admin: Any, year: Year) -> dict[str, dict[str, list[list[str]]]]:
    """Every table of every analysis page that shows the earlier year's figures."""
    paths = {
        "maintained": f"/buy-back/windows/{year.windows[EARLIER, Cohort.MAINTAINED].id}/analysis",
        "academies": f"/buy-back/windows/{year.windows[EARLIER, Cohort.ACADEMIES].id}/analysis",
        "next year": f"/buy-back/windows/{year.windows[LATER, Cohort.MAINTAINED].id}/analysis",
        "the year": f"/buy-back/years/{EARLIER}/analysis",
    }
    found = {}
    for name, path in paths.items():
        response = admin.get(path)
        assert response.status_code == 200, path
        page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        found[name] = {
            " ".join(caption.get_text().split()): [
                [" ".join(cell.get_text(" ").split()) for cell in row.select("th, td")]
                for row in caption.parent.select("tbody tr, tfoot tr")
            ]
            for caption in page.select("main table caption")
        }
    return found


def pence(text: str) -> int:
    """``-£1,234.56`` as ``-123456``: the page's money, back in pence."""
    sign = -1 if text.startswith("-") else 1
    pounds, _, pennies = text.lstrip("-+£").replace(",", "").partition(".")
    return sign * (int(pounds) * 100 + int(pennies))


def column(rows: list[list[str]], index: int) -> dict[str, str]:
    return {row[0]: row[index] for row in rows}


def register_changes(app: Flask, urn: int, change: str) -> None:
    """The register import, applied: the school closes, or its type changes cohort."""
    name, kind, phase = DEMO[urn]
    if change == "closes":
        row = school_row(
            str(urn), name, **{"EstablishmentStatus (name)": "Closed", "CloseDate": "31-08-2040"}
        )
    else:
        row = school_row(
            str(urn),
            name,
            **{
                "TypeOfEstablishment (name)": "Community school"
                if kind.is_academy
                else "Academy converter",
                "PhaseOfEducation (name)": phase.value,
                "DistrictAdministrative (name)": "",
            },
        )
    with app.app_context():
        report = jobs.import_now(extract([row]), "register.csv", apply=True)
    assert report["rejected"] == []
    assert len(report["closures"] if change == "closes" else report["changes"]) == 1


@pytest.fixture
def admin(client_for: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """A council administrator, on 1 December 2040: 2040's windows closed, 2041's open."""
    from portal import clock

    monkeypatch.setattr(clock, "now", lambda: NOW)
    return client_for("la_admin")


# Many generated examples, each a register import: left out of make test-fast.
@pytest.mark.slow
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    answers=answers_of_schools,
    urn=st.sampled_from(sorted(DEMO)),
    change=st.sampled_from(["closes", "changes type"]),
    looked_before=st.booleans(),
)
def test_a_closed_window_does_not_move_when_the_register_changes(
    app: Flask, admin: Any, answers: dict[int, Any], urn: int, change: str, looked_before: bool
) -> None:
    """After the deadline, a register import closes a school (or changes its type, and with
    it which windows it belongs to): every figure of the closed windows stays as it was, on
    their own pages, in the next year's comparison and in the whole year's, whether or not
    anyone had looked at them first. The income is exactly what the schools' latest
    submissions bought; the comparison says exactly what the window's own page says."""
    with undone(app):
        year = make_year(app, answers)
        if looked_before:
            before = pages(admin, year)
        else:
            # Seen and then forgotten: nothing kept, so the import must keep them first.
            with undone(app):
                before = pages(admin, year)
        register_changes(app, urn, change)
        after = pages(admin, year)

    for name in ("maintained", "academies", "the year"):
        assert after[name] == before[name], name
    last_year = [caption for caption in after["next year"] if "2040-41 and 2041-42" in caption]
    assert len(last_year) == 2
    for caption in last_year:
        assert after["next year"][caption] == before["next year"][caption]

    maintained = after["maintained"][
        "Income, cost of delivery and surplus or deficit by service, 2040-41"
    ]
    academies = after["academies"][
        "Income, cost of delivery and surplus or deficit by service, 2040-41"
    ]
    for cohort, shown in ((Cohort.MAINTAINED, maintained), (Cohort.ACADEMIES, academies)):
        expected = year.expected_income(cohort)
        income = {service: pence(cell) for service, cell in column(shown, 1).items()}
        assert income == {**expected, "All services": sum(expected.values())}
        assert "Draft only" not in income
    # Next year's comparison reads the window's own figures, to the penny.
    compared = after["next year"]["Income from each service, 2040-41 and 2041-42"]
    assert column(compared, 1) == {
        k: v for k, v in column(maintained, 1).items() if k != "All services"
    }
    buying = after["next year"]["Schools buying each service, 2040-41 and 2041-42"]
    taken_up = after["maintained"]["Take-up by service, 2040-41"]
    assert column(buying, 1) == column(taken_up, 2)


# Many generated examples, each a year of pages: left out of make test-fast.
@pytest.mark.slow
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(answers=answers_of_schools)
def test_the_whole_year_adds_up_the_windows_pages(
    app: Flask, admin: Any, answers: dict[int, Any]
) -> None:
    """The whole year's page: each service's buying, eligible and income are the sums of
    the maintained schools' and the academies' pages, and so are the totals; the cost is
    the service's one cost for the year, set against the income of both."""
    with undone(app):
        year = make_year(app, answers)
        shown = pages(admin, year)

    whole = shown["the year"]
    windows = whole["Buy-back windows for 2040-41"]
    income = whole[
        "Income, cost of delivery and surplus or deficit by service, every window of 2040-41"
    ]
    take_up = whole["Take-up by service, every window of 2040-41"]
    assert [row[0] for row in take_up] == ["Finance", "Payroll"]
    own = {
        name: (
            shown[name]["Take-up by service, 2040-41"],
            shown[name]["Income, cost of delivery and surplus or deficit by service, 2040-41"],
        )
        for name in ("maintained", "academies")
    }
    for name, (window_take_up, window_income) in own.items():
        index = 1 if name == "maintained" else 2
        # Each window's own figures, column by column: buying, income, and the window's total.
        assert column(take_up, index) == column(window_take_up, 2)
        assert column(income, index) == column(window_income, 1)
        listed = next(row for row in windows if row[0].lower().startswith(name[:8]))
        assert listed[-1] == window_income[-1][1]
    for row in income:
        service = row[0]
        added = sum(pence(column(own[n][1], 1)[service]) for n in own)
        assert pence(row[3]) == added, service
    cost = {"Finance": 200_000, "Payroll": 300_000}
    for row in income[:-1]:
        assert pence(row[4]) == cost[row[0]]
        assert pence(row[5]) == pence(row[3]) - cost[row[0]]
    assert pence(income[-1][4]) == sum(cost.values())
    for row in take_up:
        service = row[0]
        for index, counted in ((3, 1), (4, 2), (5, 3), (6, 4)):  # eligible, buying, not, undecided
            assert int(row[index]) == sum(int(column(own[n][0], counted)[service]) for n in own), (
                service,
                index,
            )
