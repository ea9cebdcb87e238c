"""Support request statistics for council administrators: the figures, the charts, the page."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from flask import Flask, render_template
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.charts import bar_chart
from portal.clock import LONDON
from portal.models import (
    School,
    SupportEvent,
    SupportKind,
    SupportRequest,
    SupportStatus,
    Urgency,
    User,
)
from portal.support.officer_forms import StatisticsForm
from portal.support.stats import (
    Period,
    SupportStatistics,
    charts_for,
    statistics_csv,
    support_statistics,
)
from tests.conftest import QueryCounter

# Mid-December 2026: the last twelve months are January to December 2026.
NOW = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)
MONTHS_2026 = [
    "Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026", "May 2026", "Jun 2026",
    "Jul 2026", "Aug 2026", "Sep 2026", "Oct 2026", "Nov 2026", "Dec 2026",
]  # fmt: skip

OAKFIELD = 125601  # North, primary
COLESHILL = 125604  # North, nursery
RIVERSIDE = 140201  # Nuneaton and Bedworth, secondary

MakeRequest = Callable[..., SupportRequest]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def make_request(session: Session) -> MakeRequest:
    """Adds a request from one of the demo schools; the tests start from none at all."""
    # The demo data may hold requests of its own, and these tests count exactly.
    session.execute(delete(SupportEvent))
    session.execute(delete(SupportRequest))
    requester = session.scalars(select(User).where(User.email == "head@oakfield.example")).one()
    numbers = itertools.count(1)

    def make(
        submitted_at: datetime,
        *,
        urn: int = OAKFIELD,
        status: SupportStatus = SupportStatus.NEW,
        first_response_at: datetime | None = None,
        anonymised: bool = False,
    ) -> SupportRequest:
        number = next(numbers)
        school = session.scalars(select(School).where(School.urn == urn)).one()
        request = SupportRequest(
            reference=f"CAF-TEST-{number:04d}",
            submission_key=f"stats-test-{number}",
            school=school,
            area=school.area,
            requester=requester,
            kind=SupportKind.ADVICE,
            consent=True,
            child_initials=None if anonymised else "AB",
            child_year_group=None if anonymised else "Year 4",
            urgency=Urgency.ROUTINE,
            contact_by="email",
            respond_by=(submitted_at + timedelta(days=5)).date(),
            submitted_at=submitted_at,
            status=status,
            first_response_at=first_response_at,
            anonymised_at=submitted_at + timedelta(days=400) if anonymised else None,
        )
        session.add(request)
        session.flush()
        return request

    return make


def statistics_now(app: Flask, session: Session, now: datetime = NOW) -> SupportStatistics:
    session.commit()
    with app.app_context():
        return support_statistics(now=now)


def test_counts_by_area_status_and_phase(
    app: Flask, session: Session, make_request: MakeRequest
) -> None:
    make_request(utc("2026-11-02T09:00"), status=SupportStatus.ACKNOWLEDGED)
    make_request(utc("2026-11-03T09:00"), status=SupportStatus.CLOSED, anonymised=True)
    make_request(utc("2026-11-04T09:00"), urn=COLESHILL)
    make_request(utc("2026-11-05T09:00"), urn=RIVERSIDE, status=SupportStatus.IN_PROGRESS)
    make_request(utc("2026-11-06T09:00"), urn=RIVERSIDE, status=SupportStatus.REDIRECTED)

    stats = statistics_now(app, session)

    assert stats.total == 5
    assert stats.by_area == [
        ("North", 3),
        ("Nuneaton and Bedworth", 2),
        ("Rugby", 0),
        ("Stratford", 0),
        ("Warwick", 0),
    ]
    assert stats.by_status == [
        ("New", 1),
        ("Acknowledged", 1),
        ("In progress", 1),
        ("Closed", 1),
        ("Redirected", 1),
    ]
    # Most first; a tie goes by name; phases nobody asked from are left out.
    assert stats.by_phase == [("Primary", 2), ("Secondary", 2), ("Nursery", 1)]


def test_no_requests_at_all(app: Flask, session: Session, make_request: MakeRequest) -> None:
    stats = statistics_now(app, session)

    assert stats.total == 0
    assert [count for _, count in stats.by_area] == [0] * 5
    assert stats.by_status == [(status.label, 0) for status in SupportStatus]
    assert stats.by_phase == []
    assert stats.by_month == [(month, 0) for month in MONTHS_2026]
    assert stats.median_first_response_hours is None
    assert stats.median_first_response is None
    assert stats.responded == 0


def test_months_are_london_months(app: Flask, session: Session, make_request: MakeRequest) -> None:
    # 23:30 UTC on 30 June is 00:30 on 1 July in British Summer Time.
    make_request(utc("2026-06-30T23:30"))
    # BST began on 29 March 2026, so this is 1 April in London.
    make_request(utc("2026-03-31T23:30"))
    # BST ended on 25 October 2026: 31 October 23:30 is still October.
    make_request(utc("2026-10-31T23:30"))
    make_request(utc("2026-12-15T11:59"))
    # The first moment of the window, and the last one before it.
    make_request(utc("2026-01-01T00:00"))
    make_request(utc("2025-12-31T23:59"), status=SupportStatus.CLOSED)

    stats = statistics_now(app, session)

    assert [label for label, _ in stats.by_month] == MONTHS_2026
    assert {label: count for label, count in stats.by_month if count} == {
        "Jan 2026": 1,
        "Apr 2026": 1,
        "Jul 2026": 1,
        "Oct 2026": 1,
        "Dec 2026": 1,
    }
    # Older requests leave the month chart but stay in every other figure.
    assert stats.total == 6


def test_a_window_that_starts_in_summer_time(
    app: Flask, session: Session, make_request: MakeRequest
) -> None:
    # 23:30 UTC on 31 May 2026 is already June in London, the first month of this window.
    make_request(utc("2026-05-31T23:30"))
    make_request(utc("2026-05-31T22:30"))

    stats = statistics_now(app, session, now=datetime(2027, 5, 10, 8, 0, tzinfo=UTC))

    assert stats.by_month[0] == ("Jun 2026", 1)
    assert stats.by_month[-1] == ("May 2027", 0)
    assert len(stats.by_month) == 12


def test_the_current_month_is_london_s(
    app: Flask, session: Session, make_request: MakeRequest
) -> None:
    make_request(utc("2026-07-01T00:00"))

    # 23:30 UTC on 30 June is already July in London.
    stats = statistics_now(app, session, now=utc("2026-06-30T23:30"))

    assert stats.by_month[-1] == ("Jul 2026", 1)
    assert stats.by_month[0] == ("Aug 2025", 0)


def test_median_time_to_first_response(
    app: Flask, session: Session, make_request: MakeRequest
) -> None:
    submitted = utc("2026-11-02T09:00")
    for hours in (2, 5, 30):
        make_request(submitted, first_response_at=submitted + timedelta(hours=hours))
    make_request(submitted)  # not answered yet: not part of the median

    stats = statistics_now(app, session)
    assert stats.median_first_response_hours == 5.0
    assert stats.median_first_response == "5 hours"
    assert stats.responded == 3

    # An anonymised request keeps its times, so it still counts.
    make_request(submitted, first_response_at=submitted + timedelta(hours=6), anonymised=True)
    stats = statistics_now(app, session)
    assert stats.median_first_response_hours == 5.5
    assert stats.median_first_response == "5.5 hours"
    assert stats.responded == 4
    assert stats.total == 5


def test_responses_to_old_requests_count_towards_the_median(
    app: Flask, session: Session, make_request: MakeRequest
) -> None:
    submitted = utc("2024-03-01T09:00")
    make_request(submitted, first_response_at=submitted + timedelta(minutes=90))

    stats = statistics_now(app, session)

    assert stats.median_first_response_hours == 1.5
    assert sum(count for _, count in stats.by_month) == 0


@pytest.mark.parametrize(
    ("hours", "words"),
    [(1.0, "1 hour"), (0.25, "0.2 hours"), (26.04, "26 hours"), (1234.56, "1,234.6 hours")],
)
def test_the_median_in_words(hours: float, words: str) -> None:
    stats = SupportStatistics(0, [], [], [], [], hours, 1)
    assert stats.median_first_response == words


def test_the_number_of_queries_does_not_grow_with_requests(
    app: Flask,
    session: Session,
    make_request: MakeRequest,
    count_queries: Callable[[], QueryCounter],
) -> None:
    def queries() -> int:
        session.commit()
        with app.app_context(), count_queries() as counter:
            support_statistics(now=NOW)
        return counter.count

    make_request(utc("2026-11-02T09:00"), first_response_at=utc("2026-11-02T10:00"))
    few = queries()
    for day in range(1, 29):
        make_request(
            utc(f"2026-02-{day:02d}T09:00"),
            urn=RIVERSIDE if day % 2 else COLESHILL,
            first_response_at=utc(f"2026-02-{day:02d}T15:00"),
        )
    many = queries()

    assert few == many
    assert many <= 4  # status, area, phase, and the two timestamps


def test_naive_now_is_refused(app: Flask) -> None:
    with app.app_context(), pytest.raises(ValueError, match="naive"):
        support_statistics(now=datetime(2026, 12, 15, 12, 0))


# --- the charts -------------------------------------------------------------------------------


def draw(app: Flask, title: str, rows: list[tuple[str, int]], *, width: int = 640) -> str:
    """The chart as the pages draw it: portal.charts.bar_chart's values through the
    bar_chart macro (templates/macros/charts.html)."""
    with app.app_context():
        macros = app.jinja_env.get_template("macros/charts.html").module
        return str(macros.bar_chart(bar_chart(title, rows, width=width)))


def bars(svg: str) -> list[dict[str, float]]:
    """Each bar's geometry, in order."""
    page = BeautifulSoup(svg, "html.parser")
    return [
        {name: float(rect[name]) for name in ("x", "y", "width", "height")}
        for rect in page.select("rect.council-chart__bar")
    ]


def view_box_width(svg: str) -> float:
    match = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    assert match
    return float(match.group(1))


def test_a_chart_escapes_its_labels_and_title(app: Flask) -> None:
    svg = str(
        draw(
            app,
            'Requests "by" <area>',
            [("<script>alert(1)</script>", 3), ("Rugby & Dunchurch", 1)],
        )
    )

    assert "<script" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "Rugby &amp; Dunchurch" in svg
    assert "&lt;area&gt;" in svg
    # The CSP allows no inline style: presentation attributes and classes only.
    assert "style=" not in svg
    assert "<style" not in svg


def test_a_chart_is_named_by_its_title(app: Flask) -> None:
    page = BeautifulSoup(str(draw(app, "Requests by area", [("North", 2)])), "html.parser")
    svg = page.select_one("svg")

    assert svg["role"] == "img"
    title = page.select_one(f"svg > title#{svg['aria-labelledby']}")
    assert title is not None
    assert title.get_text() == "Requests by area"
    other = BeautifulSoup(str(draw(app, "Requests by month", [])), "html.parser")
    assert other.select_one("svg")["aria-labelledby"] != svg["aria-labelledby"]


def test_bars_are_the_council_colour_with_their_value_at_the_end(app: Flask) -> None:
    page = BeautifulSoup(str(draw(app, "T", [("North", 1234), ("Rugby", 0)])), "html.parser")

    rects = page.select("rect")
    assert {rect["fill"] for rect in rects} == {"#0b5563"}
    texts = [text.get_text() for text in page.select("svg > text")]
    assert texts == ["North", "1,234", "Rugby", "0"]
    value = page.select("svg > text")[1]
    assert float(value["x"]) > float(rects[0]["x"]) + float(rects[0]["width"])


def test_a_long_label_is_shortened_with_the_whole_of_it_as_a_tooltip(app: Flask) -> None:
    label = "The very long name of an area that no chart could ever fit beside its bar"
    page = BeautifulSoup(str(draw(app, "T", [(label, 1)])), "html.parser")

    text = page.select_one("svg > text")
    assert text.select_one("title").get_text() == label
    assert text.get_text().endswith("…")


def test_an_empty_chart_says_so(app: Flask) -> None:
    svg = str(draw(app, "T", []))
    assert bars(svg) == []
    assert "No figures" in svg


def test_a_negative_count_is_refused(app: Flask) -> None:
    with pytest.raises(ValueError, match="negative"):
        draw(app, "T", [("North", -1)])


# The app is only read (its templates), so one app serves every example.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    counts=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=15),
    width=st.integers(min_value=200, max_value=1200),
)
def test_bars_are_proportional_and_never_negative(
    app: Flask, counts: list[int], width: int
) -> None:
    svg = str(draw(app, "Counts", [(f"Row {i}", n) for i, n in enumerate(counts)], width=width))
    found = bars(svg)

    assert len(found) == len(counts)
    assert all(bar["width"] >= 0 for bar in found)
    # Every bar, and the value written after it, fits inside the chart.
    assert all(bar["x"] + bar["width"] <= view_box_width(svg) for bar in found)
    largest = max(counts)
    if largest == 0:
        assert all(bar["width"] == 0 for bar in found)
        return
    full = max(bar["width"] for bar in found)
    assert full > 0
    for bar, count in zip(found, counts, strict=True):
        # Two decimals in the markup: within a hundredth of a pixel of exact.
        assert bar["width"] == pytest.approx(count / largest * full, abs=0.011)
    # Rows do not overlap.
    tops = [bar["y"] for bar in found]
    assert all(b - a >= found[0]["height"] for a, b in itertools.pairwise(tops))


# --- the page ---------------------------------------------------------------------------------


def render(app: Flask, stats: SupportStatistics) -> BeautifulSoup:
    with app.test_request_context("/support/stats"):
        form = StatisticsForm(formdata=None, today=NOW.date())
        html = render_template(
            "support/stats.html",
            form=form,
            stats=stats,
            charts=charts_for(stats),
            csv_url="/support/stats.csv",
        )
    return BeautifulSoup(html, "html.parser")


def main_text(page: BeautifulSoup) -> str:
    """The words of the page's main content, as a reader would hear them: one space apart."""
    return " ".join(page.select_one("main").get_text(" ").split())


def table_rows(page: BeautifulSoup, section: str) -> list[tuple[str, int]]:
    table = page.select_one(f"#{section} ~ table")
    assert table is not None
    rows = []
    for row in table.select("tbody tr"):
        header = row.select_one('th[scope="row"]')
        cell = row.select_one("td.govuk-table__cell--numeric")
        rows.append((header.get_text(strip=True), int(cell.get_text(strip=True).replace(",", ""))))
    return rows


def test_the_page_shows_each_chart_beside_a_table_of_the_same_figures(
    app: Flask, session: Session, make_request: MakeRequest
) -> None:
    submitted = utc("2026-11-02T09:00")
    make_request(submitted, first_response_at=submitted + timedelta(hours=5))
    make_request(submitted, urn=RIVERSIDE, first_response_at=submitted + timedelta(hours=6))
    make_request(utc("2026-07-01T09:00"), status=SupportStatus.CLOSED)
    stats = statistics_now(app, session)

    page = render(app, stats)

    assert page.select_one("h1").get_text(strip=True) == "Support request statistics"
    main = main_text(page)
    assert "3 support requests have been received." in main
    assert "Median time to first response: 5.5 hours (2 requests answered)." in main
    assert table_rows(page, "by-area") == stats.by_area
    assert table_rows(page, "by-status") == stats.by_status
    assert table_rows(page, "by-phase") == stats.by_phase
    assert table_rows(page, "by-month") == stats.by_month
    assert len(page.select("main svg[role=img]")) == 4
    assert all(table.select_one("caption") for table in page.select("main table.govuk-table"))
    assert page.select("thead th[scope=col]")
    assert page.select_one("main [style]") is None


def test_the_page_before_any_request(app: Flask) -> None:
    empty = SupportStatistics(
        total=0,
        by_area=[("North", 0)],
        by_status=[(status.label, 0) for status in SupportStatus],
        by_phase=[],
        by_month=[(month, 0) for month in MONTHS_2026],
        median_first_response_hours=None,
        responded=0,
    )

    main = main_text(render(app, empty))

    assert "0 support requests have been received." in main
    assert "No request has had a response yet." in main
    assert "No school has asked for support yet." in main


def test_one_request_reads_in_the_singular(app: Flask) -> None:
    one = SupportStatistics(1, [("North", 1)], [("New", 1)], [("Primary", 1)], [], 1.0, 1)

    main = main_text(render(app, one))

    assert "1 support request has been received." in main
    assert "Median time to first response: 1 hour (1 request answered)." in main


# --- an officer's own areas, over a period of dates ---------------------------------------


def test_an_officer_sees_the_figures_of_their_own_areas(
    app: Flask, session: Session, make_request: MakeRequest
) -> None:
    from portal.access import Principal
    from portal.db import db
    from portal.support.stats import statistics_for

    make_request(utc("2026-11-02T09:00"), first_response_at=utc("2026-11-02T11:00"))
    make_request(utc("2026-11-03T09:00"), urn=COLESHILL)
    make_request(utc("2026-11-04T09:00"), urn=RIVERSIDE, first_response_at=utc("2026-11-05T09:00"))
    session.commit()
    officer = session.scalars(select(User).where(User.email == "caf.north@council.example")).one()
    with app.test_request_context():
        mine = statistics_for(Principal.of(db.session.get(User, officer.id)), Period())
        admin = session.scalars(select(User).where(User.email == "admin@council.example")).one()
        everyone = statistics_for(Principal.of(db.session.get(User, admin.id)), Period())

    assert (mine.total, mine.by_area, mine.whole_council) == (2, [("North", 2)], False)
    assert mine.by_phase == [("Nursery", 1), ("Primary", 1)]
    assert (mine.responded, mine.median_first_response) == (1, "2 hours")
    assert (everyone.total, everyone.whole_council) == (3, True)
    assert len(everyone.by_area) == 5


def london(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=LONDON).astimezone(UTC)


def test_a_period_takes_whole_london_days_at_both_ends(
    app: Flask, session: Session, make_request: MakeRequest
) -> None:
    # The first and last moments of 1 April and 30 June 2026 in London (summer time).
    make_request(london("2026-03-31", "23:59:59"))  # before
    make_request(london("2026-04-01", "00:00"))
    make_request(london("2026-06-30", "23:59:59"))
    make_request(london("2026-07-01", "00:00"))  # after

    session.commit()
    with app.app_context():
        stats = support_statistics(now=NOW, period=Period(date(2026, 4, 1), date(2026, 6, 30)))

    assert stats.total == 2
    assert stats.by_month == [("Apr 2026", 1), ("May 2026", 0), ("Jun 2026", 1)]
    assert stats.month_caption == (
        "Support requests submitted in each month from Apr 2026 to Jun 2026"
    )
    assert [count for _, count in stats.by_area if count] == [2]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    days=st.lists(st.integers(min_value=0, max_value=120), min_size=1, max_size=8),
    start=st.one_of(st.none(), st.integers(min_value=0, max_value=120)),
    length=st.one_of(st.none(), st.integers(min_value=0, max_value=120)),
)
def test_a_period_counts_exactly_the_requests_submitted_in_it(
    app: Flask,
    session: Session,
    make_request: MakeRequest,
    days: list[int],
    start: int | None,
    length: int | None,
) -> None:
    session.execute(delete(SupportRequest))
    first_day = date(2026, 2, 1)
    submitted = [first_day + timedelta(days=d) for d in days]
    for day in submitted:
        # Late in the London evening: the UTC date is the next day in winter, not in summer.
        make_request(london(day.isoformat(), "23:30"))
    period_start = first_day + timedelta(days=start) if start is not None else None
    period_end = (
        (period_start or first_day) + timedelta(days=length) if length is not None else None
    )
    session.commit()
    with app.app_context():
        stats = support_statistics(now=NOW, period=Period(period_start, period_end))

    expected = [
        day
        for day in submitted
        if (period_start is None or day >= period_start)
        and (period_end is None or day <= period_end)
    ]
    assert stats.total == len(expected)
    assert sum(count for _, count in stats.by_status) == len(expected)
    if period_start is not None:
        # Every request of the period falls in one of the chart's months.
        assert sum(count for _, count in stats.by_month) == len(expected)


def officer_page(client_for: Callable[[str], FlaskClient], query: str = "") -> BeautifulSoup:
    response = client_for("caf_officer").get(f"/support/stats{query}")
    assert response.status_code == 200
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def dates(start: tuple[str, str, str], end: tuple[str, str, str] = ("", "", "")) -> str:
    from urllib.parse import urlencode

    return "?" + urlencode([("date_from", part) for part in start] + [("date_to", p) for p in end])


def test_an_officer_reads_their_areas_statistics_for_a_period(
    client_for: Callable[[str], FlaskClient], make_request: MakeRequest, session: Session
) -> None:
    make_request(london("2026-05-12", "10:00"))
    make_request(london("2026-05-13", "10:00"), urn=RIVERSIDE)
    make_request(london("2026-09-01", "10:00"))
    session.commit()

    page = officer_page(client_for, dates(("1", "5", "2026"), ("31", "5", "2026")))

    main = main_text(page)
    assert "Requests from the schools of your area: North." in main
    assert "1 support request was received from 1 May 2026 to 31 May 2026." in main
    assert table_rows(page, "by-area") == [("North", 1)]
    assert table_rows(page, "by-month") == [("May 2026", 1)]
    # The boxes keep what was typed.
    assert page.select_one("#date_from-day")["value"] == "1"
    assert page.select_one("#date_to-year")["value"] == "2026"
    # The CSV link carries the same period.
    link = page.find("a", string="Download these figures as CSV")
    assert link["href"].startswith("/support/stats.csv?")
    assert "date_from=1&date_from=5&date_from=2026" in link["href"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            dates(("31", "2", "2026")),
            "date_from",
            "The from date must be a real date, like 1 4 2026",
        ),
        (dates(("1", "", "2026")), "date_from", "The from date must be a real date, like 1 4 2026"),
        (dates(("", "", ""), ("x", "3", "2026")), "date_to", "The to date must be a real date"),
        (
            dates(("1", "6", "2026"), ("31", "5", "2026")),
            "date_to",
            "The to date must be the same as or after the from date",
        ),
        (dates(("1", "1", "1999")), "date_from", "The from date must be between 2000 and 2099"),
        (dates(("", "", ""), ("1", "1", "9999")), "date_to", "The to date must be between 2000"),
        (dates(("1", "1", "2099")), "date_from", "The from date must be today or in the past"),
        (dates(("1", "1", "2000")), "date_from", "The period can be at most 5 years"),
    ],
)
def test_dates_that_cannot_be_used_are_explained_beside_them(
    client_for: Callable[[str], FlaskClient], query: str, field: str, message: str
) -> None:
    page = officer_page(client_for, query)

    assert page.title.get_text().startswith("Error: ")
    summary = page.select_one(".govuk-error-summary")
    link = summary.select_one("a")
    assert message in link.get_text()
    assert link["href"] == f"#{field}-day"
    assert message in page.select_one(f"#{field}-error").get_text()
    # No figures for dates that were not understood.
    assert page.select_one("#by-area") is None


def test_the_csv_has_the_pages_figures(
    client_for: Callable[[str], FlaskClient], make_request: MakeRequest, session: Session
) -> None:
    import csv
    import io

    make_request(london("2026-05-12", "10:00"), first_response_at=london("2026-05-12", "13:00"))
    make_request(london("2026-05-13", "10:00"), urn=COLESHILL, status=SupportStatus.CLOSED)
    make_request(london("2026-05-13", "10:00"), urn=RIVERSIDE)
    session.commit()
    query = dates(("1", "5", "2026"), ("31", "5", "2026"))
    officer = client_for("caf_officer")

    response = officer.get(f"/support/stats.csv{query}")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="support-statistics-from-2026-05-01-to-2026-05-31.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["Figure", "Of", "Requests"]
    figures = {(figure, of): value for figure, of, value in rows[1:]}
    assert figures[("Period", "2026-05-01 to 2026-05-31")] == ""
    assert figures[("Requests received", "All")] == "2"
    assert figures[("Median time to first response (hours)", "Requests answered")] == "3.0"
    assert figures[("Area", "North")] == "2"
    assert ("Area", "Nuneaton and Bedworth") not in figures
    page = officer_page(client_for, query)
    for heading, section in (("Status", "by-status"), ("School phase", "by-phase")):
        assert [
            (label, count)
            for (figure, label), count in (
                (key, int(value)) for key, value in figures.items() if key[0] == heading
            )
        ] == table_rows(page, section)


def test_csv_cells_that_look_like_formulas_are_made_text(app: Flask) -> None:
    stats = SupportStatistics(1, [("=HYPERLINK(1)", 1)], [], [], [], None, 0)
    assert "'=HYPERLINK(1)" in statistics_csv(stats)


def test_a_csv_asked_for_with_bad_dates_goes_back_to_the_page(
    client_for: Callable[[str], FlaskClient],
) -> None:
    query = dates(("31", "2", "2026"))
    response = client_for("caf_officer").get(f"/support/stats.csv{query}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/support/stats{query}"
