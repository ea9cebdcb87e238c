"""Finding courses: upcoming sessions of published courses, searched and filtered, with the
price a place costs the school looking; a course's page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.models import Area, CourseStatus, SessionStatus, StaffLevel
from tests.helpers.html import error_summary, ok_soup
from tests.training.factories import OAKFIELD, make_course, make_session, school_by_urn


def titles(page) -> list[str]:
    return [link.get_text(strip=True) for link in page.select("#results tbody td a")]


def other_area(session: Session, area_id: int) -> Area:
    return session.scalars(select(Area).where(Area.id != area_id).order_by(Area.id)).first()


def test_staff_find_upcoming_sessions_of_published_courses_soonest_first(
    session, client_for
) -> None:
    later = make_course(session=session, title="Zeta safeguarding refresher")
    sooner = make_course(session=session, title="Alpha phonics")
    draft = make_course(session=session, title="Draft course", status=CourseStatus.DRAFT)
    make_session(later, session=session, starts_at=utcnow() + timedelta(days=20))
    make_session(sooner, session=session, starts_at=utcnow() + timedelta(days=10))
    make_session(draft, session=session)
    make_session(sooner, session=session, starts_at=utcnow() - timedelta(days=1))
    make_session(later, session=session, status=SessionStatus.CANCELLED, cancelled_reason="x")
    session.commit()
    page = ok_soup(client_for("school_staff").get("/training/"))
    found = titles(page)
    assert found.index("Alpha phonics") < found.index("Zeta safeguarding refresher")
    assert found.count("Alpha phonics") == 1  # the past session is not listed
    assert found.count("Zeta safeguarding refresher") == 1  # nor the cancelled one
    assert "Draft course" not in found


def test_search_matches_title_description_and_audience(session, client_for) -> None:
    by_title = make_course(session=session, title="Restorative practice")
    by_text = make_course(session=session, title="Course B", description="Using RESTORATIVE talk")
    by_audience = make_course(session=session, title="Course C", audience="Restorative leads")
    neither = make_course(session=session, title="Course D")
    for course in (by_title, by_text, by_audience, neither):
        make_session(course, session=session)
    session.commit()
    found = titles(ok_soup(client_for("school_staff").get("/training/?q=restorative")))
    assert set(found) >= {"Restorative practice", "Course B", "Course C"}
    assert "Course D" not in found


def test_the_schools_own_area_by_default_countywide_always(session, client_for) -> None:
    oakfield = school_by_urn(OAKFIELD, session=session)
    elsewhere = other_area(session, oakfield.area_id)
    ours = make_course(session=session, title="In our area")
    theirs = make_course(session=session, title="In another area")
    everyone = make_course(session=session, title="For the whole county")
    make_session(ours, session=session, area_id=oakfield.area_id)
    make_session(theirs, session=session, area_id=elsewhere.id)
    make_session(everyone, session=session)
    session.commit()
    client = client_for("school_staff")
    found = titles(ok_soup(client.get("/training/")))
    assert "In our area" in found and "For the whole county" in found
    assert "In another area" not in found
    found = titles(ok_soup(client.get(f"/training/?area={elsewhere.id}")))
    assert "In another area" in found and "For the whole county" in found
    assert "In our area" not in found
    assert "In our area" in titles(ok_soup(client.get("/training/?area=all")))
    # The school's own area is the first of the choices.
    options = ok_soup(client.get("/training/")).select("#area option")
    assert options[1]["value"] == str(oakfield.area_id)


def test_council_staff_see_every_area(session, client_for) -> None:
    oakfield = school_by_urn(OAKFIELD, session=session)
    elsewhere = other_area(session, oakfield.area_id)
    course = make_course(session=session, title="Somewhere else")
    make_session(course, session=session, area_id=elsewhere.id)
    session.commit()
    assert "Somewhere else" in titles(ok_soup(client_for("caf_officer").get("/training/")))


def test_filters_by_dates_in_london_level_cost_and_places(session, client_for) -> None:
    # 23:30 UTC on 30 June is 00:30 on 1 July in London.
    year = utcnow().year + 1
    july = make_course(session=session, title="July", staff_level=StaffLevel.TEACHERS)
    june = make_course(session=session, title="June", price_pence=5000)
    full = make_course(session=session, title="Full")
    make_session(july, session=session, starts_at=datetime(year, 6, 30, 23, 30, tzinfo=UTC))
    make_session(june, session=session, starts_at=datetime(year, 6, 30, 22, 30, tzinfo=UTC))
    make_session(full, session=session, capacity=1, places_taken=1)
    session.commit()
    client = client_for("school_staff")
    found = titles(ok_soup(client.get(f"/training/?from={year}-07-01&to={year}-07-01")))
    assert found == ["July"]
    assert "July" not in titles(ok_soup(client.get(f"/training/?to={year}-06-30")))
    levelled = titles(ok_soup(client.get("/training/?level=teachers")))
    assert "July" in levelled and "June" not in levelled
    assert "June" in titles(ok_soup(client.get("/training/?cost=charged")))
    assert "June" not in titles(ok_soup(client.get("/training/?cost=free")))
    assert "Full" in titles(ok_soup(client.get("/training/")))
    assert "Full" not in titles(ok_soup(client.get("/training/?places=1")))


def test_a_date_that_is_not_one_is_said_beside_the_field_and_kept(client_for) -> None:
    response = client_for("school_staff").get("/training/?from=2027-02-30&q=phonics")
    assert error_summary(response) == ["Enter the first date as a real date"]
    page = ok_soup(response) if response.status_code == 200 else None
    assert page is not None
    assert page.select_one("#from")["value"] == "2027-02-30"
    assert page.select_one("#q")["value"] == "phonics"


def test_the_search_works_as_an_htmx_fragment(session, client_for) -> None:
    course = make_course(session=session, title="Fragmented")
    make_session(course, session=session)
    session.commit()
    response = client_for("school_staff").get(
        "/training/?q=Fragmented", headers={"HX-Request": "true"}
    )
    body = response.get_data(as_text=True)
    assert "Fragmented" in body and "<form" not in body


def test_pages_of_results(session, client_for) -> None:
    course = make_course(session=session, title="Many sessions")
    for day in range(25):
        make_session(course, session=session, starts_at=utcnow() + timedelta(days=day + 1))
    session.commit()
    client = client_for("school_staff")
    first = ok_soup(client.get("/training/?q=Many+sessions"))
    assert len(titles(first)) == 20
    second = ok_soup(client.get("/training/?q=Many+sessions&page=2"))
    assert len(titles(second)) == 5


def test_the_course_page_shows_prices_rules_and_sessions(session, client_for) -> None:
    course = make_course(
        session=session,
        title="Priced",
        price_pence=12000,
        academy_price_pence=15000,
        late_charge_pence=6000,
        cancellation_days=7,
    )
    make_session(course, session=session, capacity=10, places_taken=4)
    session.commit()
    page = ok_soup(client_for("school_staff").get(f"/training/courses/{course.id}"))
    text = page.get_text(" ")
    assert "£120.00 a place for Oakfield" in " ".join(text.split())
    assert "£150.00 a place for academies" in text
    assert "fewer than 7 days before the session, or not attending, costs £60.00" in text
    assert page.select("tbody td")[2].get_text(strip=True) == "6"
    academy = ok_soup(client_for("academy_head").get(f"/training/courses/{course.id}"))
    assert "£150.00 a place for Riverside" in " ".join(academy.get_text(" ").split())


def test_draft_courses_are_not_found_except_by_those_who_manage_training(
    session, client_for
) -> None:
    draft = make_course(session=session, status=CourseStatus.DRAFT)
    session.commit()
    assert client_for("school_staff").get(f"/training/courses/{draft.id}").status_code == 404
    assert client_for("la_admin").get(f"/training/courses/{draft.id}").status_code == 200
