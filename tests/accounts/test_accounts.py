"""Accounts: invitations, forgotten and changed passwords, and managing users, as the people
who use them would."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.auth.service import SIGNED_IN_AT
from portal.clock import london_time
from portal.models import (
    AccountToken,
    Area,
    AuditEvent,
    Membership,
    MembershipInvitation,
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
from portal_seed.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.auth.test_auth_security import (  # noqa: F401 (fresh: a fixture)
    GENERIC_FAILURE,
    HEAD,
    fresh,
    password_step,
)
from tests.auth.test_device_cookies import device_cookie, stranger_locks
from tests.conftest import ROLE_ACCOUNTS, csrf_token, enter_security_code, sign_in
from tests.helpers.html import banner, error_summary
from tests.helpers.html import soup as page

NEW_PASSWORD = "correct horse battery staple"
LINK = re.compile(r"http://localhost(/account/(?:accept|reset)/([A-Za-z0-9_-]{43}))")
OAKFIELD, HARTSHILL, RIVERSIDE, ATHERSTONE_MEADOWS = 125601, 125602, 140201, 140202
LINK_GONE = "This link has expired or has already been used"
INVITED = "We have sent {email} an invitation. They will have the role once they accept it."


def field_error(response, field: str) -> str:
    message = page(response).select_one(f"#{field}-error")
    return "" if message is None else message.get_text(" ", strip=True)


def main_text(response) -> str:
    return page(response).select_one("main").get_text(" ", strip=True)


def post_form(client: FlaskClient, path: str, data: dict[str, str], form_page: str | None = None):
    token = csrf_token(client, form_page or path)
    return client.post(path, data={"csrf_token": token, **data})


def user(session, email: str) -> User:
    session.expire_all()
    return session.scalars(select(User).where(func.lower(User.email) == email.lower())).one()


def user_or_none(session, email: str) -> User | None:
    session.expire_all()
    return session.scalars(select(User).where(func.lower(User.email) == email)).one_or_none()


def school_id(session, urn: int) -> int:
    return session.scalar(select(School.id).where(School.urn == urn))


def mail_to(session, recipient: str) -> list[OutboxMessage]:
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


def actions(session, subject: User) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.subject_type == "User", AuditEvent.subject_id == subject.id)
            .order_by(AuditEvent.id)
        )
    )


def invitation_events(session, email: str) -> list[str]:
    """What the audit log says happened to the invitations to ``email``."""
    session.expire_all()
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "MembershipInvitation")
        .order_by(AuditEvent.id)
    )
    return [event.action for event in events if event.detail.get("email") == email]


def invite(client: FlaskClient, **fields: str):
    data = {"email": "", "display_name": "", "role": "", "school": "", "trust": "", "area": ""}
    return post_form(client, "/users/invite", {**data, **fields})


def invite_to_school(
    client: FlaskClient, session, email: str, urn: int = OAKFIELD, role: str = "school_staff"
):
    return invite(
        client,
        email=email,
        display_name="Nadia New-Teacher",
        role=role,
        school=str(school_id(session, urn)),
    )


def roles_of(session, email: str) -> list[tuple[Role, str]]:
    """The roles an account has: what it may see and do."""
    return sorted((m.role, m.organisation_name) for m in user(session, email).memberships)


def offers_to(session, email: str) -> list[tuple[Role, str]]:
    """The roles an address has been offered and has not taken up."""
    session.expire_all()
    return sorted(
        (i.role, i.organisation_name)
        for i in session.scalars(
            select(MembershipInvitation).where(MembershipInvitation.email == email.lower())
        )
    )


def give_role(session, email: str, urn: int, role: Role = Role.SCHOOL_STAFF) -> None:
    """A role at another school, as if given and accepted some time ago."""
    account = user(session, email)
    account.memberships.append(Membership(role=role, school_id=school_id(session, urn)))
    session.commit()


def set_password(client: FlaskClient, path: str, password: str, confirm: str | None = None):
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


def invitations_to(session, email: str) -> list[MembershipInvitation]:
    session.expire_all()
    return list(
        session.scalars(select(MembershipInvitation).where(MembershipInvitation.email == email))
    )


def test_an_invitation_offers_a_role_and_emails_a_link(client_for, session) -> None:
    admin = client_for("la_admin")
    accounts_before = session.scalar(select(func.count(User.id)))
    response = invite_to_school(admin, session, "Nadia.New@Oakfield.example")
    assert response.status_code == 303
    assert response.headers["Location"] == "/users/"
    assert INVITED.format(email="nadia.new@oakfield.example") in banner(admin.get("/users/"))

    # Offered to the address, not given: no account until they accept, and no role.
    assert session.scalar(select(func.count(User.id))) == accounts_before
    [offer] = invitations_to(session, "nadia.new@oakfield.example")
    assert (offer.role, offer.school.urn, offer.invited_name, offer.declined_at) == (
        Role.SCHOOL_STAFF,
        OAKFIELD,
        "Nadia New-Teacher",
        None,
    )

    [message] = mail_to(session, "nadia.new@oakfield.example")
    assert message.subject == "You have been invited to the Schools Partner Portal"
    assert "School staff, Oakfield Primary School" in message.body
    assert "48 hours" in message.body
    raw = LINK.search(message.body).group(2)
    [token] = session.scalars(select(AccountToken).where(AccountToken.invitation_id == offer.id))
    # Only the token's hash is kept, and it belongs to the invitation, not to any account.
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert (token.purpose, token.user_id) == (TokenPurpose.INVITATION, None)
    assert timedelta(hours=47) < token.expires_at - datetime.now(UTC) <= timedelta(hours=48)
    [event] = session.scalars(
        select(AuditEvent).where(
            AuditEvent.subject_type == "MembershipInvitation", AuditEvent.subject_id == offer.id
        )
    )
    assert (event.action, event.detail["email"]) == ("account.invited", offer.email)


def test_links_use_portal_url_when_it_is_set(app, client_for, session, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "PORTAL_URL", "https://schools.council.example")
    invite_to_school(client_for("la_admin"), session, "nadia.new@oakfield.example")
    [message] = mail_to(session, "nadia.new@oakfield.example")
    assert "https://schools.council.example/account/accept/" in message.body
    assert "localhost" not in message.body


def test_accepting_sets_the_password_and_opens_the_account(
    client_for, client, app, session
) -> None:
    invite_to_school(client_for("la_admin"), session, "nadia.new@oakfield.example")
    path = link_in(mail_to(session, "nadia.new@oakfield.example")[0])

    form = client.get(path)
    assert form.status_code == 200
    assert form.headers["Cache-Control"] == "no-store"
    assert page(form).h1.get_text(strip=True) == "Set your password"
    assert "nadia.new@oakfield.example" in main_text(form)

    response = set_password(client, path, NEW_PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert banner(home) == (
        "Success Your account is ready. You are now School staff, Oakfield Primary School."
    )

    accepted = user(session, "nadia.new@oakfield.example")
    assert accepted.is_active
    assert accepted.password_changed_at is not None
    assert accepted.display_name == "Nadia New-Teacher"
    assert roles_of(session, accepted.email) == [(Role.SCHOOL_STAFF, "Oakfield Primary School")]
    assert invitations_to(session, accepted.email) == []
    assert "account.invitation_accepted" in actions(session, accepted)
    assert sign_in(app.test_client(), accepted.email, NEW_PASSWORD).status_code == 303


def test_choosing_a_password_signs_in_as_a_full_sign_in_would(client_for, client, session) -> None:
    invite_to_school(client_for("la_admin"), session, "nadia.new@oakfield.example")
    path = link_in(mail_to(session, "nadia.new@oakfield.example")[0])
    with client.session_transaction() as stored:
        # Whatever was in the browser's session before (someone else's, on a shared one).
        stored["left_behind"] = "by someone else"

    response = set_password(client, path, NEW_PASSWORD)
    assert response.headers["Location"] == "/"
    # The browser is known to the account from now on, as after any complete sign-in.
    assert device_cookie(response) is not None
    with client.session_transaction() as stored:
        assert "left_behind" not in stored
    assert "account.invitation_accepted" in actions(session, user(session, EMAIL))
    assert actions(session, user(session, EMAIL))[-1] == "auth.sign_in"
    assert "Signed in as nadia.new@oakfield.example" in main_text(client.get("/"))


def area_id(session, code: str) -> int:
    return session.scalar(select(Area.id).where(Area.code == code))


def test_someone_new_to_a_council_role_sets_up_their_app_first(client_for, client, session) -> None:
    invite(
        client_for("la_admin"),
        email="nico.new@council.example",
        display_name="Nico Demo-Officer",
        role="caf_officer",
        area=str(area_id(session, "north")),
    )
    response = set_password(
        client, link_in(mail_to(session, "nico.new@council.example")[0]), NEW_PASSWORD
    )
    assert response.headers["Location"] == "/account/two-factor"
    # Not known to the account until it has given everything the account needs.
    assert device_cookie(response) is None
    setup = client.get("/account/two-factor")
    assert setup.status_code == 200
    assert banner(setup) == (
        "Success Your account is ready. You are now CAF officer for the North area. Your role "
        "needs an authenticator app: set one up to carry on."
    )
    assert client.get("/").headers["Location"] == "/account/two-factor"


def test_a_reopened_council_account_with_an_app_gives_its_code_first(
    client_for, client, session
) -> None:
    # A CAF officer who left, and whose account closed with no role left, is invited back.
    officer = user(session, "caf.rugby@council.example")
    officer.memberships = []
    officer.is_active = False
    session.commit()
    invite(
        client_for("la_admin"),
        email=officer.email,
        display_name="Rob Demo-Rugby",
        role="caf_officer",
        area=str(area_id(session, "north")),
    )
    [message] = mail_to(session, officer.email)
    response = set_password(client, link_in(message), NEW_PASSWORD)
    assert response.headers["Location"] == "/sign-in/code"
    assert device_cookie(response) is None
    # Nobody is signed in until the code from their app is given, as at sign-in.
    assert client.get("/").headers["Location"].startswith("/sign-in")
    code = enter_security_code(client)
    assert code.headers["Location"] == "/"
    assert device_cookie(code) is not None
    assert "CAF officer for the North area" in main_text(client.get("/"))


def test_an_invitation_link_works_once(client_for, client, app, session) -> None:
    invite_to_school(client_for("la_admin"), session, "nadia.new@oakfield.example")
    path = link_in(mail_to(session, "nadia.new@oakfield.example")[0])
    assert set_password(client, path, NEW_PASSWORD).status_code == 303

    again = client.get(path)
    assert again.status_code == 410
    assert page(again).h1.get_text(strip=True) == LINK_GONE
    assert "ask for a new invitation" in main_text(again).lower()
    replay = post_form(
        client, path, {"password": "another password", "confirm": "another password"}, "/"
    )
    assert replay.status_code == 410
    assert sign_in(app.test_client(), "nadia.new@oakfield.example", NEW_PASSWORD).status_code == 303


def test_an_invitation_link_expires(client_for, client, session, monkeypatch) -> None:
    invite_to_school(client_for("la_admin"), session, "nadia.new@oakfield.example")
    path = link_in(mail_to(session, "nadia.new@oakfield.example")[0])
    later = datetime.now(UTC) + timedelta(hours=48, minutes=1)
    monkeypatch.setattr("portal.accounts.tokens.utcnow", lambda: later)
    response = client.get(path)
    assert response.status_code == 410
    assert LINK_GONE in main_text(response)
    assert user_or_none(session, "nadia.new@oakfield.example") is None


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


def test_the_policy_speaks_beside_the_field(client_for, client, session) -> None:
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
    assert user_or_none(session, "nadia.new@oakfield.example") is None


def test_inviting_again_before_acceptance_sends_a_new_link(client_for, client, session) -> None:
    admin = client_for("la_admin")
    invite_to_school(admin, session, "nadia.new@oakfield.example")
    invite_to_school(admin, session, "nadia.new@oakfield.example")
    first, second = mail_to(session, "nadia.new@oakfield.example")
    assert client.get(link_in(first)).status_code == 410
    assert client.get(link_in(second)).status_code == 200
    assert offers_to(session, "nadia.new@oakfield.example") == [
        (Role.SCHOOL_STAFF, "Oakfield Primary School")
    ]


# --- inviting someone who already has an account ---------------------------------------------

ADMIN, RIVERSIDE_HEAD = "admin@council.example", "head@riverside.example"
TYPED = "Nadia Typed-Name"


def invite_as_staff(head: FlaskClient, session, email: str, name: str = TYPED):
    return invite(
        head,
        email=email,
        display_name=name,
        role="school_staff",
        school=str(school_id(session, OAKFIELD)),
    )


def rows(response) -> list[list[str]]:
    return [
        [cell.get_text(" ", strip=True) for cell in row.select("td")]
        for row in page(response).select("tbody tr")
    ]


def summary(response) -> dict[str, str]:
    found = page(response)
    return {
        row.select_one(".govuk-summary-list__key").get_text(strip=True): row.select_one(
            ".govuk-summary-list__value"
        ).get_text(" ", strip=True)
        for row in found.select(".govuk-summary-list__row")
    }


def row_link(response, email: str) -> str:
    """Where the list's row for ``email`` leads."""
    [row] = [r for r in page(response).select("tbody tr") if email in r.get_text()]
    return row.select_one("a")["href"]


@pytest.mark.parametrize("email", [ADMIN, RIVERSIDE_HEAD])
def test_inviting_an_existing_account_gives_it_nothing_and_shows_nothing_of_it(
    client_for, session, email: str
) -> None:
    owner = user(session, email)
    real_name = owner.display_name
    owner.last_signed_in_at = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    session.commit()
    roles_before = roles_of(session, email)
    owner_browser = client_for(email)
    oakfield = school_id(session, OAKFIELD)
    sees_oakfield = owner_browser.get(f"/schools/{oakfield}").status_code

    head = client_for("head_teacher")
    response = invite_as_staff(head, session, email.upper())
    assert response.status_code == 303
    # Nothing is theirs until they accept: not the role, nor the school's records.
    assert roles_of(session, email) == roles_before
    assert offers_to(session, email) == [(Role.SCHOOL_STAFF, "Oakfield Primary School")]
    assert owner_browser.get(f"/schools/{oakfield}").status_code == sees_oakfield
    # A head teacher elsewhere still manages none of Oakfield's staff.
    oakfield_staff = "staff@oakfield.example" in main_text(owner_browser.get("/users/?q=oakfield"))
    assert oakfield_staff == (email == ADMIN)

    listing = head.get("/users/")
    assert banner(listing) == "Success " + INVITED.format(email=email)
    [row] = [r for r in rows(listing) if email in r[0]]
    assert row == [f"{TYPED} {email}", "School staff, Oakfield Primary School", "Invited"]
    detail = head.get(row_link(listing, email))
    assert summary(detail) == {
        "E-mail address": email,
        "Role": "School staff, Oakfield Primary School",
        "Status": "Invited",
    }
    for seen in (listing, detail, head.get(f"/users/?q={email}")):
        text = main_text(seen)
        assert real_name not in text
        assert "Last signed in" not in text
        assert "2026" not in text
        assert "Riverside" not in text
        assert "Council administrator" not in text
    # Nor can the school reach the account itself.
    assert head.get(f"/users/{owner.id}").status_code == 404


def _as_the_school_sees_it(head: FlaskClient, session, email: str) -> list[object]:
    response = invite_as_staff(head, session, email)
    listing = head.get("/users/")
    [row] = [r for r in rows(listing) if email in r[0]]
    path = row_link(listing, email)
    detail = head.get(path)
    seen = [
        response.status_code,
        response.headers["Location"],
        banner(listing),
        row,
        re.sub(r"\d+", "N", path),
        main_text(detail),
        [b.get_text(strip=True) for b in page(detail).select("main button")],
        [a["href"] for a in page(detail).select("main a")],
    ]
    return [str(item).replace(email, "ADDRESS") for item in seen]


@pytest.mark.parametrize(
    "email", [account for account in ROLE_ACCOUNTS.values() if account != "head@oakfield.example"]
)
def test_an_invitation_answers_the_same_whether_or_not_the_address_has_an_account(
    client_for, session, email: str
) -> None:
    head = client_for("head_teacher")
    if email == "staff@oakfield.example":
        # Oakfield's own staff are on its list already; as someone who has left, they are not.
        give_role(session, email, HARTSHILL)
        staff = user(session, email)
        staff.memberships = [m for m in staff.memberships if m.school.urn != OAKFIELD]
        session.commit()
    existing = _as_the_school_sees_it(head, session, email)
    new = _as_the_school_sees_it(head, session, "nobody.yet@oakfield.example")
    assert existing == new


def test_the_search_finds_an_invitation_by_the_name_typed_not_the_accounts(
    client_for, session
) -> None:
    head = client_for("head_teacher")
    invite_as_staff(head, session, ADMIN, name="Zed Typed")
    assert rows(head.get("/users/?q=Zed"))[0][0] == f"Zed Typed {ADMIN}"
    assert rows(head.get("/users/?q=Alex")) == []
    assert rows(head.get("/users/?q=Demo-Admin")) == []


def invitation_link(session, email: str) -> str:
    return link_in(mail_to(session, email)[-1])


def test_the_owner_signs_in_and_accepts_and_then_has_the_role(app, client_for, session) -> None:
    head = client_for("head_teacher")
    invite_as_staff(head, session, RIVERSIDE_HEAD)
    [message] = mail_to(session, RIVERSIDE_HEAD)
    assert message.subject == "You have been invited to a new role in the Schools Partner Portal"
    body = " ".join(message.body.split())
    assert "Hannah Demo-Head (head@oakfield.example) has invited you to a new role" in body
    assert "School staff, Oakfield Primary School" in body
    assert "Nothing changes unless you accept" in body
    link = link_in(message)

    # Not signed in: sign in first, then back to the link.
    browser = app.test_client()
    first = browser.get(link)
    assert first.status_code == 303
    assert first.headers["Location"] == f"/sign-in?next={link}"
    signed_in = post_form(
        browser,
        first.headers["Location"],
        {"email": RIVERSIDE_HEAD, "password": DEMO_PASSWORD},
    )
    assert signed_in.headers["Location"] == link
    question = browser.get(link)
    assert question.status_code == 200
    assert question.headers["Cache-Control"] == "no-store"
    assert page(question).h1.get_text(strip=True) == "You have been invited to a new role"
    assert (
        "Hannah Demo-Head (head@oakfield.example) has invited you to be School staff, "
        "Oakfield Primary School" in main_text(question)
    )
    assert roles_of(session, RIVERSIDE_HEAD) == [(Role.HEAD_TEACHER, "Riverside Academy")]

    accepted = post_form(browser, link, {})
    assert accepted.status_code == 303
    assert accepted.headers["Location"] == "/"
    assert "You are now School staff, Oakfield Primary School" in banner(browser.get("/"))
    assert roles_of(session, RIVERSIDE_HEAD) == [
        (Role.HEAD_TEACHER, "Riverside Academy"),
        (Role.SCHOOL_STAFF, "Oakfield Primary School"),
    ]
    assert offers_to(session, RIVERSIDE_HEAD) == []
    assert browser.get(f"/schools/{school_id(session, OAKFIELD)}").status_code == 200
    assert "account.invitation_accepted" in actions(session, user(session, RIVERSIDE_HEAD))

    # The school now sees its new member of staff: their own name, and only its own role.
    [row] = [r for r in rows(head.get("/users/")) if RIVERSIDE_HEAD in r[0]]
    assert row == [
        f"Ravi Demo-Head {RIVERSIDE_HEAD}",
        "School staff, Oakfield Primary School",
        "Active",
    ]
    # The link worked once.
    assert browser.get(link).status_code == 410


def test_accepting_while_signed_in_goes_on_in_a_fresh_session(client_for, session) -> None:
    invite_as_staff(client_for("head_teacher"), session, RIVERSIDE_HEAD)
    link = invitation_link(session, RIVERSIDE_HEAD)
    owner = client_for(RIVERSIDE_HEAD)
    with owner.session_transaction() as stored:
        stored["left_behind"] = "from before the new role"
        signed_in_at = stored[SIGNED_IN_AT]

    accepted = post_form(owner, link, {})
    assert accepted.headers["Location"] == "/"
    with owner.session_transaction() as stored:
        # A new session for the new role; the sign-in it came from is still the one it was.
        assert "left_behind" not in stored
        assert stored[SIGNED_IN_AT] == signed_in_at
    assert "You are now School staff, Oakfield Primary School" in banner(owner.get("/"))


def council_role_for(client_for, session, email: str) -> str:
    """The council invites the owner of ``email`` to be a CAF officer; the link."""
    invite(
        client_for("la_admin"),
        email=email,
        display_name="Typed By The Council",
        role="caf_officer",
        area=str(area_id(session, "north")),
    )
    return invitation_link(session, email)


def test_a_council_role_accepted_while_signed_in_needs_its_app_set_up(client_for, session) -> None:
    link = council_role_for(client_for, session, RIVERSIDE_HEAD)
    owner = client_for(RIVERSIDE_HEAD)
    accepted = post_form(owner, link, {})
    assert accepted.headers["Location"] == "/account/two-factor"
    assert "Your role needs an authenticator app" in banner(owner.get("/account/two-factor"))
    assert owner.get("/").headers["Location"] == "/account/two-factor"


def test_a_council_role_accepted_while_signed_in_asks_for_the_apps_code(
    client_for, session
) -> None:
    # Someone with an app already (from a council role they once had), signed in without it.
    owner_account = user(session, RIVERSIDE_HEAD)
    owner_account.totp_secret = DEMO_TOTP_SECRET
    owner_account.totp_enabled_at = datetime.now(UTC)
    session.commit()
    link = council_role_for(client_for, session, RIVERSIDE_HEAD)
    owner = client_for(RIVERSIDE_HEAD)
    accepted = post_form(owner, link, {})
    assert accepted.headers["Location"] == "/sign-in/code"
    assert owner.get("/").headers["Location"].startswith("/sign-in")
    assert enter_security_code(owner).headers["Location"] == "/"
    assert "CAF officer for the North area" in main_text(owner.get("/"))


def test_declining_adds_nothing_and_the_inviter_sees_it(client_for, session) -> None:
    head = client_for("head_teacher")
    invite_as_staff(head, session, RIVERSIDE_HEAD)
    link = invitation_link(session, RIVERSIDE_HEAD)
    owner = client_for(RIVERSIDE_HEAD)
    declined = post_form(owner, link.replace("/accept/", "/decline/"), {}, link)
    assert declined.status_code == 303
    assert "You have declined the invitation" in banner(owner.get(declined.headers["Location"]))
    assert roles_of(session, RIVERSIDE_HEAD) == [(Role.HEAD_TEACHER, "Riverside Academy")]
    assert owner.get(f"/schools/{school_id(session, OAKFIELD)}").status_code == 404
    assert invitation_events(session, RIVERSIDE_HEAD) == [
        "account.invited",
        "account.invitation_declined",
    ]
    [row] = [r for r in rows(head.get("/users/")) if RIVERSIDE_HEAD in r[0]]
    assert row[2] == "Declined"
    assert owner.get(link).status_code == 410


def test_someone_else_signed_in_cannot_answer(client_for, session) -> None:
    invite_as_staff(client_for("head_teacher"), session, RIVERSIDE_HEAD)
    link = invitation_link(session, RIVERSIDE_HEAD)
    other = client_for("school_staff")
    refused = other.get(link)
    assert refused.status_code == 403
    assert page(refused).h1.get_text(strip=True) == "This invitation is for someone else"
    assert "You are signed in as staff@oakfield.example" in main_text(refused)
    assert RIVERSIDE_HEAD not in main_text(refused)
    for path in (link, link.replace("/accept/", "/decline/")):
        assert post_form(other, path, {}, "/").status_code == 403
    assert offers_to(session, RIVERSIDE_HEAD) == [(Role.SCHOOL_STAFF, "Oakfield Primary School")]
    assert roles_of(session, RIVERSIDE_HEAD) == [(Role.HEAD_TEACHER, "Riverside Academy")]
    # The link is still the owner's to use.
    owner = client_for(RIVERSIDE_HEAD)
    assert post_form(owner, link, {}).status_code == 303
    assert (Role.SCHOOL_STAFF, "Oakfield Primary School") in roles_of(session, RIVERSIDE_HEAD)


def test_an_expired_or_withdrawn_invitation_link_is_gone(client_for, session, monkeypatch) -> None:
    head = client_for("head_teacher")
    owner = client_for(RIVERSIDE_HEAD)
    invite_as_staff(head, session, RIVERSIDE_HEAD)
    link = invitation_link(session, RIVERSIDE_HEAD)
    later = datetime.now(UTC) + timedelta(hours=48, minutes=1)
    with monkeypatch.context() as clock:
        clock.setattr("portal.accounts.tokens.utcnow", lambda: later)
        assert owner.get(link).status_code == 410
        assert post_form(owner, link, {}, "/").status_code == 410
        [row] = [r for r in rows(head.get("/users/")) if RIVERSIDE_HEAD in r[0]]
        assert row[2] == "Invitation expired"

    invite_as_staff(head, session, RIVERSIDE_HEAD)
    link = invitation_link(session, RIVERSIDE_HEAD)
    listing = head.get("/users/")
    detail = row_link(listing, RIVERSIDE_HEAD)
    withdrawn = post_form(head, f"{detail}/withdraw", {}, detail)
    assert withdrawn.status_code == 303
    assert withdrawn.headers["Location"] == "/users/"
    after = head.get("/users/")
    assert f"The invitation to {TYPED} ({RIVERSIDE_HEAD}) has been withdrawn." in banner(after)
    assert not [r for r in rows(after) if RIVERSIDE_HEAD in r[0]]
    assert head.get(detail).status_code == 404
    assert owner.get(link).status_code == 410
    assert post_form(owner, link, {}, "/").status_code == 410
    assert roles_of(session, RIVERSIDE_HEAD) == [(Role.HEAD_TEACHER, "Riverside Academy")]
    assert invitation_events(session, RIVERSIDE_HEAD)[-1] == "account.invitation_withdrawn"


def test_another_schools_invitations_are_not_found(client_for, session) -> None:
    invite_as_staff(client_for("head_teacher"), session, "nadia.new@oakfield.example")
    [offer] = invitations_to(session, "nadia.new@oakfield.example")
    path = f"/users/invitations/{offer.id}"
    assert client_for("la_admin").get(path).status_code == 200
    for role in ("academy_head", "trust_lead"):
        other = client_for(role)
        assert other.get(path).status_code == 404
        assert post_form(other, f"{path}/withdraw", {}, "/").status_code == 404
        assert "nadia.new" not in main_text(other.get("/users/?q=nadia"))
    assert offers_to(session, "nadia.new@oakfield.example") != []


def test_someone_new_can_decline_from_the_page_that_sets_a_password(
    client_for, app, session
) -> None:
    head = client_for("head_teacher")
    invite_as_staff(head, session, "nadia.new@oakfield.example")
    link = invitation_link(session, "nadia.new@oakfield.example")
    browser = app.test_client()
    form = page(browser.get(link))
    assert form.h1.get_text(strip=True) == "Set your password"
    assert "Hannah Demo-Head (head@oakfield.example) has invited you to be School staff" in (
        form.select_one("main").get_text(" ", strip=True)
    )
    decline = form.find("button", string=re.compile("Decline the invitation"))
    assert decline.find_parent("form")["action"] == link.replace("/accept/", "/decline/")
    response = post_form(browser, link.replace("/accept/", "/decline/"), {}, link)
    assert response.status_code == 303
    assert "You have declined the invitation" in banner(browser.get(response.headers["Location"]))
    # Nothing is made for them: no account, no role.
    assert user_or_none(session, "nadia.new@oakfield.example") is None
    [row] = [r for r in rows(head.get("/users/")) if "nadia.new" in r[0]]
    assert row[2] == "Declined"
    assert browser.get(link).status_code == 410


def test_a_link_sent_before_invitations_waited_still_opens_its_account(client, session) -> None:
    """Migration 0012 keeps an invitation sent before it: the account it made, with the role
    given then, opens with the link as it did."""
    invited = User(
        email="early@oakfield.example",
        display_name="Early Invitee",
        password_hash="x",
        is_active=False,
    )
    invited.memberships.append(
        Membership(role=Role.SCHOOL_STAFF, school_id=school_id(session, OAKFIELD))
    )
    session.add(invited)
    session.flush()
    raw = "E" * 43
    session.add(
        AccountToken(
            user_id=invited.id,
            purpose=TokenPurpose.INVITATION,
            token_hash=hashlib.sha256(raw.encode()).hexdigest(),
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
    )
    session.commit()
    path = f"/account/accept/{raw}"
    assert page(client.get(path)).h1.get_text(strip=True) == "Set your password"
    assert set_password(client, path, NEW_PASSWORD).status_code == 303
    assert user(session, "early@oakfield.example").is_active
    assert roles_of(session, "early@oakfield.example") == [
        (Role.SCHOOL_STAFF, "Oakfield Primary School")
    ]
    assert client.get(path).status_code == 410


def test_an_administrator_invites_anyone_to_any_organisation(client_for, session) -> None:
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
        email: offers_to(session, email)
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


def test_the_invite_form_explains_each_mistake(client_for) -> None:
    response = invite(client_for("la_admin"), email="not-an-address")
    assert response.status_code == 200
    assert error_summary(response) == [
        "Enter an e-mail address in the correct format, like name@school.example",
        "Enter their full name",
        "Choose their role",
    ]
    assert "Enter their full name" in field_error(response, "display_name")


def test_a_head_teacher_invites_only_to_their_own_school(client_for, session) -> None:
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
    assert offers_to(session, "nadia.new@hartshill.example") == []
    assert offers_to(session, "boss@oakfield.example") == []

    assert (
        invite_to_school(head, session, "deputy@oakfield.example", role="head_teacher").status_code
        == 303
    )
    assert offers_to(session, "deputy@oakfield.example") == [
        (Role.HEAD_TEACHER, "Oakfield Primary School")
    ]


def test_a_trust_lead_invites_to_the_trusts_academies_only(client_for, session) -> None:
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
    assert offers_to(session, "new@meadows.example") == [
        (Role.SCHOOL_STAFF, "Atherstone Meadows Primary School")
    ]
    refused = invite_to_school(lead, session, "new@oakfield.example", urn=OAKFIELD)
    assert error_summary(refused) == ["Choose their school"]
    assert offers_to(session, "new@oakfield.example") == []


def test_a_training_coordinator_is_invited_by_the_council_alone_as_the_councils(
    client_for, client, session
) -> None:
    admin = client_for("la_admin")
    form = page(admin.get("/users/invite"))
    offered = {
        label.get_text(strip=True): form.select_one(f"#{label['for']}")["value"]
        for label in form.select(".govuk-radios__label")
    }
    assert offered["Training coordinator"] == "training_coordinator"
    # Whatever organisation the form also sends, the role is the council's.
    sent = invite(
        admin,
        email="tia.new@council.example",
        display_name="Tia Demo-Training",
        role="training_coordinator",
        school=str(school_id(session, OAKFIELD)),
        area=str(area_id(session, "north")),
    )
    assert sent.status_code == 303
    assert offers_to(session, "tia.new@council.example") == [
        (Role.TRAINING_COORDINATOR, "the council")
    ]
    # A council role: their authenticator app comes before anything else.
    response = set_password(
        client, link_in(mail_to(session, "tia.new@council.example")[0]), NEW_PASSWORD
    )
    assert response.headers["Location"] == "/account/two-factor"
    assert banner(client.get("/account/two-factor")) == (
        "Success Your account is ready. You are now Training coordinator, Arden County Council. "
        "Your role needs an authenticator app: set one up to carry on."
    )
    assert roles_of(session, "tia.new@council.example") == [
        (Role.TRAINING_COORDINATOR, "the council")
    ]

    # A school's leaders give only school roles.
    for leader in ("head_teacher", "trust_lead"):
        refused = invite(
            client_for(leader),
            email="not.ours@council.example",
            display_name="N",
            role="training_coordinator",
            school=str(school_id(session, OAKFIELD)),
        )
        assert error_summary(refused) == ["Choose their role"]
    assert offers_to(session, "not.ours@council.example") == []


# --- forgotten passwords ---------------------------------------------------------------------


def forgot(client: FlaskClient, email: str):
    return post_form(client, "/account/forgot", {"email": email})


def test_the_sign_in_page_offers_a_reset(client: FlaskClient) -> None:
    link = page(client.get("/sign-in")).find("a", string="Forgotten your password?")
    assert link["href"] == "/account/forgot"


def test_forgotten_password_answers_the_same_for_any_address(app, session) -> None:
    known = forgot(app.test_client(), "staff@oakfield.example")
    unknown = forgot(app.test_client(), "nobody@oakfield.example")
    assert known.status_code == unknown.status_code == 200
    assert main_text(known) == main_text(unknown)
    assert page(known).h1.get_text(strip=True) == "Check your e-mail"

    [message] = mail_to(session, "staff@oakfield.example")
    assert message.subject == "Reset your password for the Schools Partner Portal"
    assert "2 hours" in message.body
    assert mail_to(session, "nobody@oakfield.example") == []


def test_a_deactivated_account_gets_no_reset(app, session) -> None:
    user(session, "staff@oakfield.example").is_active = False
    session.commit()
    response = forgot(app.test_client(), "staff@oakfield.example")
    assert response.status_code == 200
    assert mail_to(session, "staff@oakfield.example") == []


def test_resets_to_one_address_are_limited_per_hour(client: FlaskClient, session) -> None:
    for _ in range(5):
        assert forgot(client, "staff@oakfield.example").status_code == 200
    assert len(mail_to(session, "staff@oakfield.example")) == 3


def test_the_forgotten_password_form_explains_mistakes(client: FlaskClient) -> None:
    response = forgot(client, "")
    assert error_summary(response) == ["Enter your e-mail address"]
    assert "Enter your e-mail address" in field_error(response, "email")


def test_a_reset_sets_the_password_and_ends_every_session(app, client_for, session) -> None:
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


def test_a_reset_link_expires(client: FlaskClient, session) -> None:
    forgot(client, "staff@oakfield.example")
    path = link_in(mail_to(session, "staff@oakfield.example")[0])
    session.expire_all()
    for token in session.scalars(select(AccountToken)):
        token.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    session.commit()
    response = client.get(path)
    assert response.status_code == 410
    assert "Ask for a new link" in main_text(response)


def test_asking_for_a_reset_is_rate_limited(make_app) -> None:
    client = make_app(FORGOT_PASSWORD_RATE_LIMIT="2 per minute").test_client()
    # Empty forms: counted all the same, and nothing is written to the shared database.
    for _ in range(2):
        assert forgot(client, "").status_code == 200
    assert forgot(client, "").status_code == 429
    assert client.get("/account/forgot").status_code == 200


# --- changing a password ---------------------------------------------------------------------


def change(client: FlaskClient, current: str, new: str, confirm: str | None = None):
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
) -> None:
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


def test_changing_needs_the_current_password_and_a_good_new_one(client_for, session) -> None:
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


def listed(response) -> list[str]:
    return [
        row.select_one("td .govuk-body-s").get_text(strip=True)
        for row in page(response).select("tbody tr")
    ]


def demo_invitations(session) -> int:
    """The invitations the demo has waiting (one, for a head teacher's home page to show)."""
    return int(session.scalar(select(func.count(MembershipInvitation.id))) or 0)


def test_an_administrator_sees_everyone_and_searches(client_for, session) -> None:
    admin = client_for("la_admin")
    everyone = admin.get("/users/")
    # Every account the demo has (portal_seed/demo/), however many it grows to, and the
    # invitations it has waiting.
    total = session.scalar(select(func.count(User.id))) + demo_invitations(session)
    assert f"Showing 1 to {total} of {total} users" in main_text(everyone)
    found = admin.get("/users/?q=OAKFIELD")
    assert sorted(listed(found)) == ["head@oakfield.example", "staff@oakfield.example"]
    fragment = admin.get("/users/?q=trust", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert listed(fragment) == ["trust@meadowtrust.example"]
    assert "No users match your search for “100%”" in main_text(admin.get("/users/?q=100%25"))


def test_the_council_sees_invitations_beside_people(client_for, session) -> None:
    waiting = demo_invitations(session)
    invite_as_staff(client_for("head_teacher"), session, RIVERSIDE_HEAD)
    invite_as_staff(client_for("head_teacher"), session, "nadia.new@oakfield.example")
    admin = client_for("la_admin")
    listing = admin.get("/users/")
    # Every account, and the two invitations beside the demo's.
    total = session.scalar(select(func.count(User.id))) + waiting + 2
    assert f"Showing 1 to {total} of {total} users" in main_text(listing)
    invited = [r for r in rows(listing) if r[0].startswith(TYPED)]
    assert sorted(r[0] for r in invited) == [
        f"{TYPED} {RIVERSIDE_HEAD}",
        f"{TYPED} nadia.new@oakfield.example",
    ]
    # The council sees everything, as before: the account an invitation went to too.
    [offer] = invitations_to(session, RIVERSIDE_HEAD)
    detail = admin.get(f"/users/invitations/{offer.id}")
    account = page(detail).find("a", string="The account it was sent to")
    assert account["href"] == f"/users/{user(session, RIVERSIDE_HEAD).id}"


def test_a_school_sees_only_name_address_role_and_status(client_for, session) -> None:
    staff = user(session, "staff@oakfield.example")
    staff.last_signed_in_at = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    session.commit()
    head = client_for("head_teacher")
    response = head.get("/users/")
    assert sorted(listed(response)) == ["head@oakfield.example", "staff@oakfield.example"]
    headers = [th.get_text(strip=True) for th in page(response).select("thead th")]
    assert headers == ["Name", "Role", "Status"]
    [row] = [r for r in rows(response) if "staff@" in r[0]]
    assert row == [
        "Sol Demo-Staff staff@oakfield.example",
        "School staff, Oakfield Primary School",
        "Active",
    ]
    detail = head.get(f"/users/{staff.id}")
    assert summary(detail) == {
        "E-mail address": "staff@oakfield.example",
        "Role": "School staff, Oakfield Primary School",
        "Status": "Active",
    }
    for seen in (response, detail):
        assert "2026" not in main_text(seen)

    # The council sees what it saw before.
    admin = client_for("la_admin")
    council_list = admin.get("/users/?q=staff@oakfield")
    assert [th.get_text(strip=True) for th in page(council_list).select("thead th")] == [
        "Name",
        "Role",
        "Status",
        "Last signed in",
    ]
    assert rows(council_list)[0][3] == "1 July 2026 at 1:00pm"
    assert list(summary(admin.get(f"/users/{staff.id}"))) == [
        "E-mail address",
        "Role",
        "Status",
        "Last signed in",
        "Account created",
    ]
    officer = user(session, "caf.north@council.example")
    assert "Authenticator app" in summary(admin.get(f"/users/{officer.id}"))


def test_a_school_is_told_nothing_of_roles_elsewhere(client_for, session) -> None:
    head = client_for("head_teacher")
    staff = user(session, "staff@oakfield.example")
    path = f"/users/{staff.id}"
    before = (main_text(head.get("/users/")), main_text(head.get(path)))
    give_role(session, "staff@oakfield.example", RIVERSIDE)
    after = (main_text(head.get("/users/")), main_text(head.get(path)))
    # Not the role, nor that there is one: the page and its one action are the same.
    assert after == before
    assert "Riverside" not in after[1]
    assert [b.get_text(strip=True) for b in page(head.get(path)).select("main button")] == [
        "Remove from your schools"
    ]


def test_a_trust_lead_sees_their_academies_staff(client_for, session) -> None:
    lead = client_for("trust_lead")
    assert listed(lead.get("/users/")) == ["head@riverside.example"]
    oakfield_staff = user(session, "staff@oakfield.example")
    assert lead.get(f"/users/{oakfield_staff.id}").status_code == 404
    assert post_form(lead, f"/users/{oakfield_staff.id}/remove", {}, "/").status_code == 404


def test_removing_someone_who_works_only_here_closes_their_account(
    client_for, app, session
) -> None:
    staff_browser = client_for("school_staff")
    head = client_for("head_teacher")
    staff = user(session, "staff@oakfield.example")
    path = f"/users/{staff.id}"
    response = post_form(head, f"{path}/remove", {}, path)
    assert response.status_code == 303
    assert response.headers["Location"] == "/users/"
    after = head.get("/users/")
    assert "Sol Demo-Staff no longer has access to your schools." in banner(after)
    assert "staff@oakfield.example" not in listed(after)
    assert head.get(path).status_code == 404
    closed = user(session, "staff@oakfield.example")
    assert (closed.memberships, closed.is_active) == ([], False)
    assert staff_browser.get("/").status_code == 302
    assert sign_in(app.test_client(), "staff@oakfield.example").status_code == 200
    assert [a for a in actions(session, staff) if a.startswith("account.")] == [
        "account.membership_removed",
        "account.deactivated",
    ]

    # Invited back, they choose a password with the link (they cannot sign in to accept).
    invite_as_staff(head, session, "staff@oakfield.example")
    [message] = [m for m in mail_to(session, "staff@oakfield.example") if "invited" in m.subject]
    assert message.subject == "You have been invited to the Schools Partner Portal"
    browser = app.test_client()
    assert set_password(browser, link_in(message), NEW_PASSWORD).status_code == 303
    # And are signed in with it.
    assert browser.get("/").status_code == 200
    assert sign_in(app.test_client(), "staff@oakfield.example", NEW_PASSWORD).status_code == 303
    assert roles_of(session, "staff@oakfield.example") == [
        (Role.SCHOOL_STAFF, "Oakfield Primary School")
    ]


def test_a_head_teacher_removes_only_their_schools_roles(client_for, session) -> None:
    give_role(session, "staff@oakfield.example", RIVERSIDE)
    head = client_for("head_teacher")
    staff = user(session, "staff@oakfield.example")
    path = f"/users/{staff.id}"
    response = post_form(head, f"{path}/remove", {}, path)
    assert response.headers["Location"] == "/users/"
    assert "Sol Demo-Staff no longer has access to your schools." in banner(head.get("/users/"))
    staff = user(session, "staff@oakfield.example")
    assert staff.is_active
    assert [m.school.urn for m in staff.memberships] == [RIVERSIDE]
    assert head.get(path).status_code == 404


def test_a_head_teacher_cannot_remove_themselves(client_for, session) -> None:
    head = client_for("head_teacher")
    me = user(session, "head@oakfield.example")
    path = f"/users/{me.id}"
    assert page(head.get(path)).select("main button") == []
    response = post_form(head, f"{path}/remove", {}, path)
    assert response.status_code == 303
    assert "You cannot remove yourself from your schools" in banner(head.get(path))
    assert roles_of(session, "head@oakfield.example") == [
        (Role.HEAD_TEACHER, "Oakfield Primary School")
    ]
    assert head.get("/").status_code == 200


def test_only_the_council_deactivates_and_reactivates_accounts(client_for, app, session) -> None:
    staff_browser = client_for("school_staff")
    staff = user(session, "staff@oakfield.example")
    path = f"/users/{staff.id}"
    head = client_for("head_teacher")
    for action in ("deactivate", "reactivate"):
        assert post_form(head, f"{path}/{action}", {}, path).status_code == 403

    admin = client_for("la_admin")
    assert "Deactivate account" in main_text(admin.get(path))
    response = post_form(admin, f"{path}/deactivate", {}, path)
    assert response.status_code == 303
    assert response.headers["Location"] == path
    after = admin.get(path)
    assert "Sol Demo-Staff's account has been deactivated and signed out." in banner(after)
    assert "Deactivated" in main_text(after)
    assert staff_browser.get("/").status_code == 302
    assert sign_in(app.test_client(), "staff@oakfield.example").status_code == 200
    # Still on the school's list, as someone who cannot sign in.
    [row] = [r for r in rows(head.get("/users/")) if "staff@" in r[0]]
    assert row[2] == "Deactivated"

    assert post_form(admin, f"{path}/reactivate", {}, path).status_code == 303
    assert user(session, "staff@oakfield.example").is_active
    assert sign_in(app.test_client(), "staff@oakfield.example").status_code == 303
    assert [a for a in actions(session, staff) if a.startswith("account.")] == [
        "account.deactivated",
        "account.reactivated",
    ]


def test_an_administrator_cannot_deactivate_themselves(client_for, session) -> None:
    admin = client_for("la_admin")
    me = user(session, "admin@council.example")
    path = f"/users/{me.id}"
    assert "Deactivate account" not in main_text(admin.get(path))
    response = post_form(admin, f"{path}/deactivate", {}, path)
    assert response.status_code == 303
    assert "You cannot deactivate your own account" in banner(admin.get(path))
    assert user(session, "admin@council.example").is_active


def test_another_schools_staff_are_not_found(client_for, session) -> None:
    head = client_for("head_teacher")
    other = user(session, "head@riverside.example")
    assert head.get(f"/users/{other.id}").status_code == 404
    response = post_form(head, f"/users/{other.id}/remove", {}, "/")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert user(session, "head@riverside.example").memberships != []


def test_withdrawing_an_invitation_stops_its_link(client_for, client, session) -> None:
    head = client_for("head_teacher")
    invite_to_school(head, session, "nadia.new@oakfield.example")
    link = link_in(mail_to(session, "nadia.new@oakfield.example")[0])
    listing = head.get("/users/")
    [row] = [r for r in rows(listing) if "nadia.new" in r[0]]
    assert row[2] == "Invited"
    path = row_link(listing, "nadia.new@oakfield.example")
    assert post_form(head, f"{path}/withdraw", {}, path).status_code == 303
    assert client.get(link).status_code == 410
    assert head.get(path).status_code == 404
    assert invitations_to(session, "nadia.new@oakfield.example") == []


# --- a lost authenticator app ----------------------------------------------------------------

OFFICER = "caf.north@council.example"


def test_an_administrator_resets_a_lost_authenticator_app(client_for, app, session) -> None:
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


def test_only_an_authenticator_app_someone_else_has_can_be_reset(client_for, session) -> None:
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


# --- accounts locked by failed sign-ins --------------------------------------------------------

STAFF = "staff@oakfield.example"
# A browser the account does not know, at an address of its own.
NEW_BROWSER = {"REMOTE_ADDR": "198.51.100.17"}


def locked_by_a_stranger(app, session, email: str) -> str:
    """Lock browsers the account does not know out of it, as a stranger's guesses do; the
    lock's end as the page shows it."""
    stranger_locks(app, email)
    until = user(session, email).locked_until
    assert until is not None
    return f"Locked until {london_time(until)}"


def buttons(response) -> list[str]:
    return [b.get_text(strip=True) for b in page(response).select("main button")]


def unlocked_mail(session, email: str) -> list[OutboxMessage]:
    return [m for m in mail_to(session, email) if m.subject.endswith("has been unlocked")]


@pytest.mark.usefixtures("fresh")
@pytest.mark.parametrize("manager", ["head_teacher", "la_admin"])
def test_a_locked_account_says_until_when_on_the_list_and_its_page(
    app, client_for, session, manager: str
) -> None:
    shown = locked_by_a_stranger(app, session, STAFF)
    browser = client_for(manager)
    listing = browser.get(f"/users/?q={STAFF}")
    [row] = [r for r in rows(listing) if STAFF in r[0]]
    assert row[2] == shown
    detail = browser.get(row_link(listing, STAFF))
    assert summary(detail)["Status"] == shown
    assert "Unlock account" in buttons(detail)
    # Only the lock on browsers the account does not know is the account's: the owner's own
    # browser still signs in, and the page says so.
    assert "can sign in only from a browser they have signed in with before" in main_text(detail)


@pytest.mark.usefixtures("fresh")
@pytest.mark.parametrize("manager", ["head_teacher", "la_admin"])
def test_unlocking_lets_a_browser_the_account_does_not_know_sign_in_again(
    app, client_for, session, manager: str
) -> None:
    locked_by_a_stranger(app, session, STAFF)
    refused = password_step(app.test_client(), STAFF, environ_base=NEW_BROWSER)
    assert error_summary(refused) == [GENERIC_FAILURE]

    browser = client_for(manager)
    staff = user(session, STAFF)
    path = f"/users/{staff.id}"
    response = post_form(browser, f"{path}/unlock", {}, path)
    assert response.status_code == 303
    assert response.headers["Location"] == path
    after = browser.get(path)
    assert banner(after) == (
        "Success Sol Demo-Staff's account is unlocked: they can sign in from any browser "
        "again. We have e-mailed them to say so."
    )
    assert summary(after)["Status"] == "Active"
    assert "Unlock account" not in buttons(after)

    # A browser the account does not know signs in with the password again.
    signed_in = password_step(app.test_client(), STAFF, environ_base=NEW_BROWSER)
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"] == "/"
    unlocked = user(session, STAFF)
    assert (unlocked.failed_sign_ins, unlocked.locked_until) == (0, None)

    # Audited, and the owner told who did it, in case it was not they who asked.
    assert "account.unlocked" in actions(session, unlocked)
    [mail] = unlocked_mail(session, STAFF)
    body = " ".join(mail.body.split())
    manager_email = ROLE_ACCOUNTS[manager]
    assert f"({manager_email}) has now unlocked it" in body
    assert "you can sign in from any browser again" in body
    assert "/account/forgot" in body


@pytest.mark.usefixtures("fresh")
def test_another_schools_manager_cannot_see_or_unlock_a_locked_account(
    app, client_for, session
) -> None:
    locked_by_a_stranger(app, session, STAFF)
    staff = user(session, STAFF)
    for manager in ("academy_head", "trust_lead"):
        browser = client_for(manager)
        assert browser.get(f"/users/{staff.id}").status_code == 404
        response = post_form(browser, f"/users/{staff.id}/unlock", {}, "/")
        assert response.status_code == 404
        assert "Page not found" in response.get_data(as_text=True)
    for role in ("caf_officer", "publisher"):
        assert post_form(client_for(role), f"/users/{staff.id}/unlock", {}, "/").status_code == 403
    assert user(session, STAFF).locked_until is not None
    assert unlocked_mail(session, STAFF) == []


def _the_school_unlocks(head: FlaskClient, session, email: str) -> list[object]:
    """What Oakfield's head sees of ``email``'s locked account, and of unlocking it, with
    the person's name, address and lock time taken out."""
    account = user(session, email)
    shown = f"Locked until {london_time(account.locked_until)}"
    listing = head.get(f"/users/?q={email}")
    path = f"/users/{account.id}"
    detail = head.get(path)
    unlocked = post_form(head, f"{path}/unlock", {}, path)
    seen = [
        [r for r in rows(listing) if email in r[0]],
        main_text(detail),
        buttons(detail),
        unlocked.status_code,
        banner(head.get(path)),
    ]
    text = str(seen)
    for private in (account.display_name, email, shown, london_time(account.locked_until)):
        text = text.replace(private, "…")
    return [text.replace(str(account.id), "N")]


@pytest.mark.usefixtures("fresh")
@pytest.mark.parametrize("elsewhere", [RIVERSIDE_HEAD, ADMIN])
def test_unlocking_tells_a_school_nothing_of_the_persons_access_elsewhere(
    app, client_for, session, elsewhere: str
) -> None:
    # Someone who works only at Oakfield, and someone who is Oakfield staff and more besides
    # (a head teacher elsewhere, or a council administrator).
    give_role(session, elsewhere, OAKFIELD)
    head = client_for("head_teacher")
    for email in (STAFF, elsewhere):
        locked_by_a_stranger(app, session, email)
    only_here = _the_school_unlocks(head, session, STAFF)
    and_elsewhere = _the_school_unlocks(head, session, elsewhere)
    assert and_elsewhere == only_here
    for word in ("Riverside", "Council administrator", "authenticator app"):
        assert word not in str(and_elsewhere)
    assert user(session, elsewhere).locked_until is None


@pytest.mark.usefixtures("fresh")
def test_no_one_unlocks_their_own_account_here_nor_one_that_is_not_locked(
    app, client_for, session
) -> None:
    # The head's own browser is known to the account: it stays signed in through the lock.
    head = client_for("head_teacher")
    locked_by_a_stranger(app, session, HEAD)
    own = f"/users/{user(session, HEAD).id}"
    assert "Unlock account" not in buttons(head.get(own))
    assert post_form(head, f"{own}/unlock", {}, own).status_code == 303
    assert "You cannot unlock your own account: use the link we e-mailed you" in banner(
        head.get(own)
    )
    assert user(session, HEAD).locked_until is not None

    staff = f"/users/{user(session, STAFF).id}"
    assert "Unlock account" not in buttons(head.get(staff))
    assert post_form(head, f"{staff}/unlock", {}, staff).status_code == 303
    assert "Sol Demo-Staff's account is not locked" in banner(head.get(staff))
    assert unlocked_mail(session, STAFF) == []


def test_a_deactivated_account_is_deactivated_whatever_its_lock(client_for, session) -> None:
    account = user(session, RIVERSIDE_HEAD)
    account.locked_until = datetime.now(UTC) + timedelta(minutes=15)
    account.is_active = False
    session.commit()
    admin = client_for("la_admin")
    detail = admin.get(f"/users/{account.id}")
    assert summary(detail)["Status"] == "Deactivated"
    assert "Unlock account" not in buttons(detail)
