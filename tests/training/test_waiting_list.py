"""The waiting list: offers in order, how long they stand, accepting, declining, lapsing
(lazily and by the offers command), and two answers at once (portal/training/waiting_list.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from portal import clock
from portal.access import Principal
from portal.db import db
from portal.models import (
    Approver,
    AuditEvent,
    Booking,
    BookingStatus,
    Course,
    CourseSession,
    SchoolTrainingSettings,
    User,
)
from portal.training import emails, waiting_list
from portal.training.cancelling import cancel_booking
from portal.training.changes import Conflict, Done, Refused
from portal.training.waiting_list import (
    OFFER_CLOSES_BEFORE_SESSION,
    OFFER_PERIOD,
    SHORTEST_OFFER,
    offer_expiry,
)
from tests.conftest import csrf_token
from tests.helpers.html import banner, ok_soup
from tests.training.factories import (
    OAKFIELD,
    RIVERSIDE,
    make_booking,
    make_course,
    make_session,
    record_emails,
    school_by_urn,
    user_by_email,
)

HEAD = "head@oakfield.example"
STAFF = "staff@oakfield.example"


def at(moment: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: moment)


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@given(now=moments, ahead=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)))
def test_an_offer_stands_48_hours_but_ends_a_day_before_the_session(
    now: datetime, ahead: timedelta
) -> None:
    starts = now + ahead
    expires = offer_expiry(now, starts)
    if expires is None:
        assert starts - OFFER_CLOSES_BEFORE_SESSION - now < SHORTEST_OFFER
        return
    assert expires == min(now + OFFER_PERIOD, starts - OFFER_CLOSES_BEFORE_SESSION)
    assert expires - now >= SHORTEST_OFFER


def test_the_offer_periods_stated() -> None:
    now = datetime(2031, 6, 1, 12, tzinfo=UTC)
    assert offer_expiry(now, now + timedelta(days=10)) == now + timedelta(hours=48)
    assert offer_expiry(now, now + timedelta(hours=36)) == now + timedelta(hours=12)
    assert offer_expiry(now, now + timedelta(hours=26)) == now + timedelta(hours=2)
    assert offer_expiry(now, now + timedelta(hours=25, minutes=59)) is None


@pytest.fixture
def full(session) -> CourseSession:
    """A full £80 session in 20 days (one place, held by Oakfield's booking)."""
    course = make_course(session=session, price_pence=8_000)
    course_session = make_session(
        course, starts_at=clock.utcnow() + timedelta(days=20), capacity=1, session=session
    )
    make_booking(
        course_session,
        school_by_urn(OAKFIELD, session=session),
        session=session,
        booked_by_id=user_by_email(HEAD, session=session).id,
    )
    return course_session


def waiting(session, course_session: CourseSession, minutes_ago: int, urn: int = OAKFIELD):
    return make_booking(
        course_session,
        school_by_urn(urn, session=session),
        status=BookingStatus.WAITING,
        joined_list_at=clock.utcnow() - timedelta(minutes=minutes_ago),
        booked_by_id=user_by_email(HEAD, session=session).id if urn == OAKFIELD else None,
        session=session,
    )


def reread(session, booking: Booking) -> Booking:
    session.expire_all()
    return session.get(Booking, booking.id)


def free_a_place(app: Flask, session, course_session: CourseSession) -> Booking | None:
    """Cancel the session's confirmed booking as the school would, offering its place on."""
    holder = session.scalars(
        select(Booking).where(
            Booking.session_id == course_session.id, Booking.status == BookingStatus.CONFIRMED
        )
    ).first()
    with app.test_request_context():
        who = Principal.of(db.session.get(User, user_by_email(HEAD, session=session).id))
        cancel_booking(who, db.session.get(Booking, holder.id), None)
    return holder


def test_offers_go_in_the_order_people_joined(app, session, full, monkeypatch) -> None:
    sent = record_emails(monkeypatch)
    later = waiting(session, full, minutes_ago=5)
    first = waiting(session, full, minutes_ago=50, urn=RIVERSIDE)
    middle = waiting(session, full, minutes_ago=20)
    session.commit()
    free_a_place(app, session, full)
    assert [reread(session, b).status for b in (first, middle, later)] == [
        BookingStatus.OFFERED,
        BookingStatus.WAITING,
        BookingStatus.WAITING,
    ]
    offered = reread(session, first)
    assert offered.offer_expires_at is not None
    assert abs(offered.offer_expires_at - (clock.utcnow() + OFFER_PERIOD)) < timedelta(minutes=1)
    assert ("place_offered", first.id) in sent
    assert session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "training.place_offered", AuditEvent.subject_id == first.id
        )
    ).one()


def test_two_who_joined_at_once_go_in_the_order_they_were_booked(
    app, session, full, monkeypatch
) -> None:
    record_emails(monkeypatch)
    first = waiting(session, full, minutes_ago=10)
    second = waiting(session, full, minutes_ago=10)
    second.joined_list_at = first.joined_list_at
    session.commit()
    free_a_place(app, session, full)
    assert reread(session, first).status is BookingStatus.OFFERED
    assert reread(session, second).status is BookingStatus.WAITING


def test_a_place_freed_too_close_to_the_session_is_left_free(app, session, monkeypatch) -> None:
    record_emails(monkeypatch)
    course_session = make_session(
        make_course(session=session),
        starts_at=clock.utcnow() + timedelta(hours=25),
        capacity=1,
        session=session,
    )
    make_booking(course_session, school_by_urn(OAKFIELD, session=session), session=session)
    line = waiting(session, course_session, minutes_ago=5)
    session.commit()
    free_a_place(app, session, course_session)
    assert reread(session, line).status is BookingStatus.WAITING
    session.expire_all()
    assert session.get(CourseSession, course_session.id).places_taken == 0


@pytest.fixture
def offered(app, session, full, monkeypatch) -> Booking:
    """Oakfield's colleague, first on the list, offered the freed place; Riverside next."""
    record_emails(monkeypatch)
    first = waiting(session, full, minutes_ago=30)
    waiting(session, full, minutes_ago=10, urn=RIVERSIDE)
    session.commit()
    free_a_place(app, session, full)
    return reread(session, first)


def next_in_line(session, booking: Booking) -> Booking:
    return session.scalars(
        select(Booking).where(
            Booking.session_id == booking.session_id,
            Booking.school_id == school_by_urn(RIVERSIDE, session=session).id,
        )
    ).one()


def answer(client, booking: Booking, what: str):
    token = csrf_token(client, f"/training/bookings/{booking.id}/offer")
    return client.post(f"/training/bookings/{booking.id}/offer/{what}", data={"csrf_token": token})


def test_the_offer_page_says_until_when(client_for, offered) -> None:
    page = ok_soup(client_for("head_teacher").get(f"/training/bookings/{offered.id}/offer"))
    assert clock.london_time(offered.offer_expires_at) in page.select_one("#offer-expiry").text
    assert [b.get_text(strip=True) for b in page.select("main form button")] == [
        "Accept the place",
        "Decline the place",
    ]


def test_accepting_confirms_the_place(client_for, session, offered, monkeypatch) -> None:
    sent = record_emails(monkeypatch)
    client = client_for("head_teacher")
    response = answer(client, offered, "accept")
    assert response.status_code == 303
    booking = reread(session, offered)
    assert (booking.status, booking.charge_pence) == (BookingStatus.CONFIRMED, 8_000)
    assert sent == [("booking_confirmed", offered.id)]
    page = client.get(response.headers["Location"])
    assert "Place accepted." in banner(page)
    assert ok_soup(page).select_one("h1").get_text(strip=True) == "The place is booked"


def test_accepting_waits_for_approval_where_the_school_needs_it(
    client_for, session, offered, monkeypatch
) -> None:
    session.add(SchoolTrainingSettings(school_id=offered.school_id, approver=Approver.HEAD_TEACHER))
    # Made by a member of staff, who accepts it: the head teacher is asked.
    reread(session, offered).booked_by_id = user_by_email(STAFF, session=session).id
    session.commit()
    sent = record_emails(monkeypatch)
    asked: list[str] = []
    monkeypatch.setattr(
        emails,
        "approval_needed",
        lambda _booking, approvers: asked.extend(u.email for u in approvers),
    )
    assert answer(client_for("school_staff"), offered, "accept").status_code == 303
    booking = reread(session, offered)
    assert (booking.status, booking.charge_pence) == (BookingStatus.AWAITING_APPROVAL, 0)
    assert asked == [HEAD]
    assert sent == []


def test_an_approver_accepting_does_not_wait_for_their_own_approval(
    client_for, session, offered, monkeypatch
) -> None:
    """As when they book (booking.book_place): the head teacher answers for the school."""
    session.add(SchoolTrainingSettings(school_id=offered.school_id, approver=Approver.HEAD_TEACHER))
    session.commit()
    record_emails(monkeypatch)
    assert answer(client_for("head_teacher"), offered, "accept").status_code == 303
    booking = reread(session, offered)
    assert (booking.status, booking.charge_pence) == (BookingStatus.CONFIRMED, offered.price_pence)


def test_an_approved_request_is_confirmed_when_accepted(
    client_for, session, offered, monkeypatch
) -> None:
    session.add(SchoolTrainingSettings(school_id=offered.school_id, approver=Approver.HEAD_TEACHER))
    approved = reread(session, offered)
    approved.decided_at = clock.utcnow()
    session.commit()
    record_emails(monkeypatch)
    assert answer(client_for("head_teacher"), offered, "accept").status_code == 303
    assert reread(session, offered).status is BookingStatus.CONFIRMED


def test_declining_costs_nothing_and_offers_the_next(
    client_for, session, offered, monkeypatch
) -> None:
    sent = record_emails(monkeypatch)
    response = answer(client_for("head_teacher"), offered, "decline")
    assert response.status_code == 303
    declined = reread(session, offered)
    assert (declined.status, declined.charge_pence) == (BookingStatus.CANCELLED, 0)
    following = next_in_line(session, offered)
    assert following.status is BookingStatus.OFFERED
    assert sent == [("booking_cancelled", offered.id), ("place_offered", following.id)]
    assert session.get(CourseSession, offered.session_id).places_taken == 1


def test_an_expired_offer_is_shown_lapsed_before_anything_marks_it(
    client_for, session, offered, monkeypatch
) -> None:
    at(offered.offer_expires_at, monkeypatch)
    page = ok_soup(client_for("head_teacher").get(f"/training/bookings/{offered.id}/offer"))
    assert page.select_one("h1").get_text(strip=True) == "The offer of this place has lapsed"
    assert page.select("main form button") == []
    # Showing it changed nothing: it is marked lapsed by an answer or the command.
    assert reread(session, offered).status is BookingStatus.OFFERED


def test_accepting_an_expired_offer_is_refused_and_the_place_moves_on(
    client_for, session, offered, monkeypatch
) -> None:
    at(offered.offer_expires_at + timedelta(seconds=1), monkeypatch)
    sent = record_emails(monkeypatch)
    client = client_for("head_teacher")
    response = answer(client, offered, "accept")
    assert response.status_code == 303
    ended = clock.london_time(offered.offer_expires_at)
    assert banner(client.get(response.headers["Location"])) == (
        f"Important The offer of this place ended on {ended}, so it has gone to the next person"
        " on the waiting list."
    )
    assert reread(session, offered).status is BookingStatus.OFFER_LAPSED
    following = next_in_line(session, offered)
    assert following.status is BookingStatus.OFFERED
    assert sent == [("offer_lapsed", offered.id), ("place_offered", following.id)]


def test_the_offers_command_lapses_expired_offers_and_offers_the_next(
    app, session, offered, monkeypatch
) -> None:
    sent = record_emails(monkeypatch)
    runner = app.test_cli_runner()
    early = runner.invoke(args=["training", "offers"])
    assert early.output == "Lapsed 0 offers not accepted in time.\n"
    at(offered.offer_expires_at, monkeypatch)
    ran = runner.invoke(args=["training", "offers"])
    assert ran.exit_code == 0, ran.output
    assert ran.output == "Lapsed 1 offer not accepted in time.\n"
    assert reread(session, offered).status is BookingStatus.OFFER_LAPSED
    following = next_in_line(session, offered)
    assert following.status is BookingStatus.OFFERED
    assert sent == [("offer_lapsed", offered.id), ("place_offered", following.id)]
    again = runner.invoke(args=["training", "offers"])
    assert again.output == "Lapsed 0 offers not accepted in time.\n"
    assert session.get(CourseSession, offered.session_id).places_taken == 1


def test_the_last_lapse_leaves_the_place_free(app, session, offered, monkeypatch) -> None:
    record_emails(monkeypatch)
    following = next_in_line(session, offered)
    at(offered.offer_expires_at, monkeypatch)
    app.test_cli_runner().invoke(args=["training", "offers"])
    at(reread(session, following).offer_expires_at, monkeypatch)
    app.test_cli_runner().invoke(args=["training", "offers"])
    assert reread(session, following).status is BookingStatus.OFFER_LAPSED
    assert session.get(CourseSession, offered.session_id).places_taken == 0


def outcome_of(app: Flask, session, booking: Booking, change: Callable[[], None], what: str):
    """``what`` ("accept" or "decline") on ``booking`` as read before ``change`` landed: the
    answer a person sends while someone else's change commits first."""
    head_id = user_by_email(HEAD, session=session).id
    # The test's session holds no savepoint open around the app's (they share a connection).
    session.commit()
    with app.test_request_context():
        who = Principal.of(db.session.get(User, head_id))
        mine = db.session.get(Booking, booking.id)
        change()
        return getattr(waiting_list, f"{what}_offer")(who, mine)


@pytest.mark.parametrize("what", ["accept", "decline"])
def test_an_answer_after_a_lapse_landed_changes_nothing(
    app, session, offered, monkeypatch, what: str
) -> None:
    record_emails(monkeypatch)

    def lapse() -> None:
        session.execute(
            update(Booking)
            .where(Booking.id == offered.id)
            .values(status=BookingStatus.OFFER_LAPSED, version=Booking.version + 1)
        )
        session.commit()

    assert isinstance(outcome_of(app, session, offered, lapse, what), Conflict)
    # Nothing of the answer was kept. (Here the two sessions share the test's connection, so
    # the answer's rollback takes the lapse's savepoint with it: between two connections, as
    # in the PostgreSQL test below, the lapse stands.)
    assert reread(session, offered).status not in (BookingStatus.CONFIRMED, BookingStatus.CANCELLED)


def test_a_second_accept_changes_nothing(app, session, offered, monkeypatch) -> None:
    record_emails(monkeypatch)

    def accepted() -> None:
        session.execute(
            update(Booking)
            .where(Booking.id == offered.id)
            .values(status=BookingStatus.CONFIRMED, version=Booking.version + 1)
        )
        session.commit()

    assert isinstance(outcome_of(app, session, offered, accepted, "decline"), Conflict)
    assert reread(session, offered).status is not BookingStatus.CANCELLED
    assert session.get(CourseSession, offered.session_id).places_taken == 1


def test_an_answer_to_no_offer_is_refused(app, session, full, monkeypatch) -> None:
    line = waiting(session, full, minutes_ago=1)
    session.commit()
    refused = outcome_of(app, session, line, lambda: None, "accept")
    assert isinstance(refused, Refused)
    assert refused.reason == "This place is not on offer: the booking is on the waiting list"


@pytest.mark.parametrize(
    ("role", "status"),
    [("head_teacher", 200), ("academy_head", 404), ("publisher", 404), ("la_admin", 200)],
)
def test_who_may_see_an_offer(client_for, offered, role: str, status: int) -> None:
    assert client_for(role).get(f"/training/bookings/{offered.id}/offer").status_code == status


# --- at the same moment, on PostgreSQL --------------------------------------------------------


def test_an_accept_and_a_lapse_at_once_never_both_win(
    seeded_app: Flask, monkeypatch, committed_without_approval
) -> None:
    """Two connections, each committing: the accept (just before the expiry, by its clock)
    and the lapse (just after) race on the same offer; exactly one changes it, and the
    session's count of places stays true. PostgreSQL only: SQLite has one writer at a time."""
    if seeded_app.extensions["portal.db"].writer.dialect.name != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    record_emails(monkeypatch)
    with seeded_app.app_context():
        ids = _committed_offer()
    try:
        for _ in range(5):
            with seeded_app.app_context():
                _reoffer(ids)
            expires = ids["expires"]
            at(expires - timedelta(seconds=1), monkeypatch)
            results = _race(seeded_app, ids, expires)
            accepted = isinstance(results["accept"], Done)
            lapsed = results["lapse"] is not None
            assert accepted != lapsed, results
            with seeded_app.app_context():
                final = db.session.get(Booking, ids["offered"])
                places = db.session.get(CourseSession, ids["session"]).places_taken
            assert final.status is (
                BookingStatus.CONFIRMED if accepted else BookingStatus.OFFER_LAPSED
            )
            # Accepted: the place is theirs; lapsed: freed (nobody else is waiting).
            assert places == (1 if accepted else 0)
    finally:
        with seeded_app.app_context():
            _remove(ids)


def _race(app: Flask, ids: dict, expires: datetime) -> dict[str, object]:
    """Accept (as Oakfield's head teacher) and lapse (at ``expires``) the same offer at
    once, each on a connection of its own; what each returned."""
    results: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def accept() -> None:
        with app.test_request_context():
            who = Principal.of(db.session.get(User, ids["head"]))
            booking = db.session.get(Booking, ids["offered"])
            barrier.wait()
            results["accept"] = waiting_list.accept_offer(who, booking)

    def lapse() -> None:
        with app.app_context():
            barrier.wait()
            results["lapse"] = waiting_list.lapse_offer(ids["offered"], expires)
            db.session.commit()

    threads = [threading.Thread(target=accept), threading.Thread(target=lapse)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _committed_offer() -> dict:
    """A one-place session whose place is offered to Oakfield, committed for real."""
    head = user_by_email(HEAD)
    course = make_course(title="Race test course")
    expires = clock.utcnow().replace(microsecond=0) + timedelta(hours=1)
    course_session = make_session(course, capacity=1, places_taken=1)
    booking = make_booking(
        course_session,
        school_by_urn(OAKFIELD),
        status=BookingStatus.OFFERED,
        offer_expires_at=expires,
        booked_by_id=head.id,
        take_place=False,
    )
    db.session.commit()
    return {
        "course": course.id,
        "session": course_session.id,
        "offered": booking.id,
        "head": head.id,
        "expires": expires,
    }


def _reoffer(ids: dict) -> None:
    db.session.execute(
        update(Booking)
        .where(Booking.id == ids["offered"])
        .values(status=BookingStatus.OFFERED, offer_expires_at=ids["expires"])
    )
    db.session.execute(
        update(CourseSession).where(CourseSession.id == ids["session"]).values(places_taken=1)
    )
    db.session.commit()


def _remove(ids: dict) -> None:
    db.session.execute(
        delete(AuditEvent).where(
            AuditEvent.subject_type == "Booking", AuditEvent.subject_id == ids["offered"]
        )
    )
    db.session.execute(delete(Booking).where(Booking.session_id == ids["session"]))
    db.session.execute(delete(CourseSession).where(CourseSession.id == ids["session"]))
    db.session.execute(delete(Course).where(Course.id == ids["course"]))
    db.session.commit()
