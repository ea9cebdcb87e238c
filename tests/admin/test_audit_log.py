"""The audit log: council administrators search it and download it."""

from __future__ import annotations

import ast
import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.admin.audit_words import KINDS, RECORDS, TOPICS
from portal.models import (
    Area,
    AuditEvent,
    BuybackChoice,
    BuybackWindow,
    Cohort,
    Contact,
    MembershipInvitation,
    PriceOption,
    RegisterImport,
    Role,
    School,
    Service,
    ServiceOffer,
    SupportRequest,
    Trust,
    User,
)
from tests.helpers.html import ok_soup as soup

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def rows(page: BeautifulSoup) -> list[list[str]]:
    return [
        [td.get_text(strip=True) for td in tr.select("td")]
        for tr in page.select("#results tbody tr")
    ]


def add_events(session) -> None:
    publisher = session.scalars(select(User).where(User.email == "publisher@council.example")).one()
    admin = session.scalars(select(User).where(User.email == "admin@council.example")).one()
    session.add_all(
        [
            AuditEvent(
                action="contact.updated",
                actor=publisher,
                subject_type="Contact",
                subject_id=7,
                occurred_at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC),
                detail={"changes": {"phone": ["a", "b"]}},
            ),
            AuditEvent(
                action="contact.retired",
                actor=publisher,
                subject_type="Contact",
                subject_id=99_998,  # since deleted
                occurred_at=datetime(2026, 7, 2, 9, 0, tzinfo=UTC),
                detail={"name": "=cmd()"},
            ),
            AuditEvent(
                action="offer.published",
                actor=admin,
                subject_type="ServiceOffer",
                subject_id=3,
                occurred_at=datetime(2026, 7, 2, 10, 0, tzinfo=UTC),
                detail={},
            ),
        ]
    )
    session.commit()


def test_search_by_user_kind_of_record_and_date(client_for, session) -> None:
    add_events(session)
    admin = client_for("la_admin")
    by_user = rows(soup(admin.get("/admin/audit?user=publisher&action=contact.")))
    assert [r[2] for r in by_user] == ["Contact retired", "Contact changed"]
    by_kind = rows(soup(admin.get("/admin/audit?subject_type=ServiceOffer")))
    assert [r[2] for r in by_kind] == ["Service offer published"]
    # 30 June 23:30 UTC is 1 July in London (summer time): a London date is what people mean.
    first_of_july = rows(
        soup(admin.get("/admin/audit?date_from=2026-07-01&date_to=2026-07-01&action=contact."))
    )
    assert [r[2] for r in first_of_july] == ["Contact changed"]


def test_a_bad_date_is_explained_not_an_error(client_for) -> None:
    page = soup(client_for("la_admin").get("/admin/audit?date_from=31/02/2026"))
    assert "Enter a real date, like 2026-11-22" in page.select_one("#date_from-error").get_text()


def test_the_log_downloads_as_csv_safe_for_spreadsheets(client_for, session) -> None:
    add_events(session)
    response = client_for("la_admin").get("/admin/audit.csv?action=contact.")
    assert response.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    header = table[0]
    assert header[:5] == ["When (UK time)", "Who", "E-mail", "What happened", "Record"]
    assert [row[3] for row in table[1:]] == ["Contact retired", "Contact changed"]
    # The codes stay beside the words, for whoever reads the file with a program.
    assert [row[header.index("Action code")] for row in table[1:]] == [
        "contact.retired",
        "contact.updated",
    ]
    assert table[2][0] == "2026-07-01 00:30:00"
    # JSON starts with "{": nothing to run.
    assert table[1][header.index("Detail")] == '{"name": "=cmd()"}'
    # A record that is gone is named from what the event kept of it, made safe too.
    assert table[1][4] == "Contact “=cmd()” (since removed)"


def test_htmx_search_swaps_only_the_results(client_for) -> None:
    html = (
        client_for("la_admin")
        .get("/admin/audit?action=auth.", headers={"HX-Request": "true"})
        .get_data(as_text=True)
    )
    assert "<html" not in html and "events" in html


# --- the log in plain words ---------------------------------------------------------------------


def _is_audit_record(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "record"
        and isinstance(func.value, ast.Name)
        and func.value.id == "audit"
    )


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def audit_kinds_in_the_code() -> tuple[set[str], list[str]]:
    """Every kind the portal records: the first argument of each ``audit.record(...)`` (a
    string, or a module's constant naming one), and of each call to a function that hands
    one of its parameters to it as the kind (such as ``end_session(user,
    "auth.session_expired")``). Also where a kind could not be read."""
    trees = {path: ast.parse(path.read_text(), str(path)) for path in sorted(PORTAL.rglob("*.py"))}
    kinds: set[str] = set()
    unreadable: list[str] = []
    relays: dict[str, int] = {}  # function name: which of its arguments is the kind
    for path, tree in trees.items():
        # A kind may be named once at the top of its module: SENT = "contact.letters_sent".
        constants = {
            target.id: statement.value.value
            for statement in tree.body
            if isinstance(statement, ast.Assign)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
            for target in statement.targets
            if isinstance(target, ast.Name)
        }
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            parameters = [argument.arg for argument in function.args.args]
            for call in ast.walk(function):
                if not (isinstance(call, ast.Call) and _is_audit_record(call)):
                    continue
                first = call.args[0] if call.args else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    kinds.add(first.value)
                elif isinstance(first, ast.Name) and first.id in constants:
                    kinds.add(constants[first.id])
                elif isinstance(first, ast.Name) and first.id in parameters:
                    relays[function.name] = parameters.index(first.id)
                else:
                    unreadable.append(f"{path.relative_to(PORTAL.parent)}:{call.lineno}")
    for path, tree in trees.items():
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and _called_name(call) in relays:
                position = relays[_called_name(call)]
                argument = call.args[position] if len(call.args) > position else None
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    kinds.add(argument.value)
                else:
                    unreadable.append(f"{path.relative_to(PORTAL.parent)}:{call.lineno}")
    return kinds, unreadable


def test_every_kind_of_event_the_portal_records_has_plain_words() -> None:
    kinds, unreadable = audit_kinds_in_the_code()
    assert not unreadable, f"audit.record calls whose kind is not written out: {unreadable}"
    # The finder finds: kinds from every part of the portal, and those passed on by a helper.
    assert {
        "auth.sign_in",
        "buyback.saved",
        "auth.session_expired",
        "contact.checked",
        "contact.letters_sent",
    } <= kinds
    unnamed = sorted(kinds - KINDS.keys())
    assert not unnamed, (
        f"kinds of audit event with no plain words in portal/admin/audit_words.py: {unnamed}"
    )
    no_topic = sorted(kind for kind in kinds if kind.partition(".")[0] not in TOPICS)
    assert not no_topic, f"kinds whose topic has no words in TOPICS: {no_topic}"


def test_the_filters_offer_plain_words_not_codes(client_for) -> None:
    page = soup(client_for("la_admin").get("/admin/audit?action=buyback.saved"))
    action = page.select_one("select#action")
    assert action.find_previous("label").get_text(strip=True) == "What happened"
    options = {o["value"]: o.get_text(strip=True) for o in action.select("option")}
    assert options["buyback.saved"] == "Buy-back choice saved"
    assert options["buyback."] == "Buy-back (all)"
    assert options["auth.sign_in"] == "Signed in"
    assert action.select_one("option[selected]")["value"] == "buyback.saved"
    kinds, _ = audit_kinds_in_the_code()
    assert kinds <= options.keys()
    codes = [text for text in options.values() if "." in text or "_" in text]
    assert codes == []
    records = {
        o["value"]: o.get_text(strip=True) for o in page.select("select#subject_type option")
    }
    assert records["BuybackChoice"] == "Buy-back choice"
    assert records["SupportRequest"] == "CAF request"
    assert records.keys() == {"", *RECORDS}


def test_a_kind_lists_only_that_kind_and_a_topic_every_kind_under_it(client_for, session) -> None:
    """ "Signed in" is not "Sign-in failed", though one code begins the other."""
    admin = client_for("la_admin")
    account = _one(session, User, User.email == "staff@oakfield.example")
    for action in ("auth.sign_in", "auth.sign_in_failed", "auth.sign_in_refused_locked"):
        session.add(AuditEvent(action=action, actor_id=account.id))
    session.commit()

    def kinds(query: str) -> set[str]:
        return {row[2] for row in rows(soup(admin.get(f"/admin/audit?user=Demo-Staff&{query}")))}

    assert kinds("action=auth.sign_in") == {"Signed in"}
    assert kinds("action=auth.") >= {
        "Signed in",
        "Sign-in failed",
        "Sign-in refused: account locked",
    }


def _event(session, action: str, subject: object, **detail: object) -> None:
    session.add(
        AuditEvent(
            action=action,
            subject_type=type(subject).__name__,
            subject_id=subject.id,
            detail=detail,
        )
    )


def _one(session, model, *conditions):
    return session.scalars(select(model).where(*conditions).order_by(model.id).limit(1)).one()


def test_each_record_is_named_as_people_know_it(client_for, session) -> None:
    oakfield = _one(session, School, School.urn == 125601)
    window = _one(
        session,
        BuybackWindow,
        BuybackWindow.year == 2027,
        BuybackWindow.cohort == Cohort.MAINTAINED,
    )
    choice = session.scalars(
        select(BuybackChoice).where(
            BuybackChoice.school_id == oakfield.id, BuybackChoice.window_id == window.id
        )
    ).one_or_none() or BuybackChoice(school=oakfield, window=window)
    session.add(choice)
    request = _one(session, SupportRequest)
    option = _one(session, PriceOption, PriceOption.offer.has(ServiceOffer.year == 2027))
    offer = option.offer
    service = offer.service
    head = _one(session, User, User.email == "head@oakfield.example")
    contact = _one(session, Contact, Contact.name == "Chris Demo-North")
    trust = _one(session, Trust)
    north = _one(session, Area, Area.code == "north")
    upload = RegisterImport(filename="edubasealldata20270102.csv", stored_path="")
    invitation = MembershipInvitation(
        email="jane.example@oakfield.example",
        invited_name="Jane Example",
        role=Role.SCHOOL_STAFF,
        school=oakfield,
    )
    session.add_all([upload, invitation])
    session.flush()
    expected = {
        "buyback.saved": (choice, "Oakfield Primary School's buy-back choice for 2027-28"),
        "support.updated": (request, f"CAF request {request.reference}"),
        "auth.sign_in": (head, "Hannah Demo-Head (user)"),
        "contact.checked": (contact, "Chris Demo-North (contact)"),
        "offer.published": (offer, f"{service.name}: the offer for 2027-28"),
        "price_option.updated": (option, f"{service.name}: price “{option.name}” for 2027-28"),
        "service.updated": (service, f"{service.name} (service)"),
        "buyback.window_opened": (window, "Buy-back window for 2027-28 (Maintained schools)"),
        "register.review_flagged": (oakfield, "Oakfield Primary School (school, URN 125601)"),
        "register.trust_renamed": (trust, f"{trust.name} (trust)"),
        "register.area_districts_changed": (north, "North area"),
        "register.import_uploaded": (upload, "Register import of edubasealldata20270102.csv"),
        "account.invited": (
            invitation,
            "Invitation to Jane Example (jane.example@oakfield.example)",
        ),
    }
    for action, (subject, _) in expected.items():
        _event(session, action, subject)
    # A record since deleted is named from what its event kept.
    session.add(
        AuditEvent(
            action="price_option.deleted",
            subject_type="PriceOption",
            subject_id=999_999,
            detail={"values": {"name": "Half-day visits"}},
        )
    )
    session.commit()
    shown = rows(soup(client_for("la_admin").get("/admin/audit")))
    named = {(what, record) for _when, _who, what, record in shown}
    for action, (_, name) in expected.items():
        assert (KINDS[action], name) in named, (action, name)
    assert ("Price option removed", "Price option “Half-day visits” (since removed)") in named
    # Nothing shows as a class name and an id.
    assert not [record for *_, record in shown if re.fullmatch(r"[A-Za-z]+ \d+", record)]


def test_naming_the_records_costs_one_query_whatever_their_kinds(
    client_for, session, count_queries
) -> None:
    admin = client_for("la_admin")
    contact = _one(session, Contact, Contact.name == "Chris Demo-North")
    _event(session, "contact.checked", contact)
    session.commit()

    def queries() -> int:
        with count_queries() as counter:
            assert admin.get("/admin/audit").status_code == 200
        return counter.count

    one_kind = queries()
    # Forty more events about records of nine more kinds.
    subjects = [
        _one(session, model)
        for model in (School, Trust, Area, User, Service, ServiceOffer, PriceOption, BuybackWindow)
    ] + [_one(session, SupportRequest)]
    for n in range(40):
        _event(session, "register.school_changed", subjects[n % len(subjects)])
    session.commit()
    assert queries() == one_kind
