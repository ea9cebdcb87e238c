"""The load-test harness (bench/): what it can be trusted to say without running a load.

The report turns locust's CSV into the tables and verdicts of RESULTS.md; the bare layout is
the page layout and nothing else, with no SQL; the forms the simulated users send are the
real pages' forms, which the portal accepts; the accounts they sign in as are the usable ones.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench import results
from bench.accounts import demo_accounts, find_accounts, read_accounts, write_accounts
from bench.bare import BARE_PATH, SIGNED_IN_PATH, install
from bench.forms import CATEGORY_LINK, form_with_field, read_form
from bench.run import (
    BenchError,
    check_database_url,
    check_redis_url,
    data_size,
    machine_facts,
    server_environment,
)
from portal.buyback import service as buyback
from portal.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from portal.models import Membership, Role, School, Service, User
from tests.conftest import QueryCounter, sign_in

STATS_HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)
# An empty cell, and the dash in page titles.
N = "\N{EN DASH}"
# Inside the demo's open window for maintained schools (2 November 2026 to 2 March 2027).
NEAR_THE_DEADLINE = datetime(2027, 2, 25, 10, 0, tzinfo=UTC)


def locust_csv(
    folder: Path, name: str, rows: list[tuple[str, str, int, int, float, str, str, str]]
) -> Path:
    """A run's CSV files as locust writes them: (method, name, requests, failures, req/s,
    p50, p95, p99) per row, then the aggregate row that the report must ignore."""
    lines = [STATS_HEADER]
    for method, page, count, failed, rate, p50, p95, p99 in rows:
        lines.append(
            f"{method},{page},{count},{failed},{p50},50.1,3.2,900.0,12000.0,{rate},0.0,"
            f"{p50},{p50},{p50},{p50},{p95},{p95},{p99},{p99},{p99},{p99},{p99}"
        )
    total = sum(row[2] for row in rows)
    lines.append(f",Aggregated,{total},0,40,50.1,3.2,900.0,12000.0,9999.0,0.0" + ",40" * 11)
    (folder / f"{name}_stats.csv").write_text("\n".join(lines) + "\n")
    return folder / name


def sample_report(folder: Path) -> results.Report:
    mixed = results.read_run(
        locust_csv(
            folder,
            "mixed",
            [
                ("GET", "home", 120, 0, 2.0, "40", "80", "95"),
                ("GET", "catalogue", 60, 0, 1.0, "60", "140", "180"),
                ("GET", "queue filter", 0, 0, 0.0, "N/A", "N/A", "N/A"),
            ],
        )
    )
    signing_in = results.read_run(
        locust_csv(
            folder,
            "sign-in",
            [
                ("GET", "sign-in page", 20, 0, 2.0, "30", "120", "130"),
                ("POST", "sign in", 20, 0, 2.0, "600", "900", "950"),
            ],
        )
    )
    bare = [
        results.read_run(
            locust_csv(
                folder, f"bare-{when}", [("GET", "bare layout", 12000, 0, rate, "9", "20", "30")]
            )
        )
        for when, rate in (("before", 400.0), ("after", 600.0))
    ]
    home = locust_csv(folder, "page-home", [("GET", "home", 9000, 0, 300.0, "30", "60", "80")])
    queue = locust_csv(folder, "page-queue", [("GET", "queue", 6000, 2, 200.0, "50", "90", "99")])
    ceiling = locust_csv(
        folder, "page-signed-in", [("GET", "signed-in layout", 7000, 0, 230.0, "25", "40", "50")]
    )
    (folder / "page-queue_failures.csv").write_text(
        "Method,Name,Error,Occurrences,First Seen,Last Seen\n"
        "GET,queue,CatchResponseError('500 for /support/'),2,0,0\n"
    )
    return results.Report(
        written_at=datetime(2027, 2, 25, 10, 0, tzinfo=UTC),
        machine={"cores": "2", "memory": "23.5 GiB"},
        data={"schools": 6043, "users": 60011},
        settings={"users": "20"},
        mixed=mixed,
        signing_in=signing_in,
        bare=bare,
        pages={
            "home": results.read_run(home),
            "queue": results.read_run(queue),
            "signed-in layout": results.read_run(ceiling),
        },
    )


def test_the_report_has_a_row_per_page_and_marks_the_p95_target(tmp_path: Path) -> None:
    page = results.render(sample_report(tmp_path))

    assert "| home | GET | 120 | 2.0 | 40 | 80 | 95 | 0 | met |" in page
    assert "| catalogue | GET | 60 | 1.0 | 60 | 140 | 180 | 0 | **not met** |" in page
    # Signing in, before the mixed run: its pages are held to the target too, but checking
    # the password hashes it on purpose: shown, exempt, and the reason given.
    signing_in = page[page.index("## Signing in") :]
    assert "| sign-in page | GET | 20 | 2.0 | 30 | 120 | 130 | 0 | **not met** |" in signing_in
    assert "| sign in | POST | 20 | 2.0 | 600 | 900 | 950 | 0 | exempt |" in signing_in
    assert "*sign in*: checks the password with argon2id" in page
    # A page that was never asked for has no figures, and does not pass.
    assert f"| queue filter | GET | 0 | 0.0 | {N} | {N} | {N} | 0 | **not met** |" in page
    assert "Aggregated" not in page


def test_the_report_gives_each_main_page_its_share_of_the_bare_layout(tmp_path: Path) -> None:
    page = results.render(sample_report(tmp_path))

    # The bare layout's throughput is the mean of its runs before and after: 500 a second.
    assert f"| bare layout (before) | 400.0 | 9 | 20 | 30 | 0 | 80% | {N} |" in page
    assert f"| bare layout (after) | 600.0 | 9 | 20 | 30 | 0 | 120% | {N} |" in page
    assert "| home | 300.0 | 30 | 60 | 80 | 0 | 60% | met |" in page
    assert "| queue | 200.0 | 50 | 90 | 99 | 2 | 40% | **not met** |" in page
    assert f"| catalogue | {N} | {N} | {N} | {N} | {N} | not measured | **not met** |" in page
    # The signed-in layout, the floor of a page drawn afresh: shown first, not judged.
    floor = f"| signed-in layout | 230.0 | 25 | 40 | 50 | 0 | 46% | {N} |"
    assert page.index(floor) < page.index("| home | 300.0 |")


def test_the_report_marks_each_target_of_the_issue(tmp_path: Path) -> None:
    report = sample_report(tmp_path)
    verdicts = {target: (result, detail) for target, result, detail in results.verdicts(report)}

    assert verdicts["every page's p95 under 100 ms at 20 users (the mixed run and signing in)"] == (
        "**not met**",
        "slower: catalogue (140 ms), queue filter (no requests), sign-in page (120 ms)",
    )
    share = verdicts["the main pages at 50% or more of the bare layout's throughput"]
    assert share[0] == "**not met**"
    assert share[1].startswith("short: contacts (not measured), contacts search (not measured)")
    assert "queue (40 %)" in share[1]
    assert "home" not in share[1]
    assert verdicts["no errors"] == ("**not met**", "2 failed requests")
    page = results.render(report)
    assert "| queue alone | queue | GET | CatchResponseError('500 for /support/') | 2 |" in page
    assert "| schools | 6,043 |" in page
    assert "Written by `make bench` (bench/run.py) on 25 February 2027 at 10:00 UTC." in page


def test_every_target_met_says_so(tmp_path: Path) -> None:
    fast = [("GET", "home", 100, 0, 2.0, "20", "50", "70")]
    pages = {
        name: results.read_run(
            locust_csv(tmp_path, f"page-{i}", [("GET", name, 5000, 0, 260.0, "30", "60", "80")])
        )
        for i, name in enumerate(results.MAIN_PAGES)
    }
    report = results.Report(
        written_at=datetime(2027, 2, 25, tzinfo=UTC),
        machine={},
        data={},
        settings={"users": "20"},
        mixed=results.read_run(locust_csv(tmp_path, "mixed", fast)),
        bare=[
            results.read_run(
                locust_csv(tmp_path, "bare", [("GET", "bare layout", 1, 0, 500.0, "9", "20", "30")])
            )
        ],
        pages=pages,
    )

    assert [result for _, result, _ in results.verdicts(report)] == ["met", "met", "met"]
    assert "## Errors" not in results.render(report)


def test_the_bare_layout_is_the_page_layout_with_no_sql(make_app, app) -> None:  # type: ignore[no-untyped-def]
    bench_app = install(make_app())
    browser = bench_app.test_client()

    with QueryCounter(bench_app) as queries:
        response = browser.get(BARE_PATH)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    title = f"Bare layout {N} Schools Partner Portal {N} Arden County Council"
    assert f"<title>{title}</title>" in html
    assert "Accessibility statement" in html  # the footer
    main = re.search(r'<main[^>]*id="main-content"[^>]*>(.*?)</main>', html, re.DOTALL)
    assert main is not None and main.group(1).strip() == ""
    assert queries.count == 0, queries.statements
    # The product itself has no such route.
    assert app.test_client().get(BARE_PATH).status_code == 404


def test_the_signed_in_layout_is_the_same_layout_for_a_signed_in_person(make_app, app) -> None:  # type: ignore[no-untyped-def]
    bench_app = install(make_app())
    browser = bench_app.test_client()
    assert browser.get(SIGNED_IN_PATH).status_code == 302  # nobody signed in: sign in first
    assert sign_in(browser, "staff@oakfield.example").status_code == 303

    with QueryCounter(bench_app) as queries:
        response = browser.get(SIGNED_IN_PATH)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<title>Bare layout" in html
    # The person's navigation.
    assert "Sign out" in html and re.search(r">\s*Contacts\s*</a>", html)
    main = re.search(r'<main[^>]*id="main-content"[^>]*>(.*?)</main>', html, re.DOTALL)
    assert main is not None and main.group(1).strip() == ""
    # Only what every signed-in request reads: the person and their memberships.
    reads = [statement for statement in queries.statements if statement.startswith("SELECT")]
    assert len(reads) == 1 and "FROM user_account" in reads[0], queries.statements
    assert app.test_client().get(SIGNED_IN_PATH).status_code == 404


def _first_category(client, school_id: int) -> str:  # type: ignore[no-untyped-def]
    summary = client.get(f"/buy-back/{school_id}").get_data(as_text=True)
    categories = CATEGORY_LINK.findall(summary)
    assert categories, "the choice lists its categories"
    return categories[0]


def test_a_head_teachers_choice_form_is_read_as_a_browser_sends_it(
    client_for, session, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(buyback, "now", lambda: NEAR_THE_DEADLINE)
    school = session.scalars(select(School).where(School.urn == 125601)).one()
    head = client_for("head_teacher")
    path = _first_category(head, school.id)
    page = head.get(path).get_data(as_text=True)

    form = read_form(page, "choices")

    assert form is not None and not form.disabled
    assert form.get("csrf_token") and form.get("seen")
    answers = [name for name, _ in form.fields if name.startswith("answer-")]
    assert answers, "last year's choices fill in the answers"
    # The locust journey: change one answer, ask for the total as htmx does, save a draft.
    changed = "no" if form.get(answers[0]) == "buy" else "buy"
    form.set(answers[0], changed)
    total = head.post(
        path,
        data=form.body(action="total"),
        content_type="application/x-www-form-urlencoded",
        headers={"HX-Request": "true", "HX-Target": "choice-total"},
    )
    assert total.status_code == 200
    assert "every category" in total.get_data(as_text=True)
    assert "<html" not in total.get_data(as_text=True)
    saved = head.post(
        path,
        data=form.body(action="save"),
        content_type="application/x-www-form-urlencoded",
    )
    assert saved.status_code == 303
    assert saved.headers["Location"] == f"/buy-back/{school.id}"
    assert "saved as a draft." in head.get(saved.headers["Location"]).get_data(as_text=True)
    after = head.get(path).get_data(as_text=True)
    assert read_form(after, "choices").get(answers[0]) == changed  # type: ignore[union-attr]


def test_a_read_only_choice_form_shows_as_disabled(client_for, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # After the academies' deadline (31 March 2027), Riverside's head can only look.
    monkeypatch.setattr(buyback, "now", lambda: datetime(2027, 4, 1, 9, tzinfo=UTC))
    school = session.scalars(select(School).where(School.urn == 140201)).one()
    head = client_for("academy_head")
    page = head.get(_first_category(head, school.id)).get_data(as_text=True)

    form = read_form(page, "choices")

    assert form is not None and form.disabled


def test_a_service_form_saved_unchanged_is_accepted(client_for, session) -> None:  # type: ignore[no-untyped-def]
    service = session.scalars(select(Service).order_by(Service.id)).first()
    publisher = client_for("publisher")
    page = publisher.get(f"/services/{service.id}/edit").get_data(as_text=True)

    form = form_with_field(page, "name")

    assert form is not None
    assert form.get("name") == service.name
    assert form.get("category") == str(service.category_id)
    saved = publisher.post(
        f"/services/{service.id}/edit",
        data=form.body(),
        content_type="application/x-www-form-urlencoded",
    )
    assert saved.status_code == 303
    assert f"{service.name} has been updated." in publisher.get(saved.location).get_data(
        as_text=True
    )


def test_the_accounts_are_those_the_harness_can_sign_in_as(app, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(buyback, "now", lambda: NEAR_THE_DEADLINE)
    with app.app_context():
        found = find_accounts()

    emails = {role: [a["email"] for a in accounts] for role, accounts in found.items()}
    # One member of staff for each school that has any (the demo's seasons add schools;
    # accounts locked when the demo is seeded are locked for hours, not until this date).
    staff_schools = session.execute(
        select(Membership.school_id, User.email)
        .join(User, User.id == Membership.user_id)
        .where(Membership.role == Role.SCHOOL_STAFF)
    ).all()
    school_of = {email: school_id for school_id, email in staff_schools}
    assert emails["school_staff"][0] == "staff@oakfield.example"
    assert len({school_of[email] for email in emails["school_staff"]}) == len(
        emails["school_staff"]
    )
    assert len(emails["school_staff"]) == len(set(school_of.values()))
    # Only heads of schools whose window is open: on 25 February 2027, every cohort's is.
    assert emails["head_teacher"][:2] == ["head@oakfield.example", "head@riverside.example"]
    assert len(emails["head_teacher"]) == 7
    # An officer for each area, and North's second officer.
    assert sorted(emails["caf_officer"]) == sorted(
        [
            *(
                f"caf.{area}@council.example"
                for area in ("north", "nuneaton", "rugby", "warwick", "stratford")
            ),
            "caf2.north@council.example",
        ]
    )
    assert sorted(emails["publisher"]) == ["admin@council.example", "publisher@council.example"]
    assert all(a["password"] == DEMO_PASSWORD for accounts in found.values() for a in accounts)
    assert all(a["totp_secret"] == DEMO_TOTP_SECRET for a in found["caf_officer"])
    assert "totp_secret" not in found["school_staff"][0]


def test_an_account_the_harness_cannot_sign_in_as_is_left_out(app, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(buyback, "now", lambda: NEAR_THE_DEADLINE)
    north = session.scalars(select(User).where(User.email == "caf.north@council.example")).one()
    north.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # an authenticator of their own
    staff = session.scalars(select(User).where(User.email == "staff@oakfield.example")).one()
    staff.is_active = False
    session.flush()
    with app.app_context():
        found = find_accounts()

    assert "caf.north@council.example" not in [a["email"] for a in found["caf_officer"]]
    assert "staff@oakfield.example" not in [a["email"] for a in found["school_staff"]]


def test_the_accounts_file_falls_back_to_the_demo_for_a_missing_role(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    mine = [{"email": "head.1@generated.example", "password": DEMO_PASSWORD}]
    write_accounts(path, {"head_teacher": mine})

    accounts = read_accounts(path)

    assert accounts["head_teacher"] == mine
    assert accounts["caf_officer"] == demo_accounts()["caf_officer"]
    assert read_accounts(tmp_path / "missing.json") == demo_accounts()


def test_the_benchmark_runs_only_on_postgresql() -> None:
    assert check_database_url("postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    with pytest.raises(BenchError, match="must name a PostgreSQL database"):
        check_database_url("sqlite:///instance/portal.sqlite3")


def test_the_server_runs_without_rate_limits_and_never_as_production(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RATELIMIT_ENABLED", "true")
    env = server_environment("postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    assert env["RATELIMIT_ENABLED"] == "false"
    assert env["DATABASE_URL"].endswith("/bench")
    monkeypatch.setenv("PORTAL_ENV", "production")
    with pytest.raises(BenchError, match="PORTAL_ENV=production"):
        server_environment("postgresql+psycopg://postgres@127.0.0.1:5432/bench")


def test_the_machine_is_read_from_proc() -> None:
    cpuinfo = (
        "processor\t: 0\nmodel name\t: AMD EPYC 7B13\n\n"
        "processor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
    )
    facts = machine_facts(
        cpuinfo, "MemTotal:       24683468 kB\nMemFree: 1 kB\n", "0.52 0.60 0.71 1/300 42"
    )

    assert facts == {
        "cores": "2",
        "processor": "AMD EPYC 7B13",
        "memory": "23.5 GiB",
        "load average before the run (1, 5, 15 min)": "0.52 0.60 0.71",
    }


def test_the_data_size_counts_the_tables_the_pages_read(app, session) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        size = data_size()

    for label, model in (("schools", School), ("users", User), ("services", Service)):
        assert size[label] == session.scalar(select(func.count(model.id))), label
    assert size["schools"] >= 43  # the demo's, at least


def test_the_findings_people_wrote_close_the_report(tmp_path: Path) -> None:
    findings = "## Findings\n\nThe buy-back page is the slow one."
    page = results.render(sample_report(tmp_path), findings)
    assert page.rstrip().endswith(findings)
    assert "## Findings" not in results.render(sample_report(tmp_path))


def test_the_benchmark_runs_with_redis_as_production_does_or_says_why_not() -> None:
    assert check_redis_url("") == ""
    with pytest.raises(BenchError, match=r"cannot be reached.*--redis-url '' runs without it"):
        check_redis_url("redis://127.0.0.1:1/0")
