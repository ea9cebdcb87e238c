"""The query budget: no page runs more than 12 SQL statements, however much data there is.

Every page of the access matrix is asked for, as each role that may see it, whole and (where
the matrix says so) as its htmx fragment; the statements the app sends are counted. Then the
same pages are counted again after seed-scale has added a council's worth of schools, people,
contacts, services, support requests and buy-back choices: a page whose count moved is doing
something per row (an N+1), and fails.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient

from portal import clock
from portal.contacts import cards as contacts_cards
from portal_seed.scale import MIN_FACTOR, generate
from tests.access.test_access_matrix import CASES, ROLES
from tests.buyback.test_buyback import (
    DURING,
    answer_everything,
    category_paths,
    form_data,
    save_every_category,
)
from tests.helpers.routes import resolve
from tests.training.factories import BULK_YEAR_NOW, add_year_of_training

# Every page of the access matrix, and seed-scale's data: left out of make test-fast.
pytestmark = pytest.mark.slow

BUDGET = 12


def count_pages(
    browser: FlaskClient,
    role: str,
    count_queries,
    session,
) -> dict[str, int]:
    """Statements per page for every page the role may see."""
    counts: dict[str, int] = {}
    for case in CASES:
        if case.method != "GET" or case.expected(role) != case.ok:
            continue
        path = resolve(session, case.path)
        headers = {"HX-Request": "true"} if case.htmx else {}
        # The page as drawn in full: what is worked out once per version of the contacts
        # directory is worked out again, as after a change to it.
        contacts_cards.cards_cache.clear()
        with count_queries() as counter:
            response = browser.get(path, headers=headers)
            response.close()
        assert response.status_code == case.ok, path
        counts[f"{case.path}{' (htmx)' if case.htmx else ''}"] = counter.count
    assert counts, f"no pages for {role}"
    return counts


@pytest.mark.parametrize("role", ROLES)
def test_no_page_runs_more_than_12_queries(
    role: str,
    browser_for: Callable[[str], FlaskClient],
    count_queries,
    session,
) -> None:
    browser = browser_for(role)
    counts = count_pages(browser, role, count_queries, session)
    over = {page: count for page, count in counts.items() if count > BUDGET}
    assert over == {}, f"pages over the budget of {BUDGET} queries: {counts}"


def test_no_page_runs_more_queries_with_more_data(
    app: Flask,
    browser_for: Callable[[str], FlaskClient],
    count_queries,
    session,
) -> None:
    browsers = {role: browser_for(role) for role in ROLES}
    small = {role: count_pages(b, role, count_queries, session) for role, b in browsers.items()}
    with app.app_context():
        added = generate(MIN_FACTOR)  # inside the test's transaction, rolled back after
    assert added["schools"] >= 600 * MIN_FACTOR
    large = {role: count_pages(b, role, count_queries, session) for role, b in browsers.items()}
    grew = {
        f"{role} {page}": (small[role][page], count)
        for role in ROLES
        for page, count in large[role].items()
        if count > small[role][page]
    }
    assert grew == {}, f"pages whose query count grew with the data (small, large): {grew}"


def test_the_buy_back_pages_at_work_stay_within_budget(
    client_for: Callable[[str], FlaskClient],
    count_queries,
    session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The busiest pages on deadline morning: a category's total updated, the category saved,
    then the choice and the category again with the saved draft and last year's submission
    both in play, and the whole choice submitted."""
    monkeypatch.setattr(clock, "now", lambda: DURING)
    head = client_for("head_teacher")
    path = resolve(session, "/buy-back/{school:125601}")
    summary = BeautifulSoup(head.get(path).get_data(as_text=True), "html.parser")
    category = category_paths(summary)[0]
    page = BeautifulSoup(head.get(category).get_data(as_text=True), "html.parser")
    data = answer_everything(page, form_data(page))
    counts = {}
    with count_queries() as counter:
        head.post(
            category, data={**data, "action": "total"}, headers={"HX-Request": "true"}
        ).close()
    counts["total (htmx)"] = counter.count
    with count_queries() as counter:
        saved = head.post(category, data={**data, "action": "save"})
        saved.close()
    assert saved.status_code == 303
    counts["save"] = counter.count
    if session.bind.dialect.name == "sqlite":
        # SQLite cannot batch INSERT ... RETURNING, so each of the choice's lines is its own
        # statement there; PostgreSQL, the production database, sends them as one.
        counts["save"] -= sum(s.startswith("INSERT INTO buyback_line") for s in counter.statements)
        counts["save"] += 1
    with count_queries() as counter:
        head.get(path).close()
    counts["choice with a draft"] = counter.count
    with count_queries() as counter:
        head.get(category).close()
    counts["category with a draft"] = counter.count
    save_every_category(head, int(path.rsplit("/", 1)[1]))
    submit_form = form_data(BeautifulSoup(head.get(path).get_data(as_text=True), "html.parser"))
    with count_queries() as counter:
        submitted = head.post(path, data={**submit_form, "declaration": "yes"})
        submitted.close()
    assert submitted.status_code == 303
    counts["submit"] = counter.count
    assert all(count <= BUDGET for count in counts.values()), counts


# Home pages in the states the role accounts do not show: a choice changed since it was
# submitted, nothing to do, a member of staff locked out and an invitation waiting.
HOMES = [
    "head@bulkington.example",
    "staff@bulkington.example",
    "head@weddingtonpark.example",
    "head@dunchurch.example",
]


def test_every_home_page_stays_within_budget_whatever_it_lists(
    app: Flask,
    client_for: Callable[[str], FlaskClient],
    count_queries,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clock, "now", lambda: DURING)
    browsers = {email: client_for(email) for email in HOMES}

    def counts() -> dict[str, int]:
        found = {}
        for email, browser in browsers.items():
            with count_queries() as counter:
                response = browser.get("/")
                response.close()
            assert response.status_code == 200, email
            found[email] = counter.count
        return found

    small = counts()
    assert all(count <= BUDGET for count in small.values()), small
    with app.app_context():
        generate(MIN_FACTOR)  # inside the test's transaction, rolled back after
    assert counts() == small


def test_a_category_starting_from_last_years_answers_reads_in_four_statements(
    client_for: Callable[[str], FlaskClient],
    count_queries,
    session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With nothing saved this year, a category's page starts from last year's answers and
    totals the year with the services they bought elsewhere: the person; every window with
    the school's choice and latest submission in each, and its pupils on roll; what last
    year's submission sent, as its answer rows; and the year's offer, read here as nothing
    has been worked out yet (after that, once per version of the catalogue for each kind of
    school: portal/buyback/offer.py). It sent five once (the services bought read on their
    own); then three, with every window's latest submission's lines read in the second,
    which every other category's page paid for too (a school with a choice needs none)."""
    monkeypatch.setattr(clock, "now", lambda: DURING)
    head = client_for("head_teacher")
    path = resolve(session, "/buy-back/{school:125601}")
    summary = BeautifulSoup(head.get(path).get_data(as_text=True), "html.parser")
    assert "Last year's choices have been filled in" in summary.get_text()
    for category in category_paths(summary):
        with count_queries() as counter:
            response = head.get(category)
            response.close()
        assert response.status_code == 200
        # Not counted: the tests' own savepoint, and a published offer's price options, read
        # once per publication (portal.services.offers).
        page_reads = [
            statement
            for statement in counter.statements
            if not statement.startswith("ROLLBACK") and " AS the_offer," not in statement
        ]
        assert len(page_reads) == 4, page_reads
        assert not [statement for statement in page_reads if ".lines" in statement]


# The training reports' pages, as the Schools Forum asks for them (tests/training/).
TRAINING_REPORTS = [
    "/training/reports/take-up",
    "/training/reports/take-up?course={course}",
    "/training/reports/take-up?area={area}",
    "/training/reports/take-up.csv?table=courses",
    "/training/reports/take-up.csv?table=areas",
    "/training/reports/funds",
    "/training/reports/funds?fund={fund}",
    "/training/reports/funds.csv?fund={fund}",
]


def test_the_training_reports_read_as_many_statements_whatever_they_count(
    client_for: Callable[[str], FlaskClient],
    count_queries,
    session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Take-up and the funds' money with one session and one booking, then with a council's
    year of them: the same statements, within the budget (the figures are GROUP BYs)."""
    monkeypatch.setattr(clock, "now", lambda: BULK_YEAR_NOW)
    admin = client_for("la_admin")
    made = add_year_of_training(sessions=1, bookings_each=1, session=session)

    def counts() -> dict[str, int]:
        found = {}
        for page in TRAINING_REPORTS:
            path = page.format(**made)
            with count_queries() as counter:
                response = admin.get(path)
                response.close()
            assert response.status_code == 200, path
            found[page] = counter.count
        return found

    small = counts()
    assert all(count <= BUDGET for count in small.values()), small
    add_year_of_training(sessions=300, bookings_each=12, session=session)
    assert counts() == small
