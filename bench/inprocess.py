"""Each main page's cost drawn in-process, as a share of the bare layout's (issue #18).

    .venv/bin/python -m bench.inprocess [--rounds 200] [--json out.json] [--profile PAGE]

The portal's own app, on the database DATABASE_URL names (by default the benchmark's,
``postgresql+psycopg://postgres@127.0.0.1:5432/bench``), with Flask's test client: no
network, no other process, so what is timed is the portal's work for one request (the
WSGI stack, the session, the SQL round trips, drawing the page, compressing it).

Each round asks for every page once, in a shuffled order, with the bare layout asked
for again before each page, so that the bare layout and the pages share the same moments
of a busy machine (interleaved). A page's figure is the median of its rounds; its share is
the bare layout's median over its own. A share of 25 % means the page costs four bare
layouts. Nothing is kept between requests by the portal (no page is served from a copy),
so each request draws its page.

With ``--profile PAGE`` it runs that page's requests under cProfile instead and prints the
functions that take the most time, cumulatively: where a page's time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import html
import os
import pstats
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from bench.accounts import find_accounts
from bench.bare import BARE_PATH, SIGNED_IN_PATH, create_bench_app
from bench.forms import (
    CATEGORY_LINK,
    REQUEST_LINK,
    SERVICE_LINK,
    answer_the_rest,
    csrf_token,
    read_form,
    simple_answers,
)
from bench.results import (
    BARE,
    SIGNED_IN_LAYOUT,
    Figure,
    inprocess_table,
    inprocess_verdicts,
    write_figures,
)

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"


@dataclass(frozen=True)
class Page:
    """A page as its person asks for it: who, the path, and the htmx headers if any."""

    name: str
    role: str
    path: str
    headers: dict[str, str] | None = None


def _csrf(client: FlaskClient, path: str) -> str:
    found = csrf_token(client.get(path).get_data(as_text=True))
    if found is None:
        raise SystemExit(f"no CSRF token on {path}")
    return found


def sign_in(app: Flask, account: dict[str, Any]) -> FlaskClient:
    """A test client signed in as ``account`` through the sign-in forms."""
    client = app.test_client()
    response = client.post(
        "/sign-in",
        data={
            "csrf_token": _csrf(client, "/sign-in"),
            "email": account["email"],
            "password": account["password"],
        },
    )
    if response.status_code != 303:
        raise SystemExit(f"sign-in refused for {account['email']}")
    secret = account.get("totp_secret")
    if secret:
        # A code is accepted once: another process signing in as the same person (a second
        # measurement, say) may have used this one, so try the next few.
        for _ in range(5):
            token = _csrf(client, "/sign-in/code")
            answer = client.post(
                "/sign-in/code", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()}
            )
            if answer.status_code == 303:
                break
            # This code was used moments ago (a run before this one, or beside it): wait for
            # the next, at a moment of it no other process waiting would choose.
            time.sleep(30 - time.time() % 30 + 1 + random.uniform(0, 20))
        else:
            raise SystemExit(f"security code refused for {account['email']}")
    return client


def _get(client: FlaskClient, path: str, headers: dict[str, str] | None = None) -> str:
    response = client.get(path, headers=headers)
    if response.status_code != 200:
        raise SystemExit(f"{response.status_code} for {path}")
    return response.get_data(as_text=True)


def find_pages(clients: dict[str, FlaskClient]) -> list[Page]:
    """The main pages, with ids found as a person finds them (following the links)."""
    staff, head, officer = clients["school_staff"], clients["head_teacher"], clients["caf_officer"]
    catalogue = _get(staff, "/services/")
    service_ids = SERVICE_LINK.findall(catalogue)
    choice = head.get("/buy-back/")
    if choice.status_code != 302:
        raise SystemExit("the head teacher has no buy-back choice for one school")
    choice_path = choice.headers["Location"]
    bring_to_the_deadline(head, choice_path)
    categories = CATEGORY_LINK.findall(_get(head, choice_path))
    requests = REQUEST_LINK.findall(_get(officer, "/support/"))
    if not (service_ids and categories and requests):
        raise SystemExit("no service, buy-back category or support request to open")
    search = "/contacts/?" + urlencode({"q": "caf", "role": "", "area": ""})
    htmx = {"HX-Request": "true", "HX-Target": "results", "HX-Trigger": "q"}
    return [
        Page(SIGNED_IN_LAYOUT, "school_staff", SIGNED_IN_PATH),
        Page("home", "school_staff", "/"),
        Page("contacts", "school_staff", "/contacts/"),
        Page("contacts search", "school_staff", search, htmx),
        Page("catalogue", "school_staff", "/services/"),
        Page("service", "school_staff", f"/services/{service_ids[len(service_ids) // 2]}"),
        Page("buy-back", "head_teacher", choice_path),
        Page("buy-back category", "head_teacher", categories[len(categories) // 2]),
        Page("queue", "caf_officer", "/support/"),
        Page("support request", "caf_officer", f"/support/{requests[0]}"),
    ]


def page_asks(clients: dict[str, FlaskClient], pages: list[Page]) -> dict[str, Callable[[], Any]]:
    """Each page's request as its person asks for it, by the page's name."""
    return {
        page.name: (lambda page=page: _get(clients[page.role], page.path, page.headers))
        for page in pages
    }


def bare_ask(app: Flask) -> Callable[[], Any]:
    """The bare layout's request, asked for by nobody signed in."""
    anonymous = app.test_client()
    return lambda: _get(anonymous, BARE_PATH)


def _timed(ask: Callable[[], Any]) -> float:
    start = time.perf_counter()
    ask()
    return (time.perf_counter() - start) * 1000


def measure(
    app: Flask, clients: dict[str, FlaskClient], pages: list[Page], rounds: int
) -> list[Figure]:
    """Each page's median over ``rounds`` interleaved rounds, and its share of the bare
    layout's median."""
    asks = page_asks(clients, pages)
    bare = bare_ask(app)
    # Warm: templates compiled, statements prepared, connections open.
    for _ in range(3):
        bare()
        for ask in asks.values():
            ask()
    times: dict[str, list[float]] = {BARE: []} | {name: [] for name in asks}
    order = list(asks)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            times[BARE].append(_timed(bare))
            times[name].append(_timed(asks[name]))
    bare_ms = statistics.median(times[BARE])
    # A task list costs more the more its school has saved, submitted and changed since:
    # what the buy-back pages' school had, as its task list said after the rounds.
    state = choice_state(asks["buy-back"]()) if "buy-back" in asks else ""
    figures = [Figure(BARE, bare_ms, None)]
    for name, values in times.items():
        if name != BARE:
            median = statistics.median(values)
            about = f"its school's choice {state}" if name.startswith("buy-back") else ""
            figures.append(Figure(name, median, bare_ms / median, about))
    return figures


_SUBMITTED = re.compile(r"Submitted (\d+) times?;")

# Where the buy-back pages' school is put before they are measured (bring_to_the_deadline).
NEAR_THE_DEADLINE = "with changes not yet sent"


def _post(client: FlaskClient, path: str, body: str) -> Any:
    return client.post(path, data=body, content_type="application/x-www-form-urlencoded")


def bring_to_the_deadline(client: FlaskClient, choice_path: str) -> str:
    """Put the head teacher's school where most schools are near the deadline, and where a
    task list costs the most: every category answered and saved, the choice submitted, and
    an answer changed since (not yet sent). Done through the pages' own forms, as a head
    teacher would; left as it is if the school is there already (a run before this one).
    Without this, the buy-back pages' figures would depend on what earlier runs left: a
    school with only last year's choices filled in costs about a millisecond less.
    The state, as choice_state says it."""
    state = choice_state(_get(client, choice_path))
    if state.endswith(NEAR_THE_DEADLINE):
        return state
    categories = CATEGORY_LINK.findall(_get(client, choice_path))
    for path in categories:
        page = _get(client, path)
        form = read_form(page, "choices")
        if form is None or form.disabled:
            raise SystemExit(f"the buy-back window is not open on {path}")
        answer_the_rest(form)
        if _post(client, path, form.body(action="save")).status_code != 303:
            raise SystemExit(f"{path} was not saved")
    submit = read_form(_get(client, choice_path), "submit")
    if submit is None:
        raise SystemExit(f"no submit form on {choice_path}")
    submit.set("declaration", "yes")
    if _post(client, choice_path, submit.body()).status_code != 303:
        raise SystemExit(f"{choice_path} was not submitted")
    # One answer changed since: the first category with one that needs nothing else.
    for path in categories:
        page = _get(client, path)
        form = read_form(page, "choices")
        simple = simple_answers(page, form) if form is not None else []
        if form is not None and simple:
            form.set(simple[0], "no" if form.get(simple[0]) == "buy" else "buy")
            if _post(client, path, form.body(action="save")).status_code != 303:
                raise SystemExit(f"{path} was not saved")
            break
    state = choice_state(_get(client, choice_path))
    if not state.endswith(NEAR_THE_DEADLINE):
        raise SystemExit(f"the buy-back school could not be brought to the deadline: {state}")
    return state


def choice_state(task_list: str) -> str:
    """Where a school's buy-back choice stands, as its task list says: submitted (how many
    times, and with changes not yet sent), a draft, or last year's choices filled in."""
    task_list = html.unescape(task_list)
    submitted = _SUBMITTED.search(task_list)
    if submitted is not None:
        times = int(submitted.group(1))
        state = f"submitted {times} time{'s' if times != 1 else ''}"
        if "Changes not yet sent to the council" in task_list:
            state += ", with changes not yet sent"
        return state
    if "Draft saved" in task_list:
        return "a draft, not yet submitted"
    if "Last year's choices have been filled in" in task_list:
        return "last year's, filled in; nothing saved"
    return "not known"


def setup(database_url: str) -> tuple[Flask, dict[str, FlaskClient], list[Page]]:
    os.environ.setdefault("DATABASE_URL", database_url)
    app = create_bench_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        accounts = find_accounts(per_role=1)
    clients = {}
    for role in ("school_staff", "head_teacher", "caf_officer"):
        if not accounts.get(role):
            raise SystemExit(f"no usable {role} account in the database")
        clients[role] = sign_in(app, accounts[role][0])
    return app, clients, find_pages(clients)


def profile(app: Flask, clients: dict[str, FlaskClient], page: Page, rounds: int) -> None:
    client = clients[page.role]
    for _ in range(3):
        _get(client, page.path, page.headers)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        _get(client, page.path, page.headers)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the figures here, as JSON")
    parser.add_argument("--profile", metavar="PAGE", help="profile one page instead")
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    args = parser.parse_args(argv)
    app, clients, pages = setup(args.database_url)
    if args.profile:
        chosen = [page for page in pages if page.name == args.profile]
        if not chosen:
            raise SystemExit(f"no page {args.profile!r}: {', '.join(p.name for p in pages)}")
        profile(app, clients, chosen[0], args.rounds)
        return 0
    figures = measure(app, clients, pages, args.rounds)
    print(inprocess_table(figures))
    for what, result, detail in inprocess_verdicts(figures):
        print(f"- {what}: {result.strip('*')} ({detail})")
    if args.json:
        write_figures(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
