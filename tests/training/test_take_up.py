"""Take-up of training for the Schools Forum: the figures for a made set of sessions and
bookings, the period by London dates, the filter form, and the CSV beside each table."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal import clock
from portal.clock import LONDON, today_in_london
from portal.models import (
    PLACE_HOLDING,
    Area,
    Attendance,
    Booking,
    BookingStatus,
    Course,
    CourseSession,
    Evaluation,
    FundAllocation,
    PaymentBatch,
    School,
    SchoolStatus,
    SessionStatus,
    SupplyClaim,
    SupplyFund,
    fund_course,
)
from portal.training.report_forms import Period, TakeUpFilter
from portal.training.take_up import EVERY_AREA, TakeUp, TakeUpRow, take_up, take_up_choices
from tests.helpers.html import error_summary, ok_soup
from tests.training.factories import (
    make_area,
    make_booking,
    make_course,
    make_school,
    make_session,
)

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)  # in the financial year 2026-27
FY_2026 = Period(date(2026, 4, 1), date(2027, 3, 31))


def london(text: str) -> datetime:
    """A wall-clock time in London, as the UTC moment."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).astimezone(UTC)


def clear_training(session: Session) -> None:
    """The tests count exactly: whatever training the demo data has goes (rolled back)."""
    for table in (SupplyClaim, PaymentBatch, FundAllocation):
        session.execute(delete(table))
    session.execute(delete(fund_course))
    for table in (SupplyFund, Evaluation, Booking, CourseSession, Course):
        session.execute(delete(table))


@dataclass
class Made:
    vale: Area
    wold: Area
    safeguarding: Course
    maths: Course


@pytest.fixture
def made(session: Session) -> Made:
    """Two areas of the tests' own: the Vale's schools A, B, C open and D closed; the Wold's
    school E. Six sessions of two courses around the financial year 2026-27's edges."""
    clear_training(session)
    vale, wold = make_area("Test Vale", session=session), make_area("Test Wold", session=session)
    a, b, c = (make_school(vale, f"Vale School {name}", session=session) for name in "ABC")
    d = make_school(vale, "Vale School D", open=False, session=session)
    e = make_school(wold, "Wold School E", session=session)
    safeguarding = make_course(title="Safeguarding basics", cancellation_days=10, session=session)
    maths = make_course(title="Leading maths", cancellation_days=2, session=session)

    first = make_session(
        safeguarding,
        starts_at=london("2026-06-10T09:30"),
        capacity=20,
        area_id=vale.id,
        session=session,
    )
    attended, absent = Attendance.ATTENDED, Attendance.ABSENT
    make_booking(first, a, attendance=attended, session=session)
    make_booking(first, a, attendance=attended, session=session)
    make_booking(first, b, attendance=absent, session=session)
    make_booking(
        first, d, attendance=attended, session=session
    )  # a closed school: trained, not in the share
    make_booking(first, e, status=BookingStatus.AWAITING_APPROVAL, session=session)
    make_booking(first, b, status=BookingStatus.WAITING, session=session)  # not a place
    make_booking(first, b, status=BookingStatus.REFUSED, session=session)
    cancelled = BookingStatus.CANCELLED
    # Ten days before 10 June, the last free day is 31 May, to its end in London: half an
    # hour into 1 June in London (still 31 May in UTC) is late.
    make_booking(
        first, c, status=cancelled, cancelled_at=london("2026-05-31T23:59"), session=session
    )
    make_booking(
        first, c, status=cancelled, cancelled_at=london("2026-06-01T00:30"), session=session
    )
    make_booking(
        first,
        c,
        status=cancelled,
        cancelled_at=first.starts_at - timedelta(days=30),
        session=session,
    )

    called_off = make_session(
        safeguarding,
        starts_at=london("2026-07-01T09:30"),
        area_id=vale.id,
        status=SessionStatus.CANCELLED,
        session=session,
    )
    make_booking(called_off, a, status=BookingStatus.SESSION_CANCELLED, session=session)

    # The last London evening of the year, for every area; and its first minutes (UTC: the
    # evening before), for the Wold.
    last = make_session(maths, starts_at=london("2027-03-31T23:30"), capacity=10, session=session)
    make_booking(last, e, attendance=attended, session=session)
    # Five days before is in time for a course whose period is two days.
    make_booking(
        last, e, status=cancelled, cancelled_at=last.starts_at - timedelta(days=5), session=session
    )
    make_session(
        maths, starts_at=london("2026-04-01T00:30"), capacity=12, area_id=wold.id, session=session
    )
    # Just outside the year on either side, in London.
    before = make_session(
        maths, starts_at=london("2026-03-31T23:30"), capacity=8, area_id=vale.id, session=session
    )
    make_booking(before, a, attendance=attended, session=session)
    make_session(
        maths, starts_at=london("2027-04-01T00:30"), capacity=9, area_id=vale.id, session=session
    )
    return Made(vale, wold, safeguarding, maths)


def report_for(
    app: Flask,
    period: Period = FY_2026,
    course: Course | None = None,
    area: Area | None = None,
) -> TakeUp:
    chosen = TakeUpFilter(period, course.id if course else None, area.id if area else None)
    with app.app_context():
        return take_up(chosen, take_up_choices())


def row(rows: list[TakeUpRow], label: str) -> TakeUpRow:
    return next(found for found in rows if found.label == label)


def open_schools(session: Session) -> int:
    return session.scalar(select(func.count(School.id)).where(School.status == SchoolStatus.OPEN))


def test_each_course_counts_its_held_sessions_places_and_bookings(
    app: Flask, made: Made, session: Session
) -> None:
    report = report_for(app)
    assert [found.label for found in report.courses] == ["Leading maths", "Safeguarding basics"]
    everyone = open_schools(session)
    assert row(report.courses, "Safeguarding basics") == TakeUpRow(
        "Safeguarding basics",
        sessions=1,  # the cancelled session is not held
        places=20,
        booked=5,  # three confirmed (attended or not), the closed school's, one awaiting
        attended=3,
        no_shows=1,
        cancelled_late=1,
        cancelled_in_time=2,
        schools=everyone,
        schools_trained=1,  # A: D is closed
    )
    assert row(report.courses, "Leading maths") == TakeUpRow(
        "Leading maths",
        sessions=2,
        places=22,
        booked=1,
        attended=1,
        no_shows=0,
        cancelled_late=0,
        cancelled_in_time=1,
        schools=everyone,
        schools_trained=1,
    )
    assert report.total == TakeUpRow(
        "Total",
        sessions=3,
        places=42,
        booked=6,
        attended=4,
        no_shows=1,
        cancelled_late=1,
        cancelled_in_time=3,
        schools=everyone,
        schools_trained=2,  # A and E, however many courses
    )


def test_each_area_counts_its_sessions_and_its_schools_bookings(app: Flask, made: Made) -> None:
    report = report_for(app)
    vale = row(report.areas, "Test Vale")
    assert vale == TakeUpRow(
        "Test Vale",
        sessions=1,
        places=20,
        booked=4,
        attended=3,
        no_shows=1,
        cancelled_late=1,
        cancelled_in_time=2,
        schools=3,
        schools_trained=1,
    )
    assert vale.share_trained == Decimal("33.3")
    assert vale.trained_per_school == Decimal("1.00")
    wold = row(report.areas, "Test Wold")
    assert (wold.sessions, wold.places, wold.booked, wold.attended) == (1, 12, 2, 1)
    assert (wold.schools, wold.schools_trained, wold.share_trained) == (1, 1, Decimal("100.0"))
    # The session for every area is its own row; its bookings are in the schools' areas.
    every = row(report.areas, EVERY_AREA)
    assert (every.sessions, every.places, every.booked, every.schools) == (1, 10, None, None)
    assert sum(found.sessions for found in report.areas) == report.total.sessions
    assert sum(found.booked or 0 for found in report.areas) == report.total.booked


def test_an_area_chosen_counts_its_sessions_and_its_schools_only(app: Flask, made: Made) -> None:
    report = report_for(app, area=made.vale)
    assert [found.label for found in report.courses] == ["Safeguarding basics"]
    assert [found.label for found in report.areas] == ["Test Vale"]
    assert report.total.schools == 3
    assert report.total.share_trained == Decimal("33.3")
    assert report.area_name == "Test Vale"


def test_a_course_chosen_counts_that_course_only(app: Flask, made: Made) -> None:
    report = report_for(app, course=made.maths)
    assert [found.label for found in report.courses] == ["Leading maths"]
    assert (report.total.sessions, report.total.attended) == (2, 1)
    assert row(report.areas, "Test Vale").sessions == 0


@pytest.mark.parametrize(
    ("start", "end", "places"),
    [
        (date(2026, 4, 1), date(2026, 4, 1), 12),  # 00:30 in London, still 31 March in UTC
        (date(2027, 3, 31), date(2027, 3, 31), 10),  # 23:30 in London, 22:30 UTC
        (date(2026, 3, 31), date(2026, 3, 31), 8),
        (date(2027, 4, 1), date(2027, 4, 30), 9),
        (date(2026, 3, 1), date(2027, 4, 30), 20 + 12 + 10 + 8 + 9),
    ],
)
def test_the_period_is_of_london_dates(
    app: Flask, made: Made, start: date, end: date, places: int
) -> None:
    assert report_for(app, Period(start, end)).total.places == places


def test_with_no_training_every_figure_is_zero(app: Flask, session: Session) -> None:
    clear_training(session)
    report = report_for(app)
    assert report.courses == []
    assert report.total.sessions == report.total.attended == 0
    assert report.total.schools_trained == 0


# --- the page and its downloads -------------------------------------------------------------


@pytest.fixture
def admin(client_for: Callable[[str], FlaskClient], monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    browser = client_for("la_admin")
    monkeypatch.setattr(clock, "now", lambda: NOW)
    return browser


def table_rows(page: BeautifulSoup, caption: str) -> list[list[str]]:
    table = next(t for t in page.select("table") if t.caption.get_text(strip=True) == caption)
    return [
        [cell.get_text(" ", strip=True) for cell in tr.find_all(["th", "td"])]
        for tr in table.select("tbody tr, tfoot tr")
    ]


def test_the_page_shows_this_financial_year_by_default(made: Made, admin: FlaskClient) -> None:
    page = ok_soup(admin.get("/training/reports/take-up"))
    assert page.select_one("#date_from-year")["value"] == "2026"
    assert page.select_one("#date_to-year")["value"] == "2027"
    text = page.get_text(" ", strip=True)
    assert "Sessions from 1 April 2026 to 31 March 2027" in text
    courses = table_rows(page, "Take-up by course")
    assert courses[-1][0] == "Total"
    assert courses[-1][1:8] == ["3", "42", "6", "4", "1", "1", "3"]
    vale = next(cells for cells in table_rows(page, "Take-up by area") if cells[0] == "Test Vale")
    assert vale[1:] == ["1", "20", "4", "3", "1", "1", "2", "3", "1", "33.3%", "1.00"]
    every = next(cells for cells in table_rows(page, "Take-up by area") if cells[0] == EVERY_AREA)
    assert every[3] == every[-1] == "\N{EN DASH} not applicable"
    # Numbers line up on the right; the charts have titles for assistive technology.
    assert all(
        "govuk-table__cell--numeric" in cell["class"]
        for cell in page.select("table tbody td, table tfoot td")
    )
    titles = [title.get_text() for title in page.select("svg > title")]
    assert titles == [
        "Attended and no-shows by course",
        "Share of open schools with someone trained, by area (%)",
    ]


def test_each_download_is_its_table(made: Made, admin: FlaskClient) -> None:
    page = ok_soup(admin.get("/training/reports/take-up?area=" + str(made.vale.id)))
    for caption, table in (("Take-up by course", "courses"), ("Take-up by area", "areas")):
        link = next(a for a in page.select("a[download]") if f"table={table}" in a["href"])
        response = admin.get(link["href"])
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        header, *rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert header[0] == ("Course" if table == "courses" else "Area")
        shown = table_rows(page, caption)
        assert len(rows) == len(shown)
        for csv_row, cells in zip(rows, shown, strict=True):
            # The page's columns are the CSV's, less the open schools in the courses' table.
            expected = cells if table == "areas" else [*cells[:8], str(3), *cells[8:]]
            as_shown = [value.replace(",", "").removesuffix("%") for value in expected]
            assert csv_row == as_shown


def test_a_name_that_looks_like_a_formula_is_text_in_the_download(
    made: Made, admin: FlaskClient, session: Session
) -> None:
    made.safeguarding.title = "=HYPERLINK(1)"
    session.flush()
    response = admin.get("/training/reports/take-up.csv?table=courses")
    assert "'=HYPERLINK(1)" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "date_from=1&date_from=5&date_from=2027&date_to=1&date_to=4&date_to=2027",
            "The to date must be the same as or after the from date",
        ),
        (
            "date_from=31&date_from=2&date_from=2027",
            "The from date must be a real date, like 1 4 2026",
        ),
        ("course=999999", "Select a course from the list, or every course"),
        ("area=abc", "Select an area from the list, or every area"),
    ],
)
def test_a_filter_that_cannot_be_used_says_why(
    made: Made, admin: FlaskClient, query: str, message: str
) -> None:
    response = admin.get("/training/reports/take-up?" + query)
    assert response.status_code == 200
    assert error_summary(response) == [message]
    # The download of a bad filter goes back to the page, which says why.
    download = admin.get("/training/reports/take-up.csv?table=courses&" + query)
    assert download.status_code == 303


def test_a_download_of_no_such_table_is_not_found(admin: FlaskClient) -> None:
    assert admin.get("/training/reports/take-up.csv?table=schools").status_code == 404


# --- whatever the bookings ------------------------------------------------------------------

STATUSES = list(BookingStatus)
ATTENDANCE = [None, Attendance.ATTENDED, Attendance.ABSENT]
EXAMPLES = itertools.count(1)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sessions=st.lists(
        st.tuples(st.integers(0, 400), st.booleans(), st.integers(0, 2)), min_size=1, max_size=4
    ),
    bookings=st.lists(
        st.tuples(
            st.integers(0, 3),  # which session
            st.integers(0, 3),  # which school: the last is closed
            st.sampled_from(STATUSES),
            st.sampled_from(ATTENDANCE),
            st.integers(-24, 24 * 12),  # hours before the session it was cancelled, if it was
        ),
        max_size=25,
    ),
)
def test_the_figures_add_up_whatever_the_bookings(
    app: Flask,
    session: Session,
    sessions: list[tuple[int, bool, int]],
    bookings: list[tuple[int, int, BookingStatus, Attendance | None, int]],
) -> None:
    """Sessions spread over two financial years, some cancelled, for one of two areas or
    every area; bookings of every kind: each figure is what counting them one by one gives,
    and the courses' rows and the areas' add up to the total."""
    clear_training(session)
    example = next(EXAMPLES)
    vale = make_area(f"Prop Vale {example}", session=session)
    wold = make_area(f"Prop Wold {example}", session=session)
    schools = [
        make_school(vale, "P1", session=session),
        make_school(vale, "P2", session=session),
        make_school(wold, "P3", session=session),
        make_school(wold, "P4", open=False, session=session),
    ]
    courses = [
        make_course(title="Prop one", cancellation_days=3, session=session),
        make_course(title="Two", session=session),
    ]
    made = []
    for index, (day, cancelled, area) in enumerate(sessions):
        starts = london("2026-01-01T09:00") + timedelta(days=day)
        made.append(
            make_session(
                courses[index % 2],
                starts_at=starts,
                area_id=[None, vale.id, wold.id][area],
                status=SessionStatus.CANCELLED if cancelled else SessionStatus.SCHEDULED,
                session=session,
            )
        )
    rows = []
    for which, school, status, attendance, hours_before in bookings:
        held = made[which % len(made)]
        cancelled_at = held.starts_at - timedelta(hours=hours_before)
        rows.append((held, schools[school], status, attendance, cancelled_at))
        make_booking(
            held,
            schools[school],
            status=status,
            attendance=attendance,
            cancelled_at=cancelled_at if status == BookingStatus.CANCELLED else None,
            session=session,
        )
    session.commit()
    report = report_for(app)

    start, end = FY_2026.bounds()
    counted = [row for row in rows if not _cancelled(row[0]) and start <= row[0].starts_at < end]
    booked = [r for r in counted if r[2] in PLACE_HOLDING or r[3] == Attendance.ATTENDED]
    attended = [r for r in counted if r[3] == Attendance.ATTENDED]
    cancelled = [r for r in counted if r[2] == BookingStatus.CANCELLED]
    # Late: on a London date after the last free day, the course's days before the session's.
    late = [
        r
        for r in cancelled
        if today_in_london(r[4])
        > today_in_london(r[0].starts_at)
        - timedelta(days=3 if r[0].course_id == courses[0].id else 10)
    ]
    trained = {r[1].id for r in attended if r[1].status == SchoolStatus.OPEN}
    total = report.total
    assert total.sessions == sum(
        1 for s in made if not _cancelled(s) and start <= s.starts_at < end
    )
    assert (total.booked, total.attended) == (len(booked), len(attended))
    assert total.no_shows == sum(1 for r in counted if r[3] == Attendance.ABSENT)
    assert (total.cancelled_late, total.cancelled_in_time) == (
        len(late),
        len(cancelled) - len(late),
    )
    assert total.schools_trained == len(trained)
    for figure in ("sessions", "places", "booked", "attended", "no_shows", "cancelled_late"):
        assert sum(getattr(row, figure) or 0 for row in report.courses) == getattr(total, figure)
        assert sum(getattr(row, figure) or 0 for row in report.areas) == getattr(total, figure)
    mine = {row.label: row for row in report.areas}
    assert mine[vale.name].schools_trained == len(trained & {schools[0].id, schools[1].id})
    assert mine[wold.name].schools == 1  # P4 is closed


def _cancelled(held: CourseSession) -> bool:
    return held.status == SessionStatus.CANCELLED
