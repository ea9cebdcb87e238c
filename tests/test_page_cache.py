"""Pages kept for reuse (portal/page_cache.py) and the data stamps behind them (portal/stamps.py).

A kept page must be exactly what drawing it afresh would show, to the person it was drawn
for only, and never once something it shows has changed.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select, update

from portal import page_cache, stamps
from portal.buyback import service as buyback
from portal.db import utcnow
from portal.models import (
    AuditEvent,
    Contact,
    DataStamp,
    Membership,
    Role,
    School,
    Service,
    User,
)
from tests.conftest import ROLE_ACCOUNTS


def queries(counter) -> list[str]:  # type: ignore[no-untyped-def]
    """The statements a request sent, but how transactions begin and end (SQLite's BEGIN,
    the rollback of the tests' savepoint): no round trip on PostgreSQL's pages."""
    return [s for s in counter.statements if not s.startswith(("BEGIN", "ROLLBACK"))]


NONCE = re.compile(r'nonce="([^"]+)"')
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# Every page a person may have kept for them, as the person who opens it.
KEPT_PAGES = [
    ("school_staff", "/"),
    # Home pages list what needs doing, from every capability's data.
    ("head_teacher", "/"),
    ("trust_lead", "/"),
    ("la_admin", "/"),
    ("school_staff", "/contacts/"),
    ("school_staff", "/contacts/?q=family"),
    ("school_staff", "/services/"),
    ("head_teacher", "/buy-back/{oakfield}"),
    ("head_teacher", "a category of /buy-back/{oakfield}"),
    ("caf_officer", "/support/"),
    ("publisher", "/services/{service}"),
]


def oakfield(session) -> School:  # type: ignore[no-untyped-def]
    return session.scalars(select(School).where(School.urn == 125601)).one()


def resolve(session, path: str) -> str:  # type: ignore[no-untyped-def]
    service = session.scalars(select(Service).order_by(Service.id)).first()
    return path.format(oakfield=oakfield(session).id, service=service.id)


def without_fresh_values(html: str) -> str:
    """A page with what must differ on every response (nonce, form token, form key) blanked."""
    html = NONCE.sub('nonce=""', html)
    html = re.sub(r'("X-CSRFToken": &#34;|X-CSRFToken&#34;: &#34;)[^&]+', r"\1", html)
    html = re.sub(r'(name="(?:csrf_token|submission_key)"[^>]*value=")[^"]+', r"\1", html)
    return html


def words(element) -> list[str]:  # type: ignore[no-untyped-def]
    return element.get_text(" ").split()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Move the clocks the pages count from but the sign-in's (buy-back's window is open at
    first), and hold the sign-in's still, so that the minute turns only when a test says."""
    signed_in = utcnow()
    monkeypatch.setattr("portal.auth.service.utcnow", lambda: signed_in)

    def move_to(moment):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(buyback, "now", lambda: moment)
        monkeypatch.setattr(page_cache, "utcnow", lambda: moment)

    from tests.test_buyback import DURING

    move_to(DURING)
    return move_to


@pytest.mark.parametrize(("role", "path"), KEPT_PAGES)
def test_a_kept_page_is_what_drawing_it_would_show_with_one_query(  # type: ignore[no-untyped-def]
    client_for, session, count_queries, make_app, clock, role: str, path: str
) -> None:
    from tests.test_buyback import category_paths, soup

    client = client_for(role)
    path = resolve(session, path)
    if path.startswith("a category of "):
        path = category_paths(soup(client.get(path.removeprefix("a category of "))))[0]
    drawn = client.get(path)
    assert drawn.status_code == 200
    with count_queries() as counter:
        kept = client.get(path)
    assert kept.status_code == 200
    # The person and the stamps, in one round trip: nothing of the page itself.
    assert len(queries(counter)) == 1, counter.statements
    assert without_fresh_values(kept.get_data(as_text=True)) == without_fresh_values(
        drawn.get_data(as_text=True)
    )
    # Its nonce is this response's, so its scripts run under the strict CSP.
    nonces = set(NONCE.findall(kept.get_data(as_text=True)))
    assert nonces == {kept.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]}
    assert nonces.isdisjoint(NONCE.findall(drawn.get_data(as_text=True)))


def test_a_kept_pages_form_token_is_good_for_its_form(client_for, clock) -> None:  # type: ignore[no-untyped-def]
    client = client_for("school_staff")
    client.get("/contacts/")
    token = TOKEN.search(client.get("/contacts/").get_data(as_text=True)).group(1)
    signed_out = client.post("/sign-out", data={"csrf_token": token})
    assert signed_out.status_code == 303
    assert client.get("/contacts/").status_code == 302  # signed out: off to sign in


def test_every_serving_of_a_kept_buy_back_form_has_its_own_key(client_for, session, clock) -> None:  # type: ignore[no-untyped-def]
    client = client_for("head_teacher")
    path = resolve(session, "/buy-back/{oakfield}")
    keys = set()
    for _ in range(3):
        page = BeautifulSoup(client.get(path).get_data(as_text=True), "html.parser")
        keys.add(page.select_one('input[name="submission_key"]')["value"])
    assert len(keys) == 3


def test_a_change_to_what_a_page_shows_is_shown_at_once(client_for, session, clock) -> None:  # type: ignore[no-untyped-def]
    staff = client_for("school_staff")
    assert "Renamed Officer" not in staff.get("/contacts/").get_data(as_text=True)
    staff.get("/contacts/")
    contact = session.scalars(select(Contact).where(Contact.retired_at.is_(None))).first()
    shown = staff.get("/contacts/").get_data(as_text=True)
    assert contact.name in shown
    contact.name = "Renamed Officer"
    session.commit()
    assert "Renamed Officer" in staff.get("/contacts/").get_data(as_text=True)


def test_a_change_elsewhere_leaves_the_page_kept(client_for, session, count_queries, clock) -> None:  # type: ignore[no-untyped-def]
    staff = client_for("school_staff")
    staff.get("/contacts/")
    # The audit log is no part of the contacts page.
    session.add(AuditEvent(action="test.elsewhere"))
    session.commit()
    with count_queries() as counter:
        staff.get("/contacts/")
    assert len(queries(counter)) == 1


def test_a_saved_choice_shows_its_message_once_and_its_answers(client_for, session, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.test_buyback import answer_everything, category_paths, form_data, soup

    head = client_for("head_teacher")
    path = resolve(session, "/buy-back/{oakfield}")
    before = soup(head.get(path))
    head.get(path)
    category = category_paths(before)[0]
    page = soup(head.get(category))
    saved = head.post(category, data={**answer_everything(page, form_data(page)), "action": "save"})
    assert saved.status_code == 303
    after = soup(head.get(path))
    assert "have been saved as a draft" in after.get_text()
    assert after.get_text() != before.get_text()
    again = soup(head.get(path))
    assert "have been saved as a draft" not in again.get_text()
    after.select_one(".govuk-notification-banner").decompose()
    assert words(again.select_one("main")) == words(after.select_one("main"))


def test_a_message_waiting_is_shown_even_where_nothing_changed(client_for, clock) -> None:  # type: ignore[no-untyped-def]
    staff = client_for("school_staff")
    staff.get("/contacts/")
    staff.get("/contacts/")
    with staff.session_transaction() as stored:
        stored["_flashes"] = [("success", "A message for the next page")]
    assert "A message for the next page" in staff.get("/contacts/").get_data(as_text=True)
    assert "A message for the next page" not in staff.get("/contacts/").get_data(as_text=True)


def test_a_council_session_without_its_second_factor_is_signed_out_not_served(  # type: ignore[no-untyped-def]
    client_for, clock
) -> None:
    from portal.auth.service import SECOND_FACTOR

    officer = client_for("caf_officer")
    officer.get("/support/")
    officer.get("/support/")
    with officer.session_transaction() as stored:
        stored[SECOND_FACTOR] = False
    refused = officer.get("/support/")
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/sign-in")


def test_another_person_never_gets_someone_elses_kept_page(client_for, clock) -> None:  # type: ignore[no-untyped-def]
    oakfield_head = client_for("head_teacher")
    riverside_head = client_for("academy_head")
    for _ in range(2):
        assert "Oakfield Primary School" in oakfield_head.get("/").get_data(as_text=True)
        home = riverside_head.get("/").get_data(as_text=True)
        assert "Riverside Academy" in home
        assert "Oakfield Primary School" not in home


@pytest.mark.parametrize(
    "change",
    [
        {"is_active": False},
        # Signed out everywhere (or the password changed): every session ends.
        {"session_version": User.session_version + 1},
    ],
    ids=["deactivated", "signed out everywhere"],
)
def test_an_ended_account_is_never_served_a_kept_page(client_for, session, clock, change) -> None:  # type: ignore[no-untyped-def]
    staff = client_for("school_staff")
    staff.get("/contacts/")
    assert staff.get("/contacts/").status_code == 200
    session.execute(
        update(User).where(User.email == ROLE_ACCOUNTS["school_staff"]).values(**change)
    )
    session.commit()
    refused = staff.get("/contacts/")
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/sign-in")


def test_a_changed_membership_changes_the_page(client_for, session, clock) -> None:  # type: ignore[no-untyped-def]
    staff = client_for("school_staff")
    staff.get("/")
    assert "Oakfield Primary School" in staff.get("/").get_data(as_text=True)
    user = session.scalars(select(User).where(User.email == ROLE_ACCOUNTS["school_staff"])).one()
    other = session.scalars(select(School).where(School.urn != 125601).order_by(School.id)).first()
    session.execute(
        update(Membership)
        .where(Membership.user_id == user.id, Membership.role == Role.SCHOOL_STAFF)
        .values(school_id=other.id)
    )
    session.commit()
    home = staff.get("/").get_data(as_text=True)
    assert other.name in home
    assert "Oakfield Primary School" not in home


def test_a_session_past_its_hours_is_signed_out_not_served(client_for, clock, app) -> None:  # type: ignore[no-untyped-def]
    from portal.auth.service import SIGNED_IN_AT

    staff = client_for("school_staff")
    staff.get("/contacts/")
    staff.get("/contacts/")
    # The session grows old within the same minute (its sign-in moved back, the clocks
    # still), so only the session's age can stop the kept page being served.
    hours = app.config["SESSION_ABSOLUTE_HOURS"]
    with staff.session_transaction() as stored:
        stored[SIGNED_IN_AT] -= int(timedelta(hours=hours, minutes=1).total_seconds())
    refused = staff.get("/contacts/")
    assert refused.status_code == 302
    assert "signed in for" in staff.get(refused.headers["Location"]).get_data(as_text=True)


def test_a_kept_page_lasts_until_the_minute_turns(client_for, clock, count_queries) -> None:  # type: ignore[no-untyped-def]
    from tests.test_buyback import DURING

    officer = client_for("caf_officer")
    officer.get("/support/")
    clock(DURING + timedelta(seconds=59 - DURING.second))
    with count_queries() as counter:
        officer.get("/support/")
    assert len(queries(counter)) == 1
    clock(DURING + timedelta(seconds=60 - DURING.second))
    with count_queries() as counter:
        officer.get("/support/")
    assert len(queries(counter)) > 1


def test_nothing_is_kept_when_the_setting_is_nought(make_app, session, count_queries) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import sign_in

    app = make_app(PAGE_CACHE_MB=0)
    client = app.test_client()
    sign_in(client, ROLE_ACCOUNTS["school_staff"])
    client.get("/contacts/")
    engine = app.extensions["portal.db"].engine
    statements: list[str] = []
    from sqlalchemy import event

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/contacts/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) > 1
    assert not any("data_stamp" in statement for statement in statements)


# --- the stamps -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        ("SELECT * FROM contact", None),
        ("  select id from school for update", None),
        ("WITH latest AS (SELECT 1) SELECT * FROM latest", None),
        ("INSERT INTO audit_event (action) VALUES (?)", "audit_event"),
        ('UPDATE "user_account" SET is_active = false', "user_account"),
        ("DELETE FROM contact_area WHERE contact_id = 1", "contact_area"),
        (
            "INSERT OR REPLACE INTO buyback_submission_answer VALUES (1)",
            "buyback_submission_answer",
        ),
        ("update public.school set name = 'x'", "school"),
        ("WITH moved AS (UPDATE school SET name = 'x' RETURNING id) SELECT * FROM moved", "*"),
        ("ALTER TABLE school ADD COLUMN x int", "*"),
        ("TRUNCATE contact", "*"),
    ],
)
def test_each_statement_names_the_table_it_changes(statement: str, table: str | None) -> None:
    assert stamps.changed_table(statement) == table


def _stamp_of(session, table: str) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(DataStamp.version).where(DataStamp.table_name == table)) or 0


def test_a_commit_moves_the_stamps_of_what_it_changed_and_a_rollback_none(app, session) -> None:  # type: ignore[no-untyped-def]
    contact, school = _stamp_of(session, "contact"), _stamp_of(session, "school")
    session.execute(update(Contact).where(Contact.id == -1).values(name="nobody"))
    session.rollback()
    assert (_stamp_of(session, "contact"), _stamp_of(session, "school")) == (contact, school)
    session.execute(update(Contact).where(Contact.id == -1).values(name="nobody"))
    session.execute(update(Contact).where(Contact.id == -2).values(name="nobody"))
    session.commit()
    assert (_stamp_of(session, "contact"), _stamp_of(session, "school")) == (contact + 1, school)


def test_a_page_kept_holds_no_more_than_its_worker_may_keep() -> None:
    store = page_cache.PageStore(max_bytes=10)
    page = page_cache.KeptPage(stamps=(("contact", 3),), body="x" * 6, holes=())
    store.put(("a",), (1,), page)
    store.put(("b",), (1,), page)
    assert store.get(("a",), (1,), {"contact": 3}) is page
    assert store.get(("b",), (1,), {"contact": 3}) is None
    # Not once the contacts have changed.
    assert store.get(("a",), (1,), {"contact": 4}) is None
    # A new minute starts empty.
    assert store.get(("a",), (2,), {"contact": 3}) is None
    store.put(("b",), (2,), page)
    assert store.get(("b",), (2,), {"contact": 3}) is page


def test_a_change_to_the_persons_own_school_is_shown_at_once(client_for, session, clock) -> None:  # type: ignore[no-untyped-def]
    head = client_for("head_teacher")
    path = resolve(session, "/buy-back/{oakfield}")
    for _ in range(2):
        assert "Oakfield Primary School" in head.get(path).get_data(as_text=True)
    oakfield(session).name = "Oakfield Renamed Primary"
    session.commit()
    page = head.get(path).get_data(as_text=True)
    assert "Oakfield Renamed Primary" in page
    assert "Oakfield Primary School" not in page


# --- kept pages shared between workers and app servers, through Redis ----------------------


def _counting(app):  # type: ignore[no-untyped-def]
    from tests.conftest import QueryCounter

    return QueryCounter(app)


def test_workers_share_kept_pages_through_redis(make_app, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import sign_in

    drawing, serving = make_app(REDIS_URL=redis_url), make_app(REDIS_URL=redis_url)
    assert isinstance(drawing.extensions[page_cache.EXTENSION], page_cache.SharedPageStore)
    first = drawing.test_client()
    assert sign_in(first, ROLE_ACCOUNTS["school_staff"]).status_code == 303
    drawn = first.get("/contacts/")
    # The same person's browser reaches another worker, which has kept nothing itself.
    other = serving.test_client()
    other.set_cookie("session", first.get_cookie("session").value)
    with _counting(serving) as counter:
        kept = other.get("/contacts/")
    assert kept.status_code == 200
    assert len(queries(counter)) == 1
    assert without_fresh_values(kept.get_data(as_text=True)) == without_fresh_values(
        drawn.get_data(as_text=True)
    )
    token = TOKEN.search(kept.get_data(as_text=True)).group(1)
    assert other.post("/sign-out", data={"csrf_token": token}).status_code == 303


def test_pages_are_drawn_when_redis_is_gone(make_app) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import sign_in

    # Nothing listens on port 1.
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    client = app.test_client()
    assert sign_in(client, ROLE_ACCOUNTS["school_staff"]).status_code == 303
    for _ in range(3):
        page = client.get("/contacts/")
        assert page.status_code == 200
        assert "Local contacts" in page.get_data(as_text=True)


def test_servers_set_up_differently_keep_their_pages_apart(make_app, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import sign_in

    arden = make_app(REDIS_URL=redis_url)
    other = make_app(REDIS_URL=redis_url, CHILDRENS_SERVICES_FRONT_DOOR_PHONE="01632 960 999")
    first = arden.test_client()
    assert sign_in(first, ROLE_ACCOUNTS["school_staff"]).status_code == 303
    assert "01632 960 000" in first.get("/contacts/").get_data(as_text=True)
    browser = other.test_client()
    browser.set_cookie("session", first.get_cookie("session").value)
    page = browser.get("/contacts/").get_data(as_text=True)
    assert "01632 960 999" in page
    assert "01632 960 000" not in page
