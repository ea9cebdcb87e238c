"""The load-test harness (bench/): what it can be trusted to say without running a load.

The report turns locust's CSV into the tables and verdicts of RESULTS.md; the bare layout is
the page layout and nothing else, with no SQL; the forms the simulated users send are the
real pages' forms, which the portal accepts; the accounts they sign in as are the usable ones.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bench import results
from bench.accounts import (
    PER_ROLE,
    demo_accounts,
    find_accounts,
    read_accounts,
    write_accounts,
)
from bench.bare import BARE_PATH, SIGNED_IN_PATH, install
from bench.forms import (
    ANSWERED,
    CATEGORY_LINK,
    REQUEST_LINK,
    Form,
    answer_the_rest,
    form_with_field,
    read_form,
    ready_to_submit,
    simple_answers,
    tasks,
    text_of,
)
from bench.inprocess import bring_to_the_deadline, choice_state
from bench.run import (
    BenchError,
    accounts_needed,
    check_database_url,
    check_redis_url,
    data_size,
    machine_facts,
    server_environment,
)
from portal import clock
from portal.db import db
from portal.models import Membership, Role, School, Service, User
from portal_seed.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
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


def figures(shares: dict[str, float]) -> list[results.Figure]:
    """In-process figures: the bare layout at 1.4 ms, each page at the share given."""
    return [results.Figure(results.BARE, 1.4, None)] + [
        results.Figure(name, round(1.4 / share, 2), share) for name, share in shares.items()
    ]


# Every main page's share: the lowest (contacts) short of 25 %, the median (the catalogue)
# at 35 % exactly.
SHARES = {
    "signed-in layout": 0.70,
    "home": 0.40,
    "contacts": 0.20,
    "contacts search": 0.30,
    "catalogue": 0.35,
    "service": 0.50,
    "buy-back": 0.28,
    "buy-back category": 0.26,
    "queue": 0.45,
    "support request": 0.38,
}


def step(folder: Path, people: int, p95: str, failed: int = 0) -> results.Step:
    run = results.read_run(
        locust_csv(
            folder,
            f"step-{people}",
            [
                ("GET", "home", 900, failed, 20.0, "20", p95, "99"),
                ("POST", "buy-back save", 90, 0, 2.0, "30", "60", "70"),
            ],
        )
    )
    return results.Step(people, run)


def sample_report(folder: Path) -> results.Report:
    mixed = results.read_run(
        locust_csv(
            folder,
            "mixed",
            [
                ("GET", "home", 120, 0, 2.0, "40", "80", "95"),
                ("GET", "catalogue", 60, 0, 1.0, "60", "140", "180"),
                ("POST", "buy-back submit", 6, 0, 0.1, "70", "90", "90"),
                # Asked for only while the people were starting: not measured.
                ("GET", "buy-back start", 0, 0, 0.0, "N/A", "N/A", "N/A"),
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
    steps = [step(folder, 75, "90"), step(folder, 100, "95", failed=2), step(folder, 150, "80")]
    (folder / "step-100_failures.csv").write_text(
        "Method,Name,Error,Occurrences,First Seen,Last Seen\n"
        "GET,home,CatchResponseError('500 for /'),2,0,0\n"
    )
    steps[1] = results.Step(100, results.read_run(folder / "step-100"))
    return results.Report(
        written_at=datetime(2027, 2, 25, 10, 0, tzinfo=UTC),
        machine={"cores": "2", "memory": "23.5 GiB"},
        data={"schools": 6043, "users": 60011},
        settings={"mixed run": "50 people for 180 s"},
        inprocess=figures(SHARES),
        signing_in=signing_in,
        mixed=mixed,
        mixed_users=50,
        steps=steps,
    )


def test_the_in_process_table_marks_each_page_against_its_share(tmp_path: Path) -> None:
    page = results.render(sample_report(tmp_path))

    table = page[page.index("## Each page's cost, in-process") :]
    assert f"| bare layout | 1.40 | {N} | {N} | {N} |" in table
    assert "| signed-in layout | 2.00 | 70% | ≥ 60% | met |" in table
    assert "| home | 3.50 | 40% | ≥ 25% | met |" in table
    assert "| contacts | 7.00 | 20% | ≥ 25% | **not met** |" in table
    assert "| buy-back category | 5.38 | 26% | ≥ 25% | met |" in table


def test_a_share_just_short_of_its_target_is_not_shown_as_the_target() -> None:
    measured = [
        results.Figure(results.BARE, 1.0, None),
        results.Figure(results.SIGNED_IN_LAYOUT, 1.0 / 0.5996, 0.5996),
        *(results.Figure(name, 1.0 / 0.3498, 0.3498) for name in results.MAIN_PAGES[:-1]),
        results.Figure(results.MAIN_PAGES[-1], 1.0 / 0.2496, 0.2496),
    ]
    details = [(result, detail) for _, result, detail in results.inprocess_verdicts(measured)]

    assert details == [
        (results.NOT_MET, "59.9%"),
        (results.NOT_MET, f"short: {results.MAIN_PAGES[-1]} (24.9%)"),
        (results.NOT_MET, "34.9%"),
    ]
    table = results.inprocess_table(measured)
    assert f"| {results.MAIN_PAGES[-1]} | 4.01 | 24.9% | ≥ 25% | **not met** |" in table
    # A share that meets its target is shown in whole percent, as before.
    assert f"| {results.MAIN_PAGES[0]} | 2.86 | 35% | ≥ 25% | met |" in table


def test_the_in_process_table_says_what_a_page_showed_where_that_changes_its_cost() -> None:
    measured = [
        results.Figure(results.BARE, 1.4, None),
        results.Figure("buy-back", 5.6, 0.25, "its school's choice submitted 3 times"),
        results.Figure("home", 3.5, 0.4),
    ]
    table = results.inprocess_table(measured)

    assert table.endswith("\n\n- buy-back: its school's choice submitted 3 times")
    assert "- home" not in table


def test_the_in_process_targets_are_judged_as_the_issue_asks() -> None:
    verdicts = results.inprocess_verdicts(figures(SHARES))

    assert [(result, detail) for _, result, detail in verdicts] == [
        ("met", "70%"),
        ("**not met**", "short: contacts (20%)"),
        ("met", "35%"),  # the median of the nine, the catalogue's
    ]
    below = results.inprocess_verdicts(
        figures(SHARES | {"signed-in layout": 0.59, "contacts": 0.25, "catalogue": 0.34})
    )
    assert [result for _, result, _ in below] == ["**not met**", "met", "**not met**"]
    missing = results.inprocess_verdicts(figures({k: v for k, v in SHARES.items() if k != "queue"}))
    assert missing[1][1:] == ("**not met**", "not measured: queue")
    assert missing[2][1] == "**not met**"


def test_the_mixed_run_has_a_row_per_page_and_marks_the_p95_target(tmp_path: Path) -> None:
    page = results.render(sample_report(tmp_path))

    mixed = page[page.index("## A morning before the deadline: 50 people") :]
    assert "| home | 120 | 0 | 40 | 80 | 95 | met |" in mixed
    assert "| catalogue | 60 | 0 | 60 | 140 | 180 | **not met** |" in mixed
    assert "| buy-back submit | 6 | 0 | 70 | 90 | 90 | met |" in mixed
    assert "buy-back start" not in page
    # Signing in, before the mixed run: its pages are held to the target too, but checking
    # the password hashes it on purpose: shown, exempt, and the reason given.
    signing_in = page[page.index("## Signing in") :]
    assert "| sign-in page | 20 | 0 | 30 | 120 | 130 | **not met** |" in signing_in
    assert "| sign in | 20 | 0 | 600 | 900 | 950 | exempt |" in signing_in
    assert "*sign in*: checks the password with argon2id" in page
    assert "Aggregated" not in page


def test_the_capacity_is_the_largest_step_met_before_the_first_that_was_not(
    tmp_path: Path,
) -> None:
    met_75, errors_100, met_150 = sample_report(tmp_path).steps
    slow_200 = step(tmp_path, 200, "100")  # 100 ms is not under 100 ms

    assert results.capacity([met_75, errors_100, met_150]) == (met_75, errors_100)
    assert results.capacity([met_75, met_150, slow_200]) == (met_150, slow_200)
    assert results.capacity([slow_200, met_75]) == (met_75, slow_200)  # in order of people
    assert results.capacity([met_75, met_150]) == (met_150, None)
    assert results.capacity([slow_200]) == (None, slow_200)
    # The accounts a step added could not sign in: the step has errors.
    refused = results.read_run(
        locust_csv(tmp_path, "sign-in-150", [("POST", "sign in", 50, 1, 5.0, "200", "300", "300")])
    )
    signed = results.Step(150, met_150.run, signing_in=refused)
    assert results.capacity([met_75, signed]) == (met_75, signed)

    page = results.render(sample_report(tmp_path))
    table = page[page.index("## Capacity") :]
    assert "| 50 (the mixed run) | 186 | 3.1 | 0 | 140 | catalogue | **not met** |" in table
    assert "| 75 | 990 | 22.0 | 0 | 90 | home | met |" in table
    assert "| 100 | 990 | 22.0 | 2 | 95 | home | **not met** |" in table


def test_the_report_marks_each_target_of_the_issue(tmp_path: Path) -> None:
    report = sample_report(tmp_path)
    verdicts = {target: (result, detail) for target, result, detail in results.verdicts(report)}

    assert verdicts[
        "every page's p95 under 100 ms with 50 people (the mixed run, and their signing in)"
    ] == ("**not met**", "slower: catalogue (140 ms), sign-in page (120 ms)")
    assert verdicts["in-process, every main page at 25% or more"] == (
        "**not met**",
        "short: contacts (20%)",
    )
    assert verdicts["no errors"] == ("**not met**", "2 failed requests")
    # The mixed run itself is not met, so the capacity is below its 50 people.
    capacity = "capacity: the most people served with every p95 under 100 ms and no errors"
    assert verdicts[capacity] == ("fewer than 50", "50 people: catalogue p95 140 ms")
    page = results.render(report)
    assert "| 100 people | home | GET | CatchResponseError('500 for /') | 2 |" in page
    assert "| schools | 6,043 |" in page
    assert "Written by `make bench` (bench/run.py) on 25 February 2027 at 10:00 UTC" in page
    assert "**Capacity: fewer than 50 people**" in page


def test_every_target_met_says_so(tmp_path: Path) -> None:
    fast = results.read_run(
        locust_csv(tmp_path, "mixed", [("GET", "home", 100, 0, 2.0, "20", "50", "70")])
    )
    signing_in = results.read_run(
        locust_csv(tmp_path, "sign-in", [("POST", "sign in", 50, 0, 5.0, "300", "600", "700")])
    )
    report = results.Report(
        written_at=datetime(2027, 2, 25, tzinfo=UTC),
        machine={},
        data={},
        settings={},
        inprocess=figures(SHARES | {"contacts": 0.3}),
        signing_in=signing_in,
        mixed=fast,
        mixed_users=50,
        steps=[step(tmp_path, 75, "60"), step(tmp_path, 100, "70")],
    )

    assert [result for _, result, _ in results.verdicts(report)] == [
        *("met", "met", "met", "met", "met"),
        "at least 100",
    ]
    page = results.render(report)
    assert "## Errors" not in page
    assert "**Capacity: at least 100 people** with every page's p95 under 100 ms" in page


def test_a_journey_that_could_not_go_on_is_an_error(tmp_path: Path) -> None:
    prefix = locust_csv(tmp_path, "mixed", [("GET", "home", 100, 0, 2.0, "20", "50", "70")])
    (tmp_path / "mixed_exceptions.csv").write_text(
        "Count,Message,Traceback,Nodes\n"
        "3,HarnessError('/ asked for twice in a row'),\"Traceback ...\",local\n"
    )

    run = results.read_run(prefix)

    assert run.failed == 3
    assert not results.step_met(results.Step(50, run))
    assert run.failures == [
        results.Failure("harness", N, "HarnessError('/ asked for twice in a row')", 3)
    ]


def test_the_in_process_figures_are_read_back_as_written(tmp_path: Path) -> None:
    written = figures(SHARES)
    results.write_figures(tmp_path / "inprocess.json", written)

    assert results.read_figures(tmp_path / "inprocess.json") == written


def test_the_steps_find_an_account_for_each_person_of_the_largest_role() -> None:
    # Of 800 people, school staff (8 of every 18) are 356.
    assert accounts_needed(800) == 357
    assert accounts_needed(20) == PER_ROLE


def test_the_bare_layout_is_the_page_layout_with_no_sql(make_app, app) -> None:
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


def test_the_signed_in_layout_is_the_same_layout_for_a_signed_in_person(make_app, app) -> None:
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


def _first_category(client, school_id: int) -> str:
    summary = client.get(f"/buy-back/{school_id}").get_data(as_text=True)
    categories = CATEGORY_LINK.findall(summary)
    assert categories, "the choice lists its categories"
    return categories[0]


def test_a_head_teachers_choice_form_is_read_as_a_browser_sends_it(
    client_for, session, monkeypatch
) -> None:
    monkeypatch.setattr(clock, "now", lambda: NEAR_THE_DEADLINE)
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
    assert read_form(after, "choices").get(answers[0]) == changed


def _save_category(client, path: str, change=None) -> str:
    """Open a category, answer what is unanswered (not buying) as the harness does, apply
    ``change`` to the form, save: the task list it returns to."""
    page = client.get(path).get_data(as_text=True)
    form = read_form(page, "choices")
    assert form is not None and not form.disabled
    answer_the_rest(form)
    if change is not None:
        change(page, form)
    saved = client.post(
        path, data=form.body(action="save"), content_type="application/x-www-form-urlencoded"
    )
    assert saved.status_code == 303, _error_summary(saved.get_data(as_text=True))
    return client.get(saved.headers["Location"]).get_data(as_text=True)


def _error_summary(page: str) -> str:
    found = re.search(r'govuk-error-summary__list">(.*?)</ul>', page, re.DOTALL)
    return text_of(found.group(1)) if found else "no error summary"


def test_a_head_teacher_completes_and_submits_the_choice_as_the_harness_does(
    client_for, session, monkeypatch
) -> None:
    monkeypatch.setattr(clock, "now", lambda: NEAR_THE_DEADLINE)
    school = session.scalars(select(School).where(School.urn == 125601)).one()
    head = client_for("head_teacher")
    choice = f"/buy-back/{school.id}"
    task_list = head.get(choice).get_data(as_text=True)
    categories = tasks(task_list)
    assert [path for path, _ in categories] == CATEGORY_LINK.findall(task_list)
    assert {status for _, status in categories} <= {"Completed", "In progress", "Not yet started"}
    assert any(status not in ANSWERED for _, status in categories), "the demo leaves some"
    assert not ready_to_submit(task_list)

    for path, status in categories:
        if status not in ANSWERED:
            task_list = _save_category(head, path)
    assert {status for _, status in tasks(task_list)} == {"Completed"}
    assert ready_to_submit(task_list)

    form = read_form(task_list, "submit")
    assert form is not None
    form.set("declaration", "yes")
    form.set("purchase_order", "PO-12345")
    sent = head.post(choice, data=form.body(), content_type="application/x-www-form-urlencoded")
    assert sent.status_code == 303, _error_summary(sent.get_data(as_text=True))
    assert "/submissions/" in sent.headers["Location"]
    assert "Choices submitted" in head.get(sent.headers["Location"]).get_data(as_text=True)
    # Submitted, nothing changed since: nothing to send again.
    submitted = head.get(choice).get_data(as_text=True)
    assert not ready_to_submit(submitted)
    assert choice_state(submitted) == "submitted 1 time"

    def change_one(page: str, form: Form) -> None:
        name = simple_answers(page, form)[0]
        form.set(name, "no" if form.get(name) == "buy" else "buy")

    task_list = _save_category(head, categories[0][0], change_one)
    assert "Changed, not yet sent" in [status for _, status in tasks(task_list)]
    assert ready_to_submit(task_list)
    assert choice_state(task_list) == "submitted 1 time, with changes not yet sent"


def test_the_buy_back_pages_school_is_brought_to_the_deadline_once(
    client_for, session, monkeypatch
) -> None:
    """Before the buy-back pages are measured, their school is brought through the pages'
    own forms to where most schools are near the deadline: every category saved, submitted,
    an answer changed since. A school already there is left as it is."""
    monkeypatch.setattr(clock, "now", lambda: NEAR_THE_DEADLINE)
    school = session.scalars(select(School).where(School.urn == 125601)).one()
    head = client_for("head_teacher")
    choice = f"/buy-back/{school.id}"
    # The page writes the apostrophe as &#39;: read as a person reads it.
    assert choice_state(head.get(choice).get_data(as_text=True)) == (
        "last year's, filled in; nothing saved"
    )
    reached = "submitted 1 time, with changes not yet sent"
    assert bring_to_the_deadline(head, choice) == reached
    assert bring_to_the_deadline(head, choice) == reached  # not submitted again
    task_list = head.get(choice).get_data(as_text=True)
    assert choice_state(task_list) == reached
    assert {status for _, status in tasks(task_list)} <= set(ANSWERED)


def test_every_answer_the_harness_changes_is_accepted_either_way(
    client_for, session, monkeypatch
) -> None:
    monkeypatch.setattr(clock, "now", lambda: NEAR_THE_DEADLINE)
    school = session.scalars(select(School).where(School.urn == 125601)).one()
    head = client_for("head_teacher")
    for path in CATEGORY_LINK.findall(head.get(f"/buy-back/{school.id}").get_data(as_text=True)):
        flipped: dict[str, str] = {}
        _save_category(head, path, partial(_flip_every_simple_answer, flipped))
        after = read_form(head.get(path).get_data(as_text=True), "choices")
        assert after is not None
        assert {name: after.get(name) for name in flipped} == flipped


def _flip_every_simple_answer(flipped: dict[str, str], page: str, form: Form) -> None:
    for name in simple_answers(page, form):
        flipped[name] = "no" if form.get(name) == "buy" else "buy"
        form.set(name, flipped[name])


def test_an_officer_updates_and_reassigns_requests_as_the_harness_does(client_for) -> None:
    officer = client_for("caf_officer")
    queue = officer.get("/support/").get_data(as_text=True)
    pages = {
        f"/support/{i}": officer.get(f"/support/{i}").get_data(as_text=True)
        for i in REQUEST_LINK.findall(queue)
    }
    # A new request, acknowledged with a note.
    updates = {path: form_with_field(page, "version") for path, page in pages.items()}
    new, form = next(
        (path, form)
        for path, form in updates.items()
        if form is not None and "acknowledged" in form.choices["action"]
    )
    form.set("action", "acknowledged")
    form.set("note", "Called the school.")
    form.set("shared", "council")
    sent = officer.post(new, data=form.body(), content_type="application/x-www-form-urlencoded")
    assert sent.status_code == 303 and sent.headers["Location"] == new
    after = officer.get(new).get_data(as_text=True)
    assert "Your update has been saved." in after and "Called the school." in after

    # A request someone has, given to another officer of its area.
    path, form = next(
        (p, f)
        for p, page in pages.items()
        if (f := form_with_field(page, "officer")) is not None and f.get("officer")
    )
    others = [v for v in form.choices["officer"] if v not in ("", form.get("officer"))]
    assert others, "North has two officers"
    form.set("officer", others[0])
    sent = officer.post(
        f"{path}/assign", data=form.body(), content_type="application/x-www-form-urlencoded"
    )
    assert sent.status_code == 303 and sent.headers["Location"] == path
    assert "This request is" in officer.get(path).get_data(as_text=True)


def test_a_read_only_choice_form_shows_as_disabled(client_for, session, monkeypatch) -> None:
    # After the academies' deadline (31 March 2027), Riverside's head can only look.
    monkeypatch.setattr(clock, "now", lambda: datetime(2027, 4, 1, 9, tzinfo=UTC))
    school = session.scalars(select(School).where(School.urn == 140201)).one()
    head = client_for("academy_head")
    page = head.get(_first_category(head, school.id)).get_data(as_text=True)

    form = read_form(page, "choices")

    assert form is not None and form.disabled


def test_a_service_form_saved_unchanged_is_accepted(client_for, session) -> None:
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


def test_the_accounts_are_those_the_harness_can_sign_in_as(app, session, monkeypatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NEAR_THE_DEADLINE)
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


def test_an_account_the_harness_cannot_sign_in_as_is_left_out(app, session, monkeypatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NEAR_THE_DEADLINE)
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


def test_the_server_runs_without_rate_limits_and_never_as_production(monkeypatch) -> None:
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


def test_the_data_size_counts_the_tables_the_pages_read(app, session) -> None:
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


def test_instructions_are_read_from_callgrinds_dump(tmp_path: Path) -> None:
    """bench/instructions.py reads each page's count from callgrind's file: its totals line
    (a dump that counted nothing has none, and counts as nothing)."""
    from bench.instructions import instructions

    dump = tmp_path / "callgrind.out.3"
    dump.write_text(
        "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nfn=x\n16 7\ntotals: 6813402\n"
    )
    assert instructions(dump) == 6_813_402
    empty = tmp_path / "callgrind.out.4"
    empty.write_text("version: 1\nevents: Ir\n")
    assert instructions(empty) == 0


def test_the_database_is_vacuumed_and_analysed_before_measuring(app) -> None:
    """bench/run.py brings PostgreSQL's statistics up to date before it measures."""
    from bench.run import vacuum_analyze

    url = app.config["DATABASE_URL"]
    if not url.startswith("postgresql"):
        pytest.skip("the benchmark runs on PostgreSQL only")
    vacuum_analyze(url)
    with app.app_context():
        analysed = db.session.scalar(
            text(
                "SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL"
                " FROM pg_stat_user_tables WHERE relname = 'school'"
            )
        )
    assert analysed is True
