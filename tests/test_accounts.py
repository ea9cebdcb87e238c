"""Accounts: invitations, forgotten and changed passwords, and managing users, as the people
who use them would."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.demo import DEMO_PASSWORD
from portal.models import (
    AccountToken,
    AuditEvent,
    OutboxMessage,
    Role,
    School,
    TokenPurpose,
    User,
)
from portal.passwords import (
    COMMON,
    IS_EMAIL,
    IS_NAME,
    TOO_LONG,
    TOO_SHORT,
    common_passwords,
    password_problem,
)
from tests.conftest import csrf_token, sign_in

NEW_PASSWORD = "correct horse battery staple"
LINK = re.compile(r"http://localhost(/account/(?:accept|reset)/([A-Za-z0-9_-]{43}))")
OAKFIELD, HARTSHILL, RIVERSIDE, ATHERSTONE_MEADOWS = 125601, 125602, 140201, 140202
LINK_GONE = "This link has expired or has already been used"


def page(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def error_summary(response) -> list[str]:  # type: ignore[no-untyped-def]
    summary = page(response).select_one(".govuk-error-summary")
    return [] if summary is None else [a.get_text(strip=True) for a in summary.select("li a")]


def field_error(response, field: str) -> str:  # type: ignore[no-untyped-def]
    message = page(response).select_one(f"#{field}-error")
    return "" if message is None else message.get_text(" ", strip=True)


def main_text(response) -> str:  # type: ignore[no-untyped-def]
    return page(response).select_one("main").get_text(" ", strip=True)


def banner(response) -> str:  # type: ignore[no-untyped-def]
    found = page(response).select_one(".govuk-notification-banner")
    return "" if found is None else found.get_text(" ", strip=True)


def post_form(client: FlaskClient, path: str, data: dict[str, str], form_page: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf_token(client, form_page or path)
    return client.post(path, data={"csrf_token": token, **data})


def user(session, email: str) -> User:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalars(select(User).where(func.lower(User.email) == email.lower())).one()


def user_or_none(session, email: str) -> User | None:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalars(select(User).where(func.lower(User.email) == email)).one_or_none()


def school_id(session, urn: int) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(School.id).where(School.urn == urn))


def mail_to(session, recipient: str) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(
        session.scalars(
            select(OutboxMessage)
            # Only the accounts e-mails: the demo data has sent others to the same people.
            .where(
                OutboxMessage.recipient == recipient,
                OutboxMessage.subject.contains("Schools Partner Portal"),
            )
            .order_by(OutboxMessage.id)
        )
    )


def link_in(message: OutboxMessage) -> str:
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(1)


def actions(session, subject: User) -> list[str]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.subject_type == "User", AuditEvent.subject_id == subject.id)
            .order_by(AuditEvent.id)
        )
    )


def invite(client: FlaskClient, **fields: str):  # type: ignore[no-untyped-def]
    data = {"email": "", "display_name": "", "role": "", "school": "", "trust": "", "area": ""}
    return post_form(client, "/users/invite", {**data, **fields})


def invite_to_school(
    client: FlaskClient, session, email: str, urn: int = OAKFIELD, role: str = "school_staff"
):  # type: ignore[no-untyped-def]
    return invite(
        client,
        email=email,
        display_name="Nadia New-Teacher",
        role=role,
        school=str(school_id(session, urn)),
    )


def set_password(client: FlaskClient, path: str, password: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
    return post_form(
        client, path, {"password": password, "confirm": password if confirm is None else confirm}
    )


# --- the password policy ----------------------------------------------------------------------

EMAIL = "nadia.new@oakfield.example"
NAMES = ("Schools Partner Portal", "Arden County Council")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("", TOO_SHORT),
        ("elevenchars", TOO_SHORT),
        ("x" * 257, TOO_LONG),
        ("qwerty123456", COMMON),
        ("QWERTY123456", COMMON),
        ("1q2w3e4r5t6y", COMMON),
        ("Nadia.New@Oakfield.example", IS_EMAIL),
        ("schoolspartnerportal", IS_NAME),
        ("Arden County Council", IS_NAME),
        ("twelve chars", None),
        ("x" * 256, None),
        ("no capitals or symbols needed here", None),
    ],
)
def test_the_policy_is_length_and_the_common_list_nothing_else(
    password: str, problem: str | None
) -> None:
    assert password_problem(password, email=EMAIL, names=NAMES) == problem


def test_the_local_part_of_the_address_is_refused_too() -> None:
    assert password_problem("nadia.newbold", email="Nadia.Newbold@x.example") == IS_EMAIL


def test_the_common_list_is_the_one_zxcvbn_ships() -> None:
    common = common_passwords()
    assert len(common) > 20_000
    assert {"password", "123456", "qwerty"} <= common


def _folded(text: str) -> str:
    return "".join(text.split()).casefold()


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=12, max_size=256))
def test_any_long_enough_password_off_the_lists_is_accepted(candidate: str) -> None:
    assume(candidate.lower() not in common_passwords())
    assume(_folded(candidate) not in {_folded(EMAIL), "nadia.new", *map(_folded, NAMES)})
    assert password_problem(candidate, email=EMAIL, names=NAMES) is None


@given(st.text(max_size=11))
def test_anything_shorter_is_refused(candidate: str) -> None:
    assert password_problem(candidate, email=EMAIL, names=NAMES) == TOO_SHORT


# --- invitations -----------------------------------------------------------------------------


def test_an_invitation_creates_an_inactive_account_and_emails_a_link(client_for, session) -> None:  # type: ignore[no-untyped-def]
    admin = client_for("la_admin")
    response = invite_to_school(admin, session, "Nadia.New@Oakfield.example")
    assert response.status_code == 303
    assert response.headers["Location"] == "/users/"
    assert "We have sent nadia.new@oakfield.example an e-mail" in banner(admin.get("/users/"))

    invited = user(session, "nadia.new@oakfield.example")
    assert invited.email == "nadia.new@oakfield.example"
    assert not invited.is_active
    assert invited.password_changed_at is None
    assert invited.password_hash.startswith("$argon2id$")
    assert [(m.role, m.school.urn) for m in invited.memberships] == [(Role.SCHOOL_STAFF, OAKFIELD)]

    [message] = mail_to(session, "nadia.new@oakfield.example")
    assert message.subject == "You have been invited to the Schools Partner Portal"
    assert "School staff, Oakfield Primary School" in message.body
    assert "48 hours" in message.body
    raw = LINK.search(message.body).group(2)  # type: ignore[union-attr]
    [token] = session.scalars(select(AccountToken).where(AccountToken.user_id == invited.id))
    # Only the token's hash is kept.
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.purpose is TokenPurpose.INVITATION
    assert timedelta(hours=47) < token.expires_at - datetime.now(UTC) <= timedelta(hours=48)
    assert actions(session, invited) == ["account.invited"]

    # Not signing in until the invitation is accepted.
    assert sign_in(admin.application.test_client(), invited.email, "anything").status_code == 200


def test_links_use_portal_url_when_it_is_set(app, client_for, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "PORTAL_URL", "https://schools.council.example")
    invite_to_school(client_for("la_admin"), session, "nadia.new@oakfield.example")
    [message] = mail_to(session, "nadia.new@oakfield.example")
    assert "https://schools.council.example/account/accept/" in message.body
    assert "localhost" not in message.body


def test_accepting_sets_the_password_and_opens_the_account(client_for, client, session) -> None:  # type: ignore[no-untyped-def]
    invite_to_school(client_for("la_admin"), session, "nadia.new@oakfield.example")
    path = link_in(mail_to(session, "nadia.new@oakfield.example")[0])

    form = client.get(path)
    assert form.status_code == 200
    assert form.headers["Cache-Control"] == "no-store"
    assert page(form).h1.get_text(strip=True) == "Set your password"
    assert "nadia.new@oakfield.example" in main_text(form)

    response = set_password(client, path, NEW_PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in"
    assert "Your account is ready" in banner(client.get("/sign-in"))

    accepted = user(session, "nadia.new@oakfield.example")
    assert accepted.is_active
    assert accepted.password_changed_at is not None
    assert "account.invitation_accepted" in actions(session, accepted)
    assert sign_in(client, "nadia.new@oakfield.example", NEW_PASSWORD).status_code == 303


def test_an_invitation_link_works_once(client_for, client, session) -> None:  # type: ignore[no-untyped-def]
    invite_to_school(client_for("la_admin"), session, "nadia.new@oakfield.example")
    path = link_in(mail_to(session, "nadia.new@oakfield.example")[0])
    assert set_password(client, path, NEW_PASSWORD).status_code == 303

    again = client.get(path)
    assert again.status_code == 410
    assert page(again).h1.get_text(strip=True) == LINK_GONE
    assert "ask for a new invitation" in main_text(again).lower()
    replay = post_form(
        client, path, {"password": "another password", "confirm": "another password"}, "/sign-in"
    )
    assert replay.status_code == 410
    assert sign_in(client, "nadia.new@oakfield.example", NEW_PASSWORD).status_code == 303


def test_an_invitation_link_expires(client_for, client, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    invite_to_school(client_for("la_admin"), session, "nadia.new@oakfield.example")
    path = link_in(mail_to(session, "nadia.new@oakfield.example")[0])
    later = datetime.now(UTC) + timedelta(hours=48, minutes=1)
    monkeypatch.setattr("portal.accounts.service.utcnow", lambda: later)
    response = client.get(path)
    assert response.status_code == 410
    assert LINK_GONE in main_text(response)
    assert not user(session, "nadia.new@oakfield.example").is_active


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/account/accept/" + "A" * 43, 410),  # shaped like a token, but never issued
        ("/account/accept/not-a-token", 404),
        ("/account/reset/" + "A" * 43, 410),
        ("/account/reset/%00%00", 404),
    ],
)
def test_unknown_links_get_a_clear_page_and_garbage_is_not_found(
    client: FlaskClient, path: str, status: int
) -> None:
    response = client.get(path)
    assert response.status_code == status
    expected = LINK_GONE if status == 410 else "Page not found"
    assert expected in response.get_data(as_text=True)


def test_the_policy_speaks_beside_the_field(client_for, client, session) -> None:  # type: ignore[no-untyped-def]
    invite_to_school(client_for("la_admin"), session, "nadia.new@oakfield.example")
    path = link_in(mail_to(session, "nadia.new@oakfield.example")[0])

    short = set_password(client, path, "too short")
    assert short.status_code == 200
    assert error_summary(short) == [TOO_SHORT]
    assert TOO_SHORT in field_error(short, "password")
    assert page(short).title.get_text().startswith("Error: ")
    # A password is never sent back to the browser.
    assert not page(short).select_one("#password").get("value")

    common = set_password(client, path, "qwerty123456")
    assert error_summary(common) == [COMMON]
    assert COMMON in field_error(common, "password")

    own_address = set_password(client, path, "nadia.new@oakfield.example")
    assert IS_EMAIL in field_error(own_address, "password")

    differ = set_password(client, path, NEW_PASSWORD, "correct horse battery stapler")
    assert error_summary(differ) == ["Enter the same password twice"]
    assert "Enter the same password twice" in field_error(differ, "confirm")

    empty = set_password(client, path, "", "")
    assert error_summary(empty) == ["Enter a password", "Confirm your password"]
    assert not user(session, "nadia.new@oakfield.example").is_active


def test_inviting_an_existing_account_adds_the_role_and_says_the_same(client_for, session) -> None:  # type: ignore[no-untyped-def]
    admin = client_for("la_admin")
    users_before = session.scalar(select(func.count(User.id)))
    response = invite_to_school(admin, session, "Staff@Oakfield.example", urn=HARTSHILL)
    assert response.status_code == 303
    message = banner(admin.get("/users/"))
    assert "We have sent staff@oakfield.example an e-mail: an invitation to choose a" in message

    assert session.scalar(select(func.count(User.id))) == users_before
    staff = user(session, "staff@oakfield.example")
    assert sorted(m.school.urn for m in staff.memberships) == [OAKFIELD, HARTSHILL]
    assert staff.is_active
    [notice] = mail_to(session, "staff@oakfield.example")
    assert notice.subject == "You have a new role in the Schools Partner Portal"
    assert "Hartshill Green Primary School" in notice.body
    assert not LINK.search(notice.body)
    assert (
        session.scalar(select(func.count(AccountToken.id)).where(AccountToken.user_id == staff.id))
        == 0
    )


def test_inviting_again_before_acceptance_sends_a_new_link(client_for, client, session) -> None:  # type: ignore[no-untyped-def]
    admin = client_for("la_admin")
    invite_to_school(admin, session, "nadia.new@oakfield.example")
    invite_to_school(admin, session, "nadia.new@oakfield.example")
    first, second = mail_to(session, "nadia.new@oakfield.example")
    assert client.get(link_in(first)).status_code == 410
    assert client.get(link_in(second)).status_code == 200
    assert len(user(session, "nadia.new@oakfield.example").memberships) == 1


def test_an_administrator_invites_anyone_to_any_organisation(client_for, session) -> None:  # type: ignore[no-untyped-def]
    from portal.models import Area, Trust

    admin = client_for("la_admin")
    area = session.scalar(select(Area.id).where(Area.code == "rugby"))
    trust = session.scalar(select(Trust.id).where(Trust.group_uid == "TR01002"))
    invite(
        admin,
        email="caf.new@council.example",
        display_name="C New",
        role="caf_officer",
        area=str(area),
    )
    invite(
        admin, email="lead@avon.example", display_name="L New", role="trust_lead", trust=str(trust)
    )
    invite(admin, email="pub@council.example", display_name="P New", role="publisher")
    described = {
        email: [(m.role, m.organisation_name) for m in user(session, email).memberships]
        for email in ("caf.new@council.example", "lead@avon.example", "pub@council.example")
    }
    assert described == {
        "caf.new@council.example": [(Role.CAF_OFFICER, "Rugby")],
        "lead@avon.example": [(Role.TRUST_LEAD, "Avon Valley Academies Trust")],
        "pub@council.example": [(Role.PUBLISHER, "the council")],
    }

    missing = invite(admin, email="caf.2@council.example", display_name="C Two", role="caf_officer")
    assert missing.status_code == 200
    assert error_summary(missing) == ["Choose their area"]
    assert "Choose their area" in field_error(missing, "area")


def test_the_invite_form_explains_each_mistake(client_for) -> None:  # type: ignore[no-untyped-def]
    response = invite(client_for("la_admin"), email="not-an-address")
    assert response.status_code == 200
    assert error_summary(response) == [
        "Enter an e-mail address in the correct format, like name@school.example",
        "Enter their full name",
        "Choose their role",
    ]
    assert "Enter their full name" in field_error(response, "display_name")


def test_a_head_teacher_invites_only_to_their_own_school(client_for, session) -> None:  # type: ignore[no-untyped-def]
    head = client_for("head_teacher")
    form = page(head.get("/users/invite"))
    assert [o.get_text(strip=True) for o in form.select("#school option")] == [
        "Oakfield Primary School (URN 125601)"
    ]
    roles = [label.get_text(strip=True) for label in form.select(".govuk-radios__label")]
    assert roles == ["School staff", "Head teacher"]
    assert form.select_one("#trust") is None
    assert form.select_one("#area") is None

    elsewhere = invite_to_school(head, session, "nadia.new@hartshill.example", urn=HARTSHILL)
    assert elsewhere.status_code == 200
    assert error_summary(elsewhere) == ["Choose their school"]
    admin_role = invite(
        head,
        email="boss@oakfield.example",
        display_name="B",
        role="la_admin",
        school=str(school_id(session, OAKFIELD)),
    )
    assert error_summary(admin_role) == ["Choose their role"]
    assert user_or_none(session, "nadia.new@hartshill.example") is None
    assert user_or_none(session, "boss@oakfield.example") is None

    assert (
        invite_to_school(head, session, "deputy@oakfield.example", role="head_teacher").status_code
        == 303
    )
    deputy = user(session, "deputy@oakfield.example")
    assert [(m.role, m.school.urn) for m in deputy.memberships] == [(Role.HEAD_TEACHER, OAKFIELD)]


def test_a_trust_lead_invites_to_the_trusts_academies_only(client_for, session) -> None:  # type: ignore[no-untyped-def]
    lead = client_for("trust_lead")
    options = [
        o.get_text(strip=True) for o in page(lead.get("/users/invite")).select("#school option")
    ]
    assert options[0] == "Choose a school"
    assert len(options) == 6
    assert "Riverside Academy (URN 140201)" in options
    assert not any("Oakfield" in o for o in options)

    assert (
        invite_to_school(lead, session, "new@meadows.example", urn=ATHERSTONE_MEADOWS).status_code
        == 303
    )
    refused = invite_to_school(lead, session, "new@oakfield.example", urn=OAKFIELD)
    assert error_summary(refused) == ["Choose their school"]
    assert user_or_none(session, "new@oakfield.example") is None


# --- forgotten passwords ---------------------------------------------------------------------


def forgot(client: FlaskClient, email: str):  # type: ignore[no-untyped-def]
    return post_form(client, "/account/forgot", {"email": email})


def test_the_sign_in_page_offers_a_reset(client: FlaskClient) -> None:
    link = page(client.get("/sign-in")).find("a", string="Forgotten your password?")
    assert link["href"] == "/account/forgot"


def test_forgotten_password_answers_the_same_for_any_address(app, session) -> None:  # type: ignore[no-untyped-def]
    known = forgot(app.test_client(), "staff@oakfield.example")
    unknown = forgot(app.test_client(), "nobody@oakfield.example")
    assert known.status_code == unknown.status_code == 200
    assert main_text(known) == main_text(unknown)
    assert page(known).h1.get_text(strip=True) == "Check your e-mail"

    [message] = mail_to(session, "staff@oakfield.example")
    assert message.subject == "Reset your password for the Schools Partner Portal"
    assert "2 hours" in message.body
    assert mail_to(session, "nobody@oakfield.example") == []


def test_a_deactivated_account_gets_no_reset(app, session) -> None:  # type: ignore[no-untyped-def]
    user(session, "staff@oakfield.example").is_active = False
    session.commit()
    response = forgot(app.test_client(), "staff@oakfield.example")
    assert response.status_code == 200
    assert mail_to(session, "staff@oakfield.example") == []


def test_resets_to_one_address_are_limited_per_hour(client: FlaskClient, session) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        assert forgot(client, "staff@oakfield.example").status_code == 200
    assert len(mail_to(session, "staff@oakfield.example")) == 3


def test_the_forgotten_password_form_explains_mistakes(client: FlaskClient) -> None:
    response = forgot(client, "")
    assert error_summary(response) == ["Enter your e-mail address"]
    assert "Enter your e-mail address" in field_error(response, "email")


def test_a_reset_sets_the_password_and_ends_every_session(app, client_for, session) -> None:  # type: ignore[no-untyped-def]
    elsewhere = client_for("school_staff")
    browser = app.test_client()
    forgot(browser, "staff@oakfield.example")
    path = link_in(mail_to(session, "staff@oakfield.example")[0])
    assert page(browser.get(path)).h1.get_text(strip=True) == "Choose a new password"

    weak = set_password(browser, path, "password1234")
    assert COMMON in field_error(weak, "password")
    response = set_password(browser, path, NEW_PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in"

    assert elsewhere.get("/").status_code == 302
    assert sign_in(app.test_client(), "staff@oakfield.example").status_code == 200
    assert sign_in(app.test_client(), "staff@oakfield.example", NEW_PASSWORD).status_code == 303
    staff = user(session, "staff@oakfield.example")
    assert "account.password_reset" in actions(session, staff)
    assert mail_to(session, "staff@oakfield.example")[-1].subject == (
        "Your password for the Schools Partner Portal has changed"
    )
    # Single use.
    assert browser.get(path).status_code == 410


def test_a_reset_link_expires(client: FlaskClient, session) -> None:  # type: ignore[no-untyped-def]
    forgot(client, "staff@oakfield.example")
    path = link_in(mail_to(session, "staff@oakfield.example")[0])
    session.expire_all()
    for token in session.scalars(select(AccountToken)):
        token.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    session.commit()
    response = client.get(path)
    assert response.status_code == 410
    assert "Ask for a new link" in main_text(response)


def test_asking_for_a_reset_is_rate_limited(make_app) -> None:  # type: ignore[no-untyped-def]
    client = make_app(FORGOT_PASSWORD_RATE_LIMIT="2 per minute").test_client()
    # Empty forms: counted all the same, and nothing is written to the shared database.
    for _ in range(2):
        assert forgot(client, "").status_code == 200
    assert forgot(client, "").status_code == 429
    assert client.get("/account/forgot").status_code == 200


# --- changing a password ---------------------------------------------------------------------


def change(client: FlaskClient, current: str, new: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
    return post_form(
        client,
        "/account/password",
        {
            "current_password": current,
            "password": new,
            "confirm": new if confirm is None else confirm,
        },
    )


def test_changing_the_password_keeps_this_session_and_ends_the_others(
    client_for, app, session
) -> None:  # type: ignore[no-untyped-def]
    laptop = client_for("school_staff")
    phone = client_for("school_staff")
    response = change(laptop, DEMO_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    home = laptop.get("/")
    assert home.status_code == 200
    assert "Your password has been changed" in banner(home)
    assert phone.get("/").status_code == 302

    assert sign_in(app.test_client(), "staff@oakfield.example", NEW_PASSWORD).status_code == 303
    staff = user(session, "staff@oakfield.example")
    assert staff.password_changed_at is not None
    assert "account.password_changed" in actions(session, staff)


def test_changing_needs_the_current_password_and_a_good_new_one(client_for, session) -> None:  # type: ignore[no-untyped-def]
    laptop = client_for("school_staff")
    wrong = change(laptop, "not my password", NEW_PASSWORD)
    assert wrong.status_code == 200
    assert error_summary(wrong) == ["The current password is not correct"]
    assert "The current password is not correct" in field_error(wrong, "current_password")

    weak = change(laptop, DEMO_PASSWORD, "staff")
    assert error_summary(weak) == [TOO_SHORT]
    assert TOO_SHORT in field_error(weak, "password")

    empty = change(laptop, "", "", "")
    assert error_summary(empty) == [
        "Enter your current password",
        "Enter a password",
        "Confirm your password",
    ]
    assert laptop.get("/").status_code == 200
    assert "account.password_change_failed" in actions(
        session, user(session, "staff@oakfield.example")
    )


def test_changing_the_password_needs_sign_in(client: FlaskClient) -> None:
    assert client.get("/account/password").headers["Location"].startswith("/sign-in")


# --- managing users --------------------------------------------------------------------------


def listed(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        row.select_one("td .govuk-body-s").get_text(strip=True)
        for row in page(response).select("tbody tr")
    ]


def test_an_administrator_sees_everyone_and_searches(client_for) -> None:  # type: ignore[no-untyped-def]
    admin = client_for("la_admin")
    everyone = admin.get("/users/")
    assert "Showing 1 to 11 of 11 users" in main_text(everyone)
    found = admin.get("/users/?q=OAKFIELD")
    assert sorted(listed(found)) == ["head@oakfield.example", "staff@oakfield.example"]
    fragment = admin.get("/users/?q=trust", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert listed(fragment) == ["trust@meadowtrust.example"]
    assert "No users match your search for “100%”" in main_text(admin.get("/users/?q=100%25"))


def test_a_head_teacher_sees_their_schools_staff(client_for, session) -> None:  # type: ignore[no-untyped-def]
    staff = user(session, "staff@oakfield.example")
    staff.last_signed_in_at = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    session.commit()
    response = client_for("head_teacher").get("/users/")
    assert sorted(listed(response)) == ["head@oakfield.example", "staff@oakfield.example"]
    row = next(r for r in page(response).select("tbody tr") if "staff@" in r.get_text())
    cells = [cell.get_text(" ", strip=True) for cell in row.select("td")]
    assert cells[1:] == ["School staff, Oakfield Primary School", "Active", "1 July 2026 at 1:00pm"]


def test_a_head_teacher_is_not_told_of_roles_elsewhere(client_for, session) -> None:  # type: ignore[no-untyped-def]
    invite_to_school(client_for("la_admin"), session, "staff@oakfield.example", urn=RIVERSIDE)
    response = client_for("head_teacher").get("/users/")
    assert "Riverside" not in main_text(response)
    staff = user(session, "staff@oakfield.example")
    assert "Riverside" not in main_text(client_for("head_teacher").get(f"/users/{staff.id}"))


def test_a_trust_lead_sees_their_academies_staff(client_for, session) -> None:  # type: ignore[no-untyped-def]
    lead = client_for("trust_lead")
    assert listed(lead.get("/users/")) == ["head@riverside.example"]
    oakfield_staff = user(session, "staff@oakfield.example")
    assert lead.get(f"/users/{oakfield_staff.id}").status_code == 404
    assert post_form(lead, f"/users/{oakfield_staff.id}/deactivate", {}, "/").status_code == 404


def test_a_head_teacher_deactivates_and_reactivates_their_staff(client_for, app, session) -> None:  # type: ignore[no-untyped-def]
    staff_browser = client_for("school_staff")
    head = client_for("head_teacher")
    staff = user(session, "staff@oakfield.example")
    path = f"/users/{staff.id}"
    assert "Deactivate account" in main_text(head.get(path))

    response = post_form(head, f"{path}/deactivate", {}, path)
    assert response.status_code == 303
    assert response.headers["Location"] == path
    after = head.get(path)
    assert "Sol Demo-Staff's account has been deactivated and signed out." in banner(after)
    assert "Deactivated" in main_text(after)
    assert staff_browser.get("/").status_code == 302
    assert sign_in(app.test_client(), "staff@oakfield.example").status_code == 200

    assert post_form(head, f"{path}/reactivate", {}, path).status_code == 303
    assert user(session, "staff@oakfield.example").is_active
    assert sign_in(app.test_client(), "staff@oakfield.example").status_code == 303
    assert [a for a in actions(session, staff) if a.startswith("account.")] == [
        "account.deactivated",
        "account.reactivated",
    ]


def test_a_head_teacher_cannot_deactivate_themselves(client_for, session) -> None:  # type: ignore[no-untyped-def]
    head = client_for("head_teacher")
    me = user(session, "head@oakfield.example")
    path = f"/users/{me.id}"
    assert "Deactivate account" not in main_text(head.get(path))
    response = post_form(head, f"{path}/deactivate", {}, path)
    assert response.status_code == 303
    assert "You cannot deactivate your own account" in banner(head.get(path))
    assert user(session, "head@oakfield.example").is_active
    assert head.get("/").status_code == 200


def test_another_schools_staff_are_not_found(client_for, session) -> None:  # type: ignore[no-untyped-def]
    head = client_for("head_teacher")
    other = user(session, "head@riverside.example")
    assert head.get(f"/users/{other.id}").status_code == 404
    for action in ("deactivate", "reactivate"):
        response = post_form(head, f"/users/{other.id}/{action}", {}, "/")
        assert response.status_code == 404
        assert "Page not found" in response.get_data(as_text=True)
    assert user(session, "head@riverside.example").is_active


def test_a_head_teacher_removes_only_their_schools_access(client_for, session) -> None:  # type: ignore[no-untyped-def]
    invite_to_school(client_for("la_admin"), session, "staff@oakfield.example", urn=RIVERSIDE)
    head = client_for("head_teacher")
    staff = user(session, "staff@oakfield.example")
    path = f"/users/{staff.id}"
    assert "Remove access to your schools" in main_text(head.get(path))
    response = post_form(head, f"{path}/deactivate", {}, path)
    assert response.headers["Location"] == "/users/"
    staff = user(session, "staff@oakfield.example")
    assert staff.is_active
    assert [m.school.urn for m in staff.memberships] == [RIVERSIDE]
    assert head.get(path).status_code == 404


def test_withdrawing_an_invitation_stops_its_link(client_for, client, session) -> None:  # type: ignore[no-untyped-def]
    head = client_for("head_teacher")
    invite_to_school(head, session, "nadia.new@oakfield.example")
    link = link_in(mail_to(session, "nadia.new@oakfield.example")[0])
    invited = user(session, "nadia.new@oakfield.example")
    listing = head.get("/users/")
    assert "Invited" in main_text(listing)
    path = f"/users/{invited.id}"
    post_form(head, f"{path}/deactivate", {}, path)
    assert "Invitation expired" in main_text(head.get(path))
    assert client.get(link).status_code == 410
    refused = post_form(head, f"{path}/reactivate", {}, path)
    assert refused.status_code == 303
    assert "has not accepted their invitation" in banner(head.get(path))


# --- a lost authenticator app ----------------------------------------------------------------

OFFICER = "caf.north@council.example"


def test_an_administrator_resets_a_lost_authenticator_app(client_for, app, session) -> None:  # type: ignore[no-untyped-def]
    officer_browser = client_for("caf_officer")
    admin = client_for("la_admin")
    officer = user(session, OFFICER)
    name = officer.display_name
    path = f"/users/{officer.id}"
    user_page = page(admin.get(path))
    assert "Authenticator app Set up on" in user_page.select_one("main").get_text(" ", strip=True)
    button = user_page.find("a", string=re.compile("Reset authenticator app"))
    assert button is not None
    assert button["href"] == f"{path}/two-factor/reset"

    # First the question, which changes nothing.
    question = admin.get(f"{path}/two-factor/reset")
    assert question.status_code == 200
    assert page(question).h1.get_text(strip=True) == (
        f"Are you sure you want to reset {name}'s authenticator app?"
    )
    assert user(session, OFFICER).totp_enabled_at is not None

    response = post_form(admin, f"{path}/two-factor/reset", {})
    assert response.status_code == 303
    assert response.headers["Location"] == path
    after = admin.get(path)
    assert f"{name}'s authenticator app has been reset" in banner(after)
    assert "Authenticator app Not set up" in main_text(after)
    assert "Reset authenticator app" not in main_text(after)

    reset = user(session, OFFICER)
    assert (reset.totp_secret, reset.totp_enabled_at, reset.recovery_codes) == (None, None, [])
    assert reset.totp_last_step is None
    # Signed out everywhere; their next sign-in goes straight to setting up an app again.
    assert officer_browser.get("/").status_code == 302
    assert sign_in(app.test_client(), OFFICER).headers["Location"] == "/account/two-factor"

    [message] = mail_to(session, OFFICER)
    assert message.subject == "Your authenticator app for the Schools Partner Portal has been reset"
    body = " ".join(message.body.split())
    assert "has reset the authenticator app of your account" in body
    assert "you will be asked to set up your authenticator app again" in body
    assert "http://localhost/sign-in" in body
    assert (
        "If you did not expect this, contact the council straight away at "
        "schools.portal@council.example." in body
    )

    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "auth.two_factor_reset", AuditEvent.subject_id == officer.id)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None
    assert event.actor_id == user(session, "admin@council.example").id


def test_only_an_authenticator_app_someone_else_has_can_be_reset(client_for, session) -> None:  # type: ignore[no-untyped-def]
    admin = client_for("la_admin")
    me = user(session, "admin@council.example")
    staff = user(session, "staff@oakfield.example")
    # School staff have no second factor: nothing to show, nothing to reset.
    staff_page = admin.get(f"/users/{staff.id}")
    assert "Authenticator app" not in main_text(staff_page)
    for method in ("get", "post"):
        if method == "get":
            response = admin.get(f"/users/{staff.id}/two-factor/reset")
        else:
            response = post_form(admin, f"/users/{staff.id}/two-factor/reset", {}, "/")
        assert response.status_code == 303
        assert response.headers["Location"] == f"/users/{staff.id}"
        assert "Sol Demo-Staff has no authenticator app to reset" in banner(
            admin.get(f"/users/{staff.id}")
        )
    # Nor one's own: another administrator must do it.
    own_page = admin.get(f"/users/{me.id}")
    assert "Authenticator app Set up on" in main_text(own_page)
    assert "Reset authenticator app" not in main_text(own_page)
    response = post_form(admin, f"/users/{me.id}/two-factor/reset", {}, "/")
    assert response.status_code == 303
    assert "You cannot reset your own authenticator app" in banner(admin.get(f"/users/{me.id}"))
    assert user(session, "admin@council.example").totp_enabled_at is not None
    assert admin.get("/").status_code == 200
    assert "auth.two_factor_reset" not in actions(session, me) + actions(session, staff)
    assert mail_to(session, "staff@oakfield.example") == []
