"""The schools register import: reading GIAS files however they were saved, the plan a dry
run shows, applying it whole or not at all, the background job and its polling page, the
command line, and areas by district.

The real reference files are read from tests/data/gias/ (their sources in
tests/data/SOURCES.md); crafted files cover what the reference files do not (Windows-1252
names, damaged rows).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.models import (
    Area,
    AuditEvent,
    EstablishmentType,
    ImportStatus,
    Membership,
    Phase,
    RegisterImport,
    Role,
    School,
    SchoolStatus,
    Trust,
    User,
)
from portal.register import jobs
from portal.register.extract import MalformedFile, read_table
from portal.register.links import read_links
from portal.register.plan import KnownSchool, Snapshot, plan_import
from portal.register.report import plan_report
from portal.register.values import REQUIRED_COLUMNS
from tests.conftest import csrf_token, skip_or_fail
from tests.data import DATA
from tests.helpers.html import soup

GIAS = DATA / "gias"


def reference(name: str) -> bytes:
    path = GIAS / name
    if not path.exists():
        skip_or_fail(f"the GIAS reference file {path} is not there (see tests/data/SOURCES.md)")
    return path.read_bytes()


# --- crafted extracts -----------------------------------------------------------------------

COLUMNS = [
    "URN",
    "LA (code)",
    "LA (name)",
    "EstablishmentName",
    "TypeOfEstablishment (name)",
    "EstablishmentStatus (name)",
    "CloseDate",
    "PhaseOfEducation (name)",
    "NumberOfPupils",
    "Trusts (code)",
    "Trusts (name)",
    "Postcode",
    "DistrictAdministrative (name)",
]
# Not ISO-8859-1: the en dash is only in Windows-1252, which Excel writes as "CSV" in England.
ST_MARYS = "St Mary's Church of England Primary School – Café"  # noqa: RUF001


def school_row(urn: str, name: str, **values: str) -> dict[str, str]:
    return {
        "URN": urn,
        "LA (code)": "937",
        "LA (name)": "Warwickshire",
        "EstablishmentName": name,
        "TypeOfEstablishment (name)": "Community school",
        "EstablishmentStatus (name)": "Open",
        "CloseDate": "",
        "PhaseOfEducation (name)": "Primary",
        "NumberOfPupils": "",
        "Trusts (code)": "",
        "Trusts (name)": "",
        "Postcode": "CV9 1AB",
        "DistrictAdministrative (name)": "North Warwickshire",
    } | values


# Rows 2 to 8: a change, an addition, a closure, its successor (in a new trust), a school of
# another LA, a school whose district is in no area, and an independent school.
ROWS = [
    school_row("125601", "Oakfield Primary School", NumberOfPupils="420"),
    school_row(
        "125700",
        ST_MARYS,
        **{
            "TypeOfEstablishment (name)": "Voluntary aided school",
            "NumberOfPupils": "210",
            "Postcode": "cv21 3ab",
            "DistrictAdministrative (name)": "Rugby",
        },
    ),
    school_row(
        "125602",
        "Hartshill Green Primary School",
        **{"EstablishmentStatus (name)": "Closed", "CloseDate": "31-08-2026"},
    ),
    school_row(
        "149001",
        "Hartshill Green Primary Academy",
        **{
            "TypeOfEstablishment (name)": "Academy converter",
            "NumberOfPupils": "215",
            "Trusts (code)": "16002",
            "Trusts (name)": "Arden Valley Learning Trust",
            "Postcode": "CV10 0SX",
        },
    ),
    school_row(
        "100008",
        "Argyle Primary School",
        **{"LA (code)": "202", "LA (name)": "Camden", "DistrictAdministrative (name)": "Camden"},
    ),
    school_row(
        "125701",
        "Coventry Road Primary School",
        **{"NumberOfPupils": "100", "DistrictAdministrative (name)": "Coventry"},
    ),
    school_row(
        "125702",
        "Arden Hall Independent School",
        **{
            "TypeOfEstablishment (name)": "Other independent school",
            "PhaseOfEducation (name)": "Not applicable",
        },
    ),
]


def extract(
    rows: list[dict[str, str]] = ROWS,
    columns: list[str] = COLUMNS,
    *,
    encoding: str = "utf-8",
    newline: str = "\n",
    quoting: int = csv.QUOTE_MINIMAL,
    extra: dict[str, str] | None = None,
) -> bytes:
    """A GIAS-like CSV of ``rows`` with ``columns`` in that order, saved as asked."""
    extra = extra or {}
    text = io.StringIO()
    writer = csv.writer(text, lineterminator=newline, quoting=quoting)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([(row | extra).get(column, "") for column in columns])
    return text.getvalue().encode(encoding)


def snapshot(**changes: Any) -> Snapshot:
    """The demo council's register as the plan sees it: two of its schools, two areas."""
    schools = {
        125601: KnownSchool(
            1, 125601, "Oakfield Primary School", EstablishmentType.COMMUNITY, Phase.PRIMARY,
            412, "CV9 1AB", SchoolStatus.OPEN, None, None, None, 1, None, 2,
        ),
        125602: KnownSchool(
            2, 125602, "Hartshill Green Primary School", EstablishmentType.COMMUNITY,
            Phase.PRIMARY, 208, "CV10 0SX", SchoolStatus.OPEN, None, None, None, 1, None, 1,
        ),
    }  # fmt: skip
    # (Hartshill Green's one member: the demo's office account, locked by failed sign-ins.)
    return Snapshot(
        **{
            "schools": schools,
            "area_names": {1: "North", 2: "Rugby"},
            "area_by_district": {"north warwickshire": 1, "rugby": 2},
            "trusts": {"TR01001": "Meadow Learning Trust"},
            "la_codes": frozenset({"937"}),
        }
        | changes
    )


def report_of(raw: bytes, known: Snapshot | None = None, links: bytes | None = None) -> dict:
    known = known or snapshot()
    table = read_table(raw, REQUIRED_COLUMNS)
    plan = plan_import(table, known, read_links(links) if links else None)
    return plan_report(plan, known)


def comparable(report: dict) -> dict:
    return {key: value for key, value in report.items() if key != "encoding"}


BASELINE = report_of(extract())


# --- reading the file -----------------------------------------------------------------------


def test_the_crafted_extract_plans_each_kind_of_row() -> None:
    report = BASELINE
    assert report["rows"] == 7
    assert report["other_la"] == 1
    assert [(a["urn"], a["name"], a["area"]) for a in report["additions"]] == [
        (125700, ST_MARYS, "Rugby"),
        (149001, "Hartshill Green Primary Academy", "North"),
    ]
    assert report["changes"] == [
        {
            "row": 2,
            "urn": 125601,
            "name": "Oakfield Primary School",
            "fields": [
                ["Pupils on roll", "412", "420"],
                ["LA code", None, "937"],
                ["District", None, "North Warwickshire"],
            ],
        }
    ]
    assert [(c["row"], c["urn"], c["closed_on"]) for c in report["closures"]] == [
        (4, 125602, "31 August 2026")
    ]
    assert report["trusts"] == [
        {"group_uid": "16002", "name": "Arden Valley Learning Trust", "was": None}
    ]
    assert report["rejected"] == [
        {
            "row": 7,
            "urn": "125701",
            "reason": "no area for district Coventry: map the district to an area first",
        }
    ]
    assert [(s["row"], s["urn"]) for s in report["skipped"]] == [(8, "125702")]
    assert "Other independent school" in report["skipped"][0]["reason"]


@pytest.mark.parametrize(
    "saved",
    [
        pytest.param({"encoding": "utf-8-sig"}, id="byte-order mark"),
        pytest.param({"newline": "\r\n"}, id="Windows line endings"),
        pytest.param({"quoting": csv.QUOTE_ALL, "newline": "\r\n"}, id="every field quoted"),
        pytest.param({"encoding": "cp1252"}, id="Windows-1252 (Latin-1) names"),
        pytest.param({"columns": list(reversed(COLUMNS))}, id="columns reordered"),
        pytest.param(
            {
                "columns": ["SchoolWebsite", *COLUMNS[:5], "Notes, local", *COLUMNS[5:], "UPRN"],
                "extra": {"SchoolWebsite": "https://a.example", "Notes, local": 'a "b", c\nd'},
            },
            id="extra columns, with commas, quotes and line breaks",
        ),
        pytest.param({"encoding": "utf-16", "quoting": csv.QUOTE_ALL}, id="UTF-16"),
    ],
)
def test_however_the_file_was_saved_it_imports_the_same(saved: dict[str, Any]) -> None:
    assert comparable(report_of(extract(**saved))) == comparable(BASELINE)


def test_the_encoding_is_worked_out_and_names_survive_it() -> None:
    for encoding, label in [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8"), ("cp1252", "Windows-1252")]:
        report = report_of(extract(encoding=encoding))
        assert report["encoding"] == label
        assert report["additions"][0]["name"] == ST_MARYS
    # Excel's "Unicode text" is UTF-16 with tabs between the columns.
    tabbed = extract().decode().replace(",", "\t").encode("utf-16")
    rows = read_table(tabbed, REQUIRED_COLUMNS).rows
    assert read_table(tabbed, REQUIRED_COLUMNS).encoding == "UTF-16"
    assert rows[1].get("EstablishmentName") == ST_MARYS


# GIAS columns the import does not read, to add to a file at random.
UNUSED = [
    "EstablishmentNumber",
    "TypeOfEstablishment (code)",
    "OpenDate",
    "StatutoryLowAge",
    "Gender (name)",
    "SchoolCapacity",
    "Street",
    "Town",
    "TelephoneNum",
    "HeadLastName",
    "OfstedRating (name)",
    "URN (old)",
]


@settings(max_examples=60, deadline=None)
@given(
    order=st.permutations(COLUMNS),
    extra=st.lists(st.sampled_from(UNUSED), unique=True, max_size=4),
    # No lone carriage return: Python's writer leaves it unquoted when lines end in "\n",
    # which makes a line break of it, as Excel would too (a damaged file, not a variant).
    value=st.text(alphabet='ab ,"\n’é–', max_size=12),  # noqa: RUF001
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
)
def test_any_column_order_and_extra_columns_give_the_same_plan(
    order: list[str], extra: list[str], value: str, encoding: str, newline: str, quoting: int
) -> None:
    columns = list(order)
    for index, name in enumerate(extra):
        columns.insert((index * 7) % (len(columns) + 1), name)
    raw = extract(
        columns=columns,
        encoding=encoding,
        newline=newline,
        quoting=quoting,
        extra=dict.fromkeys(extra, value),
    )
    assert comparable(report_of(raw)) == comparable(BASELINE)


def test_the_real_sample_extract_is_read() -> None:
    raw = reference("gias_sample_npq.csv")
    camden = snapshot(
        schools={}, area_names={1: "Camden"}, area_by_district={"camden": 1},
        la_codes=frozenset({"202"}),
    )  # fmt: skip
    report = report_of(raw, camden)
    assert report["encoding"] == "UTF-8"
    assert report["rows"] == 99
    # Camden's 44 rows: 38 open schools to add, 6 long closed; the rest of the file is
    # City of London and Welsh establishments, left alone.
    assert report["other_la"] == 55
    assert len(report["additions"]) == 38
    assert report["closed_elsewhere"] == 6
    assert report["rejected"] == [] and report["skipped"] == []
    argyle = next(a for a in report["additions"] if a["urn"] == 100008)
    assert argyle == {
        "row": 10,
        "urn": 100008,
        "name": "Argyle Primary School",
        "type": "Community school",
        "phase": "Primary",
        "area": "Camden",
        "trust": None,
    }
    # "Open, but proposed to close" is still open.
    assert any(a["urn"] == 100012 for a in report["additions"])


def test_the_quoted_windows_variant_is_read() -> None:
    raw = reference("gias_update_npq.csv")
    assert raw.startswith(b'"URN"') and b"\r\n" in raw
    city = snapshot(
        schools={}, area_names={1: "City"}, area_by_district={"city of london": 1},
        la_codes=frozenset({"201"}),
    )  # fmt: skip
    report = report_of(raw, city)
    assert [(a["urn"], a["name"], a["type"]) for a in report["additions"]] == [
        (100000, "The Aldgate School 2", "Voluntary aided school")
    ]


def test_the_warwickshire_list_is_not_an_extract_and_says_what_is_missing() -> None:
    raw = reference("schools_pp50_autumn_2025_warwickshire.csv")
    with pytest.raises(MalformedFile) as refused:
        read_table(raw, REQUIRED_COLUMNS)
    message = refused.value.message
    assert "“LA (code)”" in message and "“EstablishmentStatus (name)”" in message
    assert "“Local Authority”" in message  # what the file does have


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "The file is empty."),
        (b"\r\n\r\n", "The file is empty."),
        (b"PK\x03\x04\x14\x00\x06\x00", "This is an Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "This is not a text file"),
        (b"URN,LA (code)\x01,Name\n", "control characters"),
        (b"LA (code),EstablishmentName\n937,Oakfield\n", "The file has no “URN”"),
        (b"Name;Town\nOakfield;Atherstone\n", "is it a GIAS extract in CSV?"),
    ],
)
def test_a_file_that_is_not_an_extract_is_refused_whole(raw: bytes, message: str) -> None:
    with pytest.raises(MalformedFile) as refused:
        read_table(raw, REQUIRED_COLUMNS)
    assert message in refused.value.message


def test_rows_that_do_not_line_up_with_the_header_refuse_the_file_and_are_named() -> None:
    lines = extract().decode().splitlines()
    # Row 3 has an unquoted comma in its name; row 5 has lost its last values.
    lines[2] = lines[2].replace(ST_MARYS, "St Mary's, Café")
    lines[4] = ",".join(lines[4].split(",")[:6])
    with pytest.raises(MalformedFile) as refused:
        read_table("\n".join(lines).encode(), REQUIRED_COLUMNS)
    assert "2 rows of the file cannot be read" in refused.value.message
    assert [(p.row, p.reason[:9]) for p in refused.value.problems] == [
        (3, "has 14 va"),
        (5, "has 6 val"),
    ]


def test_a_broken_quotation_is_named_by_its_row() -> None:
    # A quotation mark inside an unquoted value is taken as it is...
    raw = extract().replace(b"Hartshill Green Primary School", b'Hartshill "Green" School')
    assert read_table(raw, REQUIRED_COLUMNS).rows[2].get("EstablishmentName") == (
        'Hartshill "Green" School'
    )
    # ...but one that opens a value and is followed by more than a comma is damage.
    raw = extract().replace(b"Hartshill Green Primary School", b'"Hartshill" Green')
    with pytest.raises(MalformedFile) as refused:
        read_table(raw, REQUIRED_COLUMNS)
    assert refused.value.problems[0].row == 4


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"URN": "12345"}, "URN “12345” is not a six-digit number"),
        ({"URN": "1256O1"}, "URN “1256O1” is not a six-digit number"),
        ({"PhaseOfEducation (name)": "Infant"}, "phase “Infant” is not one GIAS uses"),
        ({"Postcode": "CV9"}, "postcode “CV9” is not a UK postcode"),
        ({"NumberOfPupils": "four hundred"}, "number of pupils “four hundred” is not a whole"),
        ({"EstablishmentStatus (name)": "Sleeping"}, "status “Sleeping” is not one GIAS uses"),
        ({"DistrictAdministrative (name)": "Solihull"}, "no area for district Solihull"),
    ],
)
def test_a_row_with_a_bad_value_is_rejected_with_its_row_and_why(
    values: dict[str, str], reason: str
) -> None:
    rows = [ROWS[1], school_row("125710", "Mancetter Primary School", **values)]
    report = report_of(extract(rows))
    assert [a["urn"] for a in report["additions"]] == [125700]
    assert len(report["rejected"]) == 1
    assert report["rejected"][0]["row"] == 3
    assert report["rejected"][0]["reason"].startswith(reason)


def test_a_urn_twice_is_rejected_the_second_time() -> None:
    report = report_of(extract([ROWS[1], ROWS[1]]))
    assert len(report["additions"]) == 1
    assert report["rejected"] == [
        {"row": 3, "urn": "125700", "reason": "URN 125700 is also on row 2: each school once"}
    ]


def test_only_the_councils_la_codes_are_taken() -> None:
    assert [a["urn"] for a in BASELINE["additions"]] == [125700, 149001]
    both = snapshot(
        la_codes=frozenset({"937", "202"}),
        area_by_district={"north warwickshire": 1, "rugby": 2, "camden": 2},
    )
    report = report_of(extract(), both)
    assert [a["urn"] for a in report["additions"]] == [125700, 149001, 100008]
    assert report["other_la"] == 0
    nobody = report_of(extract(), snapshot(la_codes=frozenset({"938"})))
    assert nobody["other_la"] == 7
    assert not nobody["additions"] and not nobody["changes"] and not nobody["closures"]


def test_blank_values_keep_what_the_portal_has() -> None:
    row = school_row(
        "125601",
        "Oakfield Primary School",
        **{
            "NumberOfPupils": "",
            "Postcode": "",
            "DistrictAdministrative (name)": "",
            "LA (code)": "937",
        },
    )
    known = snapshot()
    report = report_of(extract([row]), known)
    assert report["changes"] == [
        {
            "row": 2,
            "urn": 125601,
            "name": "Oakfield Primary School",
            "fields": [["LA code", None, "937"]],
        }
    ]
    # Without the optional columns at all, the same.
    columns = [c for c in COLUMNS if c not in ("NumberOfPupils", "Postcode", "Trusts (code)")]
    report = report_of(extract([row], columns), known)
    assert report["changes"][0]["fields"] == [["LA code", None, "937"]]
    assert set(report["absent_columns"]) == {"NumberOfPupils", "Postcode", "Trusts (code)"}


def test_a_closure_with_a_successor_in_the_links_file_is_flagged() -> None:
    links = reference("links_edubasealldata20250422.csv")
    # The real links file is Windows-1252 ("St Thomas à Becket"): it is read all the same.
    succession = read_links(links)
    assert [link.urn for link in succession.successors_of(100016)] == [132245]
    assert [link.urn for link in succession.predecessors_of(132245)] == [100016, 100017]
    kingsgate = KnownSchool(
        7, 100016, "Kingsgate Junior School", EstablishmentType.COMMUNITY, Phase.PRIMARY,
        300, "NW6 4LB", SchoolStatus.OPEN, None, "202", "Camden", 1, None, 0,
    )  # fmt: skip
    known = snapshot(schools={100016: kingsgate}, la_codes=frozenset({"202"}))
    closed = school_row(
        "100016",
        "Kingsgate Junior School",
        **{"LA (code)": "202", "EstablishmentStatus (name)": "Closed", "CloseDate": "31-08-2000"},
    )
    report = report_of(extract([closed]), known, links)
    assert report["closures"][0]["closed_on"] == "31 August 2000"
    (review,) = report["reviews"]
    assert review["urn"] == 100016
    assert "successor URN 132245 Kingsgate Primary School" in review["note"]
    assert "users were not moved" in review["note"]
    # Without the links file, no name matches: a closure with no users is not flagged.
    assert report_of(extract([closed]), known)["reviews"] == []


def test_a_closure_and_a_new_school_of_the_same_name_are_a_likely_succession() -> None:
    notes = {r["urn"]: r["note"] for r in BASELINE["reviews"]}
    assert notes[125602].startswith(
        "Closed on 31 August 2026; successor URN 149001 Hartshill Green Primary Academy "
        "(same name: likely, not confirmed by a links file)."
    )
    assert notes[149001].startswith(
        "Successor of URN 125602 Hartshill Green Primary School (closed on 31 August 2026)."
    )


# --- the database: dry run and apply --------------------------------------------------------

DISTRICTS = {
    "north": ["North Warwickshire"],
    "nuneaton-bedworth": ["Nuneaton and Bedworth"],
    "rugby": ["Rugby"],
    "warwick": ["Warwick"],
    "stratford": ["Stratford-on-Avon"],
}


@pytest.fixture
def register(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> list[int]:
    """Uploads kept in a temporary folder, the demo areas given their Warwickshire districts,
    and imports queued but not started: a test runs the worker itself, here and now."""
    monkeypatch.setitem(app.config, "REGISTER_IMPORT_DIRECTORY", str(tmp_path / "imports"))
    monkeypatch.setitem(app.config, "COUNCIL_LA_CODES", ("937",))
    for area in session.scalars(select(Area)):
        area.districts = DISTRICTS[area.code]
    session.commit()
    launched: list[int] = []
    monkeypatch.setattr(jobs, "launch", lambda _app, import_id: launched.append(import_id))
    return launched


def upload(client: FlaskClient, raw: bytes, name: str = "edubasealldata.csv", links=None):
    data: dict[str, Any] = {
        "csrf_token": csrf_token(client, "/register/"),
        "extract": (io.BytesIO(raw), name),
    }
    if links is not None:
        data["links"] = (io.BytesIO(links), "links.csv")
    return client.post("/register/", data=data, content_type="multipart/form-data")


def uploaded(client: FlaskClient, raw: bytes, **kwargs: Any) -> int:
    response = upload(client, raw, **kwargs)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def apply(client: FlaskClient, import_id: int):
    token = csrf_token(client, f"/register/imports/{import_id}")
    return client.post(f"/register/imports/{import_id}/apply", data={"csrf_token": token})


def stored_uploads(app: Flask) -> list[str]:
    """The files in the folder where uploads wait, by name."""
    directory = Path(app.config["REGISTER_IMPORT_DIRECTORY"])
    return sorted(path.name for path in directory.iterdir()) if directory.is_dir() else []


def school(session: Session, urn: int) -> School | None:
    session.expire_all()
    return session.scalars(select(School).where(School.urn == urn)).one_or_none()


def schools_state(session: Session) -> list[tuple[Any, ...]]:
    session.expire_all()
    return [
        (s.urn, s.name, s.establishment_type, s.phase, s.pupils_on_roll, s.postcode, s.status,
         s.closed_on, s.la_code, s.district, s.area_id, s.trust_id, s.review_note)
        for s in session.scalars(select(School).order_by(School.urn))
    ]  # fmt: skip


def memberships(session: Session) -> list[tuple[int, str, int | None]]:
    return sorted(
        (m.user_id, m.role.value, m.school_id) for m in session.scalars(select(Membership))
    )


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_dry_run_writes_nothing_but_its_report(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    client = client_for("la_admin")
    before = (schools_state(session), count(session, Trust), memberships(session))
    events = count(session, AuditEvent)
    import_id = uploaded(client, extract())
    assert register == [import_id]
    jobs.run_import(app, import_id)
    record = session.get(RegisterImport, import_id)
    session.refresh(record)
    assert record.status is ImportStatus.READY
    assert record.dry_run is True
    assert record.total_rows == record.processed_rows == 7
    assert comparable(record.report) == comparable(BASELINE) | {
        "la_codes": ["937"],
        "missing": record.report["missing"],
    }
    assert (schools_state(session), count(session, Trust), memberships(session)) == before
    # The upload is audited; the dry run changes nothing, so records nothing more.
    assert count(session, AuditEvent) == events + 1
    page = soup(client.get(f"/register/imports/{import_id}"))
    text = page.get_text(" ", strip=True)
    assert "Nothing has been changed yet" in text
    assert ST_MARYS in text
    assert "Pupils on roll: 412 → 420" in text
    assert "no area for district Coventry: map the district to an area first" in text
    assert page.select_one(f"form[action='/register/imports/{import_id}/apply'] button")


def test_apply_adds_changes_and_retires_exactly_and_moves_nobody(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    # Someone still works at the school that is about to close.
    hartshill = school(session, 125602)
    assert hartshill is not None
    member = User(email="teacher@hartshill.example", display_name="T Hartshill", password_hash="x")
    session.add(member)
    session.flush()
    session.add(Membership(user_id=member.id, role=Role.SCHOOL_STAFF, school_id=hartshill.id))
    session.commit()
    before = {s[0]: s for s in schools_state(session)}
    members_before = memberships(session)
    admin = client_for("la_admin")

    import_id = uploaded(admin, extract())
    jobs.run_import(app, import_id)
    assert apply(admin, import_id).status_code == 303
    assert register == [import_id, import_id]
    jobs.run_import(app, import_id)

    record = session.get(RegisterImport, import_id)
    session.refresh(record)
    assert record.status is ImportStatus.APPLIED
    after = {s[0]: s for s in schools_state(session)}
    assert set(after) - set(before) == {125700, 149001}
    assert set(before) - set(after) == set()  # nothing deleted
    changed = {urn for urn in before if before[urn] != after[urn]}
    assert changed == {125601, 125602}

    oakfield = school(session, 125601)
    assert (oakfield.pupils_on_roll, oakfield.district, oakfield.la_code) == (
        420,
        "North Warwickshire",
        "937",
    )
    st_marys = school(session, 125700)
    assert st_marys.name == ST_MARYS
    assert (st_marys.establishment_type, st_marys.phase, st_marys.postcode) == (
        EstablishmentType.VOLUNTARY_AIDED,
        Phase.PRIMARY,
        "CV21 3AB",
    )
    assert (st_marys.area.code, st_marys.pupils_on_roll, st_marys.trust) == ("rugby", 210, None)

    closed = school(session, 125602)
    assert (closed.status, closed.closed_on) == (SchoolStatus.CLOSED, date(2026, 8, 31))
    assert closed.name == "Hartshill Green Primary School" and closed.pupils_on_roll == 208
    assert "successor URN 149001" in closed.review_note
    academy = school(session, 149001)
    assert academy.trust.name == "Arden Valley Learning Trust"
    assert academy.trust.group_uid == "16002"
    assert academy.area.code == "north"
    assert academy.review_note.startswith("Successor of URN 125602")
    # Nobody's access moved: the teacher still belongs to the closed school only.
    assert memberships(session) == members_before
    # Neither the other LA's school, the rejected row nor the independent school was added.
    assert school(session, 100008) is None
    assert school(session, 125701) is None
    assert school(session, 125702) is None

    actions = [
        (e.action, e.detail.get("urn"))
        for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("register.%")).order_by(AuditEvent.id)
        )
        if e.detail.get("import_id") == import_id
        or (e.subject_type == "RegisterImport" and e.subject_id == import_id)
    ]
    assert ("register.trust_added", None) in actions
    assert ("register.school_added", 125700) in actions
    assert ("register.school_added", 149001) in actions
    assert ("register.school_changed", 125601) in actions
    assert ("register.school_closed", 125602) in actions
    assert ("register.import_applied", None) in actions
    assert [a for a, _ in actions].count("register.review_flagged") == 2
    change = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "register.school_changed", AuditEvent.subject_id == oakfield.id
        )
    ).one()
    assert change.detail["changes"]["Pupils on roll"] == ["412", "420"]
    assert change.actor.email == "admin@council.example"

    page = soup(admin.get(f"/register/imports/{import_id}")).get_text(" ", strip=True)
    assert "The changes have been applied" in page
    assert "Schools retired as closed" in page
    # The stored upload is removed once applied; the import and its report stay.
    assert record.stored_path == ""
    assert stored_uploads(app) == []

    # The same file again changes nothing.
    again = uploaded(admin, extract())
    jobs.run_import(app, again)
    report = session.get(RegisterImport, again).report
    assert report["additions"] == report["changes"] == report["closures"] == []
    assert report["unchanged"] == 4  # the closed school, still closed on the same day, too


def test_an_apply_that_fails_part_way_applies_nothing(
    app: Flask,
    session: Session,
    client_for: Callable[[str], FlaskClient],
    register: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = client_for("la_admin")
    import_id = uploaded(admin, extract())
    jobs.run_import(app, import_id)
    before = (schools_state(session), count(session, Trust))
    real_record = jobs.audit.record

    def failing(action: str, **kwargs: Any) -> Any:
        # After the additions and the change, the closure goes wrong.
        if action == "register.school_closed":
            raise RuntimeError("disk full")
        return real_record(action, **kwargs)

    monkeypatch.setattr("portal.register.service.audit.record", failing)
    apply(admin, import_id)
    jobs.run_import(app, import_id)
    record = session.get(RegisterImport, import_id)
    session.refresh(record)
    assert record.status is ImportStatus.FAILED
    assert (schools_state(session), count(session, Trust)) == before
    page = soup(admin.get(f"/register/imports/{import_id}")).get_text(" ", strip=True)
    assert "The changes could not be applied" in page
    assert "none of them has been applied" in page
    assert "disk full" not in page
    # It cannot be applied again: its upload has gone.
    assert record.stored_path == ""
    assert stored_uploads(app) == []


def test_a_malformed_file_reports_its_rows_and_applies_nothing(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    lines = extract().decode().splitlines()
    lines[3] += ",stray"
    admin = client_for("la_admin")
    before = schools_state(session)
    import_id = uploaded(admin, "\n".join(lines).encode())
    jobs.run_import(app, import_id)
    assert session.get(RegisterImport, import_id).status is ImportStatus.FAILED
    page = soup(admin.get(f"/register/imports/{import_id}"))
    text = page.get_text(" ", strip=True)
    assert "The file could not be used" in text
    assert "1 row of the file cannot be read, so none of it has been used" in text
    cells = [td.get_text(strip=True) for td in page.select("table tbody td")]
    assert cells[0] == "4"
    assert cells[1].startswith("has 14 values where the header has 13 columns")
    assert not page.select("form[action$='/apply']")
    assert apply(admin, import_id).status_code == 303
    assert register == [import_id]  # not ready, so not queued again
    assert schools_state(session) == before


def test_a_file_of_another_authority_is_called_wrong_and_says_whose_it_is(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    """The DfE's sample extract (Camden, the City of London and Welsh authorities) uploaded
    by a council whose LA is 937: not "the portal already matches the file"."""
    admin = client_for("la_admin")
    before = schools_state(session)
    import_id = uploaded(admin, reference("gias_sample_npq.csv"), name="camden.csv")
    jobs.run_import(app, import_id)
    record = session.get(RegisterImport, import_id)
    session.refresh(record)
    assert record.status is ImportStatus.FAILED
    page = soup(admin.get(f"/register/imports/{import_id}"))
    text = page.get_text(" ", strip=True)
    assert "already matches" not in text
    assert "The file could not be used" in text
    assert (
        "camden.csv: The file has no schools for LA 937, this council's local authority, so "
        "none of it can be used: is it the right file? Its 99 rows are for the 20 local "
        "authorities listed below."
    ) in text
    table = next(
        t for t in page.select("table") if "Local authorities in the file" in t.caption.text
    )
    listed = [
        [td.get_text(strip=True) for td in tr.select("td")] for tr in table.tbody.select("tr")
    ]
    assert listed[:3] == [
        ["Camden", "202", "44"],
        ["Pembrokeshire", "668", "9"],
        ["Newport", "680", "6"],
    ]
    assert ["City of London", "201", "4"] in listed
    assert len(listed) == 20 and sum(int(row[2]) for row in listed) == 99
    assert not page.select("form[action$='/apply']")
    assert schools_state(session) == before


def test_a_file_with_a_header_and_no_rows_is_called_empty(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    admin = client_for("la_admin")
    import_id = uploaded(admin, extract(rows=[]))
    jobs.run_import(app, import_id)
    text = soup(admin.get(f"/register/imports/{import_id}")).get_text(" ", strip=True)
    assert "The file has no schools at all, so none for LA 937" in text
    assert "already matches" not in text


def test_a_file_without_a_urn_column_is_refused_with_a_clear_report(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    admin = client_for("la_admin")
    import_id = uploaded(admin, extract(columns=COLUMNS[1:]), name="schools.csv")
    jobs.run_import(app, import_id)
    text = soup(admin.get(f"/register/imports/{import_id}")).get_text(" ", strip=True)
    assert "Nothing has been changed. schools.csv: The file has no “URN” column" in text


def test_a_bad_links_file_is_refused_too(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    admin = client_for("la_admin")
    import_id = uploaded(admin, extract(), links=b"URN,Name\n100000,x\n")
    jobs.run_import(app, import_id)
    text = soup(admin.get(f"/register/imports/{import_id}")).get_text(" ", strip=True)
    assert (
        "links.csv: The file has no “LinkURN”, “LinkType” columns: is it a GIAS links file" in text
    )


def test_the_sample_extract_then_its_update_rename_a_school(
    app: Flask,
    session: Session,
    client_for: Callable[[str], FlaskClient],
    register: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sample, update = reference("gias_sample_npq.csv"), reference("gias_update_npq.csv")
    monkeypatch.setitem(app.config, "COUNCIL_LA_CODES", ("201", "202"))
    for area in session.scalars(select(Area).where(Area.code.in_(["north", "rugby"]))):
        area.districts = ["City of London"] if area.code == "north" else ["Camden"]
    session.commit()
    admin = client_for("la_admin")
    first = uploaded(admin, sample)
    jobs.run_import(app, first)
    apply(admin, first)
    jobs.run_import(app, first)
    report = session.get(RegisterImport, first).report
    assert len(report["additions"]) == 39  # Camden's 38 and the Aldgate School
    assert [s["urn"] for s in report["skipped"]] == ["100001", "100002", "100003"]
    aldgate = school(session, 100000)
    assert (aldgate.name, aldgate.area.code, aldgate.postcode) == (
        "The Aldgate School",
        "north",
        "EC3A 5DE",
    )
    assert school(session, 100004) is None  # closed in 1992, never held
    second = uploaded(admin, update)
    jobs.run_import(app, second)
    report = session.get(RegisterImport, second).report
    assert report["changes"] == [
        {
            "row": 2,
            "urn": 100000,
            "name": "The Aldgate School",
            "fields": [["Name", "The Aldgate School", "The Aldgate School 2"]],
        }
    ]


def test_warwickshire_schools_are_taken_by_the_default_la_code_and_placed_by_district(
    app: Flask, session: Session, register: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DfE's list of Warwickshire's schools (real URNs and districts), written out as an
    extract of LA 937, the default COUNCIL_LA_CODES."""
    listed = list(
        csv.DictReader(io.StringIO(reference("schools_pp50_autumn_2025_warwickshire.csv").decode()))
    )
    rows = [
        school_row(
            item["URN"],
            item["School name"],
            **{
                "TypeOfEstablishment (name)": item["School type"],
                "PhaseOfEducation (name)": "Primary"
                if "Primary" in item["School name"]
                else "Secondary",
                "DistrictAdministrative (name)": item["Administrative district"],
                "Postcode": "CV34 4RL",
            },
        )
        for item in listed
    ]
    with app.app_context():
        report = jobs.import_now(extract(rows), "warwickshire.csv", apply=False)
    assert len(listed) == 117
    # Five of the demo council's invented schools happen to have real Warwickshire URNs:
    # the register renames them.
    renamed = {c["urn"] for c in report["changes"]}
    assert renamed == {125603, 125605, 125607, 125616, 125618}
    assert len(report["additions"]) == 112
    assert report["rejected"] == []
    by_area = {a["area"] for a in report["additions"]}
    assert by_area == {"North", "Nuneaton and Bedworth", "Rugby", "Warwick", "Stratford"}

    warwick = session.scalars(select(Area).where(Area.code == "warwick")).one()
    warwick.districts = []
    session.commit()
    with app.app_context():
        report = jobs.import_now(extract(rows), "warwickshire.csv", apply=False)
    reasons = {r["reason"] for r in report["rejected"]}
    assert reasons == {"no area for district Warwick: map the district to an area first"}
    assert len(report["rejected"]) == 17


def test_the_default_council_is_warwickshire(monkeypatch: pytest.MonkeyPatch) -> None:
    from portal.config import from_environment

    monkeypatch.delenv("COUNCIL_LA_CODES", raising=False)
    assert from_environment("instance")["COUNCIL_LA_CODES"] == ("937",)
    monkeypatch.setenv("COUNCIL_LA_CODES", "937, 938")
    assert from_environment("instance")["COUNCIL_LA_CODES"] == ("937", "938")
    monkeypatch.setenv("COUNCIL_LA_CODES", "Warwickshire")
    with pytest.raises(ValueError, match="three-digit LA codes"):
        from_environment("instance")


# --- the background job and its page --------------------------------------------------------


def fragment(client: FlaskClient, import_id: int) -> BeautifulSoup:
    response = client.get(f"/register/imports/{import_id}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html
    return BeautifulSoup(html, "html.parser")


def test_the_page_polls_with_a_progress_bar_until_the_report_is_ready(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    admin = client_for("la_admin")
    import_id = uploaded(admin, extract())
    here = f"/register/imports/{import_id}"

    queued = fragment(admin, import_id).select_one("#register-import")
    assert queued["hx-get"] == here
    assert queued["hx-trigger"] == "every 1s"
    assert queued["hx-swap"] == "outerHTML"
    bar = queued.select_one("progress")
    assert bar is not None and not bar.has_attr("value")  # not yet known how much there is
    assert "Waiting to check" in queued.get_text()

    record = session.get(RegisterImport, import_id)
    record.status, record.total_rows, record.processed_rows = ImportStatus.RUNNING, 7, 3
    record.report = {"heartbeat": utcnow().isoformat()}
    session.commit()
    running = fragment(admin, import_id).select_one("#register-import")
    assert running["hx-trigger"] == "every 1s"
    assert (running.progress["value"], running.progress["max"]) == ("3", "7")
    label = running.select_one("label[for=import-progress]").get_text(" ", strip=True)
    assert label == "3 of 7 rows checked"
    # Without JavaScript the whole page has a link that reloads it.
    full = soup(admin.get(here))
    assert full.select_one(f"#register-import a[href='{here}']").get_text() == "Refresh"
    assert "style=" not in admin.get(here).get_data(as_text=True)

    record.status = ImportStatus.QUEUED
    session.commit()
    jobs.run_import(app, import_id)
    done = fragment(admin, import_id).select_one("#register-import")
    assert not done.has_attr("hx-trigger") and not done.has_attr("hx-get")
    assert done.select_one("progress") is None
    assert "Schools to add" in done.get_text()

    apply(admin, import_id)
    applying = fragment(admin, import_id).select_one("#register-import")
    assert applying["hx-trigger"] == "every 1s"
    assert "Waiting to apply" in applying.get_text()
    jobs.run_import(app, import_id)
    applied = fragment(admin, import_id).select_one("#register-import")
    assert not applied.has_attr("hx-trigger")
    assert "The changes have been applied" in applied.get_text()


def test_an_import_whose_server_stopped_says_so_and_stops_polling(
    session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    admin = client_for("la_admin")
    import_id = uploaded(admin, extract())
    record = session.get(RegisterImport, import_id)
    record.status = ImportStatus.RUNNING
    record.report = {"heartbeat": (utcnow() - timedelta(minutes=10)).isoformat()}
    session.commit()
    stalled = fragment(admin, import_id).select_one("#register-import")
    assert not stalled.has_attr("hx-trigger")
    assert "stopped before it finished" in stalled.get_text()


def test_applying_twice_queues_it_once(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    admin = client_for("la_admin")
    import_id = uploaded(admin, extract())
    jobs.run_import(app, import_id)
    apply(admin, import_id)
    response = apply(admin, import_id)
    assert register == [import_id, import_id]
    page = soup(admin.get(response.headers["Location"])).get_text(" ", strip=True)
    assert "already been applied, or is being applied" in page


@pytest.fixture
def real_app(make_app: Callable[..., Flask], tmp_path: Path) -> Iterator[Flask]:
    """An app whose commits are real, for the worker thread: what it writes is removed."""
    made = make_app(REGISTER_IMPORT_DIRECTORY=str(tmp_path), COUNCIL_LA_CODES=("937",))
    created: list[int] = []
    made.extensions["created_imports"] = created
    yield made
    from portal.db import db

    with made.app_context():
        for record in db.session.scalars(
            select(RegisterImport).where(RegisterImport.id.in_(created))
        ):
            db.session.delete(record)
        db.session.commit()


def test_the_background_thread_finishes_the_job(real_app: Flask, tmp_path: Path) -> None:
    from portal.db import db

    path = tmp_path / "upload.csv"
    path.write_bytes(extract())
    with real_app.app_context():
        record = RegisterImport(filename="upload.csv", stored_path=str(path))
        db.session.add(record)
        db.session.commit()
        import_id = record.id
    real_app.extensions["created_imports"].append(import_id)
    jobs.launch(real_app, import_id).join(timeout=30)
    with real_app.app_context():
        record = db.session.get(RegisterImport, import_id)
        assert record.status is ImportStatus.READY
        assert record.processed_rows == record.total_rows == 7
        # The demo areas take Warwickshire's districts, so the new schools find an area.
        assert [a["urn"] for a in record.report["additions"]] == [125700, 149001]
        assert [c["urn"] for c in record.report["closures"]] == [125602]
        # A dry run: nothing is written.
        assert school_count(db) == 43


def school_count(db: Any) -> int:
    return int(db.session.scalar(select(func.count(School.id))))


# --- the upload form ------------------------------------------------------------------------


def test_the_upload_form_asks_for_a_csv(
    client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    admin = client_for("la_admin")
    page = soup(admin.post("/register/", data={"csrf_token": csrf_token(admin, "/register/")}))
    assert "Error: Schools register" in page.title.get_text()
    assert page.select_one(".govuk-error-summary a[href='#extract']").get_text() == (
        "Choose the CSV file downloaded from GIAS"
    )
    page = soup(upload(admin, b"PK\x03\x04", name="schools.xlsx"))
    assert "The extract must be a CSV file" in page.get_text()
    assert register == []


def test_an_upload_over_the_limit_is_refused(
    app: Flask,
    client_for: Callable[[str], FlaskClient],
    register: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Small sizes: the test client keeps a body under 500 KB in memory, not in a file.
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100 * 1024)
    admin = client_for("la_admin")
    response = upload(admin, extract() * 200)
    assert response.status_code == 413
    assert register == []


def test_the_register_is_linked_from_the_schools_list_for_administrators_only(
    client_for: Callable[[str], FlaskClient],
) -> None:
    assert soup(client_for("la_admin").get("/schools/")).select_one("a[href='/register/']")
    assert not soup(client_for("publisher").get("/schools/")).select_one("a[href='/register/']")


# --- the command line -----------------------------------------------------------------------


def test_the_command_line_dry_runs_and_applies(
    app: Flask, session: Session, register: list[int], tmp_path: Path
) -> None:
    path = tmp_path / "extract.csv"
    path.write_bytes(extract(encoding="cp1252"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["register", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Read 7 rows (Windows-1252); 6 for LA 937, 1 for other LAs left alone." in result.output
    assert "Schools to add: 2" in result.output
    assert f"row 3: 125700 {ST_MARYS} (Voluntary aided school, Rugby)" in result.output
    assert "row 2: 125601 Oakfield Primary School: Pupils on roll: 412 → 420" in result.output
    assert "Rows rejected: 1" in result.output
    assert "Dry run: nothing has been changed." in result.output
    assert school(session, 125700) is None

    result = runner.invoke(args=["register", "import", str(path), "--apply"])
    assert result.exit_code == 0, result.output
    assert "Schools added: 2" in result.output
    assert school(session, 125700).name == ST_MARYS
    assert school(session, 125602).status is SchoolStatus.CLOSED
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "register.import_applied")
    ).one()
    assert event.actor_id is None
    assert event.detail["filename"] == "extract.csv"


def test_the_command_line_refuses_a_malformed_file(
    app: Flask, session: Session, register: list[int], tmp_path: Path
) -> None:
    path = tmp_path / "extract.csv"
    path.write_bytes(b"Name,Town\nOakfield,Atherstone\n")
    result = app.test_cli_runner().invoke(args=["register", "import", str(path), "--apply"])
    assert result.exit_code == 1
    assert "Nothing was applied. extract.csv: The file has no “URN”" in result.output


def test_the_command_line_says_whose_file_it_is_when_it_is_not_the_councils(
    app: Flask, session: Session, register: list[int], tmp_path: Path
) -> None:
    path = tmp_path / "camden.csv"
    path.write_bytes(reference("gias_sample_npq.csv"))
    before = schools_state(session)
    result = app.test_cli_runner().invoke(args=["register", "import", str(path), "--apply"])
    assert result.exit_code == 1
    assert "Nothing was applied. camden.csv: The file has no schools for LA 937" in result.output
    assert "  LA 202 Camden: 44 rows\n" in result.output
    assert "  LA 677 Blaenau Gwent: 1 row\n" in result.output
    assert schools_state(session) == before


# --- areas and districts, and reviews -------------------------------------------------------


def test_areas_list_their_districts_and_an_administrator_changes_them(
    session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    admin = client_for("la_admin")
    page = soup(admin.get("/register/areas"))
    rows = {
        tr.select("td")[0].get_text(strip=True): tr.select("td")[1].get_text(strip=True)
        for tr in page.select("tbody tr")
    }
    assert rows["North"] == "North Warwickshire"
    rugby = session.scalars(select(Area).where(Area.code == "rugby")).one()
    form = f"/register/areas/{rugby.id}"
    assert soup(admin.get(form)).select_one("textarea#districts").get_text() == "Rugby"
    response = admin.post(
        form,
        data={"csrf_token": csrf_token(admin, form), "districts": "Rugby\n  rugby \nDaventry\n"},
    )
    assert response.status_code == 303
    session.expire_all()
    assert rugby.districts == ["Rugby", "Daventry"]
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "register.area_districts_changed")
    ).one()
    assert event.detail["changes"] == {"Districts": [["Rugby"], ["Rugby", "Daventry"]]}

    taken = admin.post(form, data={"csrf_token": csrf_token(admin, form), "districts": "Warwick"})
    assert taken.status_code == 200
    assert "Warwick is already a district of the Warwick area" in soup(taken).get_text()


def test_schools_are_assigned_to_areas_by_district_in_bulk(
    session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    oakfield = school(session, 125601)
    oakfield.district = "Rugby"
    session.commit()
    admin = client_for("la_admin")
    assert "1 open school is in an area other than its district's" in soup(
        admin.get("/register/areas")
    ).get_text(" ", strip=True)
    preview = soup(admin.get("/register/areas/assign"))
    cells = [td.get_text(" ", strip=True) for td in preview.select("tbody td")]
    assert cells == ["Oakfield Primary School URN 125601", "Rugby", "North", "Rugby"]
    assert school(session, 125601).area.code == "north"  # a preview changes nothing
    token = csrf_token(admin, "/register/areas/assign")
    assert admin.post("/register/areas/assign", data={"csrf_token": token}).status_code == 303
    assert school(session, 125601).area.code == "rugby"
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "register.school_changed",
            AuditEvent.subject_id == oakfield.id,
        )
    ).one()
    assert event.detail["changes"] == {"Area": ["North", "Rugby"]}
    assert "Every open school with a district is already in its district's area" in soup(
        admin.get("/register/areas/assign")
    ).get_text(" ", strip=True)


def test_flagged_schools_are_listed_a_page_at_a_time(
    session: Session,
    client_for: Callable[[str], FlaskClient],
    register: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from portal.register import pages

    monkeypatch.setattr(pages, "REVIEWS_PER_PAGE", 2)
    flagged = sorted(
        session.scalars(select(School).where(School.urn.in_([125601, 125602, 125613]))),
        key=lambda s: (s.name, s.id),
    )
    for each in flagged:
        each.review_note = "Closed; successor to check."
    session.commit()
    admin = client_for("la_admin")
    first = soup(admin.get("/register/reviews"))
    assert first.caption.get_text(" ", strip=True) == "3 schools flagged for review: 1 to 2"
    names = [a.get_text(strip=True) for a in first.select("tbody a")]
    second = soup(admin.get(first.select_one(".govuk-pagination__next a")["href"]))
    names += [a.get_text(strip=True) for a in second.select("tbody a")]
    assert names == [each.name for each in flagged]


def test_a_flagged_school_is_listed_until_marked_as_reviewed(
    session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    hartshill = school(session, 125602)
    hartshill.review_note = "Closed on 31 August 2026; successor URN 149001."
    session.commit()
    admin = client_for("la_admin")
    page = soup(admin.get("/register/reviews"))
    assert "successor URN 149001" in page.get_text()
    assert "successor URN 149001" in soup(admin.get(f"/schools/{hartshill.id}")).get_text()
    action = f"/register/reviews/{hartshill.id}/clear"
    assert page.select_one(f"form[action='{action}']")
    token = csrf_token(admin, "/register/reviews")
    assert admin.post(action, data={"csrf_token": token}).status_code == 303
    assert school(session, 125602).review_note is None
    assert "No schools are flagged for review" in soup(admin.get("/register/reviews")).get_text()
    assert (
        session.scalars(select(AuditEvent).where(AuditEvent.action == "register.review_cleared"))
        .one()
        .detail["note"]
        .startswith("Closed on")
    )


def test_only_administrators_reach_an_import(
    app: Flask, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    import_id = uploaded(client_for("la_admin"), extract())
    for role in ("publisher", "caf_officer", "head_teacher", "trust_lead"):
        client = client_for(role)
        assert client.get(f"/register/imports/{import_id}").status_code == 403
        token = csrf_token(client, "/")
        response = client.post(f"/register/imports/{import_id}/apply", data={"csrf_token": token})
        assert response.status_code == 403
    assert app.test_client().get(f"/register/imports/{import_id}").status_code == 302


# --- the uploaded files: kept only while they may be applied ------------------------------

LINKS = b"URN,LinkURN,LinkName,LinkType,LinkEstablishedDate\n"


def import_page(client: FlaskClient, import_id: int) -> BeautifulSoup:
    return soup(client.get(f"/register/imports/{import_id}"))


def test_a_file_that_cannot_be_used_is_removed_and_its_report_kept(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    admin = client_for("la_admin")
    import_id = uploaded(admin, extract(columns=COLUMNS[1:]), name="schools.csv", links=LINKS)
    assert stored_uploads(app) == [f"{import_id}-links.csv", f"{import_id}.csv"]
    jobs.run_import(app, import_id)
    record = session.get(RegisterImport, import_id)
    session.refresh(record)
    assert record.status is ImportStatus.FAILED
    assert record.stored_path == ""
    assert stored_uploads(app) == []
    assert record.report["error"]["file"] == "schools.csv"
    text = import_page(admin, import_id).get_text(" ", strip=True)
    assert "schools.csv: The file has no “URN” column" in text


def test_applying_an_upload_supersedes_the_dry_runs_uploaded_before_it(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    admin = client_for("la_admin")
    earlier = uploaded(admin, extract(), links=LINKS)
    applied = uploaded(admin, extract())
    later = uploaded(admin, extract())
    for import_id in (earlier, applied, later):
        jobs.run_import(app, import_id)
    earlier_report = dict(session.get(RegisterImport, earlier).report)
    apply(admin, applied)
    jobs.run_import(app, applied)

    session.expire_all()
    superseded = session.get(RegisterImport, earlier)
    assert superseded.status is ImportStatus.READY
    assert superseded.stored_path == ""
    # Its report stays whole, with a note of what superseded it.
    assert superseded.report == {**earlier_report, "superseded_by": applied}
    # The one uploaded after the applied one was checked against the register as it now is:
    # it keeps its file, and can still be applied.
    assert stored_uploads(app) == [f"{later}.csv"]
    assert import_page(admin, later).select_one("form[action$='/apply'] button")

    page = import_page(admin, earlier)
    assert not page.select("form[action$='/apply']")
    text = page.get_text(" ", strip=True)
    assert "A file uploaded later has been applied since this one was checked" in text
    assert "can no longer be applied" in text
    assert "Schools to add" in text  # what the dry run found is still there to read
    refused = apply(admin, earlier)
    assert refused.status_code == 303
    assert "This file can no longer be applied. Upload it again" in soup(
        admin.get(refused.headers["Location"])
    ).get_text(" ", strip=True)
    assert register.count(earlier) == 1  # queued for its dry run only, never to apply
    listed = {
        row.select_one("a")["href"]: row.get_text(" ", strip=True)
        for row in soup(admin.get("/register/")).select("tbody tr")
    }
    assert "Superseded" in listed[f"/register/imports/{earlier}"]
    assert "Checked, not applied" in listed[f"/register/imports/{later}"]


def test_an_import_applied_from_the_command_line_supersedes_waiting_dry_runs(
    app: Flask,
    session: Session,
    client_for: Callable[[str], FlaskClient],
    register: list[int],
    tmp_path: Path,
) -> None:
    admin = client_for("la_admin")
    waiting = uploaded(admin, extract())
    jobs.run_import(app, waiting)
    path = tmp_path / "extract.csv"
    path.write_bytes(extract())
    result = app.test_cli_runner().invoke(args=["register", "import", str(path), "--apply"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.get(RegisterImport, waiting).report["superseded_by"] == "command line"
    assert stored_uploads(app) == []
    text = import_page(admin, waiting).get_text(" ", strip=True)
    assert "An import from the command line has been applied since this file was checked" in text


def test_tidy_removes_the_uploads_of_imports_finished_or_abandoned_long_ago(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    admin = client_for("la_admin")
    now = utcnow()
    long_ago, lately = now - timedelta(days=31), now - timedelta(days=29)
    imports = {name: uploaded(admin, extract(), links=LINKS) for name in ("old", "recent")}
    imports |= {name: uploaded(admin, extract()) for name in ("stalled", "running", "leftover")}
    for name in ("old", "recent", "leftover"):
        jobs.run_import(app, imports[name])
    records = {name: session.get(RegisterImport, import_id) for name, import_id in imports.items()}
    records["old"].finished_at = long_ago
    records["recent"].finished_at = lately
    # Its server stopped a month ago, part way through; the other is still going.
    records["stalled"].status = ImportStatus.RUNNING
    records["stalled"].report = {"heartbeat": long_ago.isoformat()}
    records["running"].status = ImportStatus.RUNNING
    records["running"].report = {"heartbeat": now.isoformat()}
    # Applied before uploads were removed on applying: its file is still here.
    records["leftover"].status, records["leftover"].finished_at = ImportStatus.APPLIED, long_ago
    session.commit()
    old_report = dict(records["old"].report)
    # Files no import keeps: a forgotten upload, a new one, and something not ours.
    directory = Path(app.config["REGISTER_IMPORT_DIRECTORY"])
    for name in ("999001.csv", "999002.csv", "notes.txt"):
        (directory / name).write_text("URN\n")
    for name in ("999001.csv", "notes.txt"):
        os.utime(directory / name, (long_ago.timestamp(), long_ago.timestamp()))

    result = app.test_cli_runner().invoke(args=["register", "tidy"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Removed the uploaded files of 3 imports finished or abandoned over 30 days ago.\n"
    )
    kept = [imports["recent"], imports["running"]]
    assert stored_uploads(app) == sorted(
        ["999002.csv", "notes.txt", f"{kept[0]}.csv", f"{kept[0]}-links.csv", f"{kept[1]}.csv"]
    )
    session.expire_all()
    old = session.get(RegisterImport, imports["old"])
    assert (old.status, old.stored_path, old.report) == (ImportStatus.READY, "", old_report)
    assert session.get(RegisterImport, imports["stalled"]).status is ImportStatus.RUNNING
    page = import_page(admin, imports["old"])
    assert not page.select("form[action$='/apply']")
    assert "not applied in time, and has been removed" in page.get_text(" ", strip=True)
    assert "Expired" in soup(admin.get("/register/")).get_text(" ", strip=True)

    # Nothing left that old; --older-than-days 0 takes the rest of what has finished.
    again = app.test_cli_runner().invoke(args=["register", "tidy", "--older-than-days", "0"])
    assert again.output.startswith("Removed the uploaded files of 1 import finished ")
    assert stored_uploads(app) == sorted(["999002.csv", "notes.txt", f"{kept[1]}.csv"])


def test_tidy_leaves_a_dry_run_that_was_asked_to_be_applied_meanwhile(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient], register: list[int]
) -> None:
    """Tidying reads the dry run, then someone presses Apply before it removes the file: the
    import goes ahead with its file, and tidying lets it be."""
    from portal.db import db

    admin = client_for("la_admin")
    import_id = uploaded(admin, extract())
    jobs.run_import(app, import_id)
    with app.app_context():
        seen = db.session.get(RegisterImport, import_id)
        assert seen.keeps_file
        db.session.expunge(seen)
    # Outside that context: the client's requests would otherwise share its session.
    apply(admin, import_id)
    with app.app_context():
        assert jobs._let_go(seen) == []
        db.session.commit()
    assert stored_uploads(app) == [f"{import_id}.csv"]
    jobs.run_import(app, import_id)
    session.expire_all()
    assert session.get(RegisterImport, import_id).status is ImportStatus.APPLIED
