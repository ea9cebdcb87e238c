"""The load test: people using the portal on the morning of the buy-back deadline.

Four kinds of simulated user, each signed in as a real account (bench/accounts.py):

* school staff look up their local contacts (and search them, as htmx does while they type)
  and browse the services catalogue and a service's page;
* head teachers open their school's buy-back choice (a task list of categories), open a
  category, change an answer (htmx asks for the new total) and save it into the draft;
* CAF officers work their queue: open it, filter it (htmx), open a request;
* publishers open a service's edit form and save it unchanged.

Requests are named by page ("home", "contacts search", "buy-back total"...), so locust's
statistics are per page. A page counts as failed unless it answers as it does for a person:
200 with its heading, a fragment for htmx, 303 after a successful form.

Settings, from the environment (bench/run.py sets them):

* BENCH_ACCOUNTS: the accounts file the driver wrote (else the demo council's accounts);
* BENCH_SESSIONS: a file of signed-in sessions by account, so that a later run in the same
  benchmark reuses them instead of signing in again (an authenticator code works once);
* BENCH_THINK: seconds a person pauses between pages, "0.5-1.5" (a range) or "0";
* BENCH_SIGN_IN: "1" for a run in which the users only sign in (see ``_SignInRun``);
* BENCH_PAGE: for the ``OnePage`` user, the one page it requests over and over
  (see ``PAGE_RUNS``), to measure that page's own throughput;
* BARE path: the ``BareLayout`` user requests only ``/bench/bare`` (bench/bare.py), anonymously.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Callable
from http.cookiejar import Cookie, CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import gevent
import pyotp
from gevent.event import AsyncResult
from locust import FastHttpUser, between, constant, events, task
from locust.stats import CSV_STATS_INTERVAL_SEC

from bench.accounts import read_accounts
from bench.bare import BARE_PATH, SIGNED_IN_PATH
from bench.forms import CATEGORY_LINK, Form, csrf_token, form_with_field, read_form
from bench.results import SIGNED_IN_LAYOUT

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SESSION_COOKIE = "session"
# Words people search the directory for: roles, teams and places in it.
SEARCHES = ["caf", "family", "early help", "attendance", "youth", "social", "welfare", "north"]
SERVICE_LINK = re.compile(r'href="/services/(\d+)[?"]')
REQUEST_LINK = re.compile(r'href="/support/(\d+)"')
SCHOOL_CHOICE = re.compile(r"/buy-back/(\d+)$")
ERROR_SUMMARY = re.compile(r'govuk-error-summary__list">(.*?)</ul>', re.DOTALL)


@events.quit.add_listener
def _last_csv_write(**_: Any) -> None:
    """locust rewrites its --csv files once a second, and not again when it stops: wait for
    one more rewrite, so that they hold the run's last second too."""
    gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.5)


def _think() -> Callable[..., float]:
    spec = os.environ.get("BENCH_THINK", "0.5-1.5")
    low, _, high = spec.partition("-")
    return between(float(low), float(high)) if high else constant(float(low))


def _path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


ACCOUNTS = read_accounts(_path("BENCH_ACCOUNTS"))


class SignedInSessions:
    """Each account's signed-in session cookie, shared by the simulated users of one account.

    One account signs in once per benchmark: its first user signs in while the others of
    the same account wait for the cookie. A later run (the per-page runs) reads the cookies
    back from the file, as a person keeps their session between pages.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.cookies: dict[str, AsyncResult] = {}
        self.from_file: set[str] = set()
        if path is not None and path.exists():
            for email, value in json.loads(path.read_text()).items():
                self.cookies[email] = AsyncResult()
                self.cookies[email].set(value)
                self.from_file.add(email)

    def kept(self, email: str) -> bool:
        """Whether ``email`` was signed in when this run began (by an earlier run)."""
        return email in self.from_file

    def get_or_sign_in(self, email: str, sign_in: Callable[[], str | None]) -> str | None:
        if email in self.cookies:
            return self.cookies[email].get()
        waiting = self.cookies[email] = AsyncResult()
        value = sign_in()
        waiting.set(value)
        if value is None:
            # A failed sign-in (already counted as a failure) is tried again next time.
            del self.cookies[email]
        else:
            self._save()
        return value

    def forget(self, email: str) -> None:
        self.cookies.pop(email, None)
        self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        ready = {e: r.get() for e, r in self.cookies.items() if r.ready() and r.get()}
        self.path.write_text(json.dumps(ready))


SESSIONS = SignedInSessions(_path("BENCH_SESSIONS"))
# The next account for each role: simulated users take them in turn.
_turns: dict[str, int] = {}


def _next_account(role: str) -> dict[str, Any]:
    accounts = ACCOUNTS[role]
    # A later run takes the accounts an earlier one signed in, in the same turns, so that it
    # measures pages, not sign-ins (and asks for no authenticator code twice in 30 seconds).
    signed_in = [a for a in accounts if SESSIONS.kept(a["email"])]
    pool = signed_in or accounts
    turn = _turns.get(role, 0)
    _turns[role] = turn + 1
    return pool[turn % len(pool)]


def _session_cookie(jar: CookieJar) -> str | None:
    return next((c.value for c in jar if c.name == SESSION_COOKIE), None)


def _give_session_cookie(jar: CookieJar, host: str, value: str) -> None:
    jar.set_cookie(
        Cookie(
            version=0,
            name=SESSION_COOKIE,
            value=value,
            port=None,
            port_specified=False,
            domain=host,
            domain_specified=False,
            domain_initial_dot=False,
            path="/",
            path_specified=True,
            secure=False,
            expires=None,
            discard=True,
            comment=None,
            comment_url=None,
            rest={"HttpOnly": ""},
        )
    )


class PortalUser(FastHttpUser):
    """A person signed in as an account of ``role``, requesting pages as a browser does."""

    abstract = True
    role: str
    wait_time = _think()

    def on_start(self) -> None:
        self.account = _next_account(self.role)
        self.host_name = urlsplit(self.host).hostname or "127.0.0.1"
        self.current_url = self.host + "/"
        self.signed_in = self._join_session()
        _SignInRun.started += 1

    # --- signing in ---------------------------------------------------------------------------

    def _join_session(self) -> bool:
        email = self.account["email"]
        value = SESSIONS.get_or_sign_in(email, self._sign_in)
        if value is None:
            return False
        if _session_cookie(self.client.cookiejar) != value:
            _give_session_cookie(self.client.cookiejar, self.host_name, value)
        return True

    def _sign_in(self) -> str | None:
        page = self.page("sign-in page", "/sign-in", heading="Sign in")
        token = csrf_token(page or "")
        if token is None:
            return None
        body = urlencode(
            {
                "csrf_token": token,
                "email": self.account["email"],
                "password": self.account["password"],
            }
        )
        secret = self.account.get("totp_secret")
        with self.client.post(
            "/sign-in",
            name="sign in",
            data=body,
            headers=FORM,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            wanted = "/sign-in/code" if secret else "/"
            if response.status_code != 303 or _location(response) != wanted:
                response.failure(f"sign-in refused for {self.account['email']}")
                return None
        if secret and not self._enter_security_code(secret):
            return None
        return _session_cookie(self.client.cookiejar)

    def _enter_security_code(self, secret: str) -> bool:
        totp = pyotp.TOTP(secret)
        for attempt in range(2):
            page = self.page("security code page", "/sign-in/code", heading="security code")
            token = csrf_token(page or "")
            if token is None:
                return False
            body = urlencode({"csrf_token": token, "code": totp.now()})
            with self.client.post(
                "/sign-in/code",
                name="security code",
                data=body,
                headers=FORM,
                allow_redirects=False,
                catch_response=True,
            ) as response:
                if response.status_code == 303:
                    return True
                if attempt == 0 and response.status_code == 200:
                    # This account's current code was used moments ago (by a benchmark
                    # before this one): a person would wait for their app's next code.
                    response.success()
                    gevent.sleep(totp.interval - time.time() % totp.interval + 1)
                    continue
                response.failure(f"security code refused for {self.account['email']}")
        return False

    # --- requests, checked as a person would see them -------------------------------------------

    def page(
        self,
        name: str,
        path: str,
        heading: str | None = None,
        htmx_target: str | None = None,
        trigger: str | None = None,
    ) -> str | None:
        """GET ``path`` as ``name``: 200 with ``heading`` in it (a fragment if for htmx)."""
        headers = self._htmx(htmx_target, trigger) if htmx_target else None
        with self.client.get(
            path, name=name, headers=headers, allow_redirects=False, catch_response=True
        ) as response:
            return self._check_page(response, heading, htmx=htmx_target is not None, path=path)

    def post_form(
        self, name: str, path: str, body: str, htmx_target: str | None = None, **expect: Any
    ) -> Any:
        """POST a form; checked by the caller (the outcome depends on the form)."""
        headers = dict(FORM)
        if htmx_target:
            headers |= self._htmx(htmx_target, expect.pop("trigger", None))
            token = expect.pop("csrf", None)
            if token:
                # htmx sends the page's token in a header too (hx-headers on <body>).
                headers["X-CSRFToken"] = token
        return self.client.post(
            path,
            name=name,
            data=body,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
        )

    def _htmx(self, target: str, trigger: str | None) -> dict[str, str]:
        headers = {"HX-Request": "true", "HX-Current-URL": self.current_url, "HX-Target": target}
        if trigger:
            headers["HX-Trigger"] = trigger
        return headers

    def _check_page(self, response: Any, heading: str | None, htmx: bool, path: str) -> str | None:
        text = response.text or ""
        if response.status_code != 200:
            if response.status_code in (302, 401) and "/sign-in" in _location(response):
                # The session has ended: sign in again next time.
                SESSIONS.forget(self.account["email"])
                self.signed_in = False
            response.failure(f"{response.status_code} for {path}")
            return None
        if htmx == ("<html" in text[:200]):
            response.failure("a whole page for htmx" if htmx else "a fragment for a page")
            return None
        if heading and heading not in text:
            response.failure(f"no {heading!r} on {path}")
            return None
        if not htmx:
            self.current_url = self.host + path
        return text

    def before_each(self) -> bool:
        """Whether this user is signed in (again, if the session ended) to go on."""
        if not self.signed_in:
            self.signed_in = self._join_session()
        return self.signed_in


def _first_error(page: str) -> str:
    """The first message of a page's error summary, to say why a form was refused."""
    found = ERROR_SUMMARY.search(page)
    return re.sub(r"<[^>]+>|\s+", " ", found.group(1)).strip() if found else "no error shown"


def _location(response: Any) -> str:
    location = (response.headers or {}).get("Location", "") or ""
    return urlsplit(location).path or location


class SchoolStaff(PortalUser):
    """A teacher or SENCO: who to call about a child, and what the council offers."""

    role = "school_staff"
    weight = 8

    def home(self) -> None:
        self.page("home", "/", heading="What you can do here")

    def contacts(self) -> str | None:
        return self.page("contacts", "/contacts/", heading="Local contacts")

    def contacts_search(self) -> None:
        words = random.choice(SEARCHES)
        self.page(
            "contacts search",
            "/contacts/?" + urlencode({"q": words, "role": "", "area": ""}),
            htmx_target="results",
            trigger="q",
        )

    def catalogue(self) -> str | None:
        return self.page("catalogue", "/services/", heading="Services for schools")

    def signed_in_layout(self) -> str | None:
        return self.page(SIGNED_IN_LAYOUT, SIGNED_IN_PATH, heading="Bare layout")

    @task(3)
    def find_a_contact(self) -> None:
        if not self.before_each():
            return
        self.home()
        self.wait()
        self.contacts()
        self.wait()
        self.contacts_search()

    @task(2)
    def browse_services(self) -> None:
        if not self.before_each():
            return
        catalogue = self.catalogue()
        ids = SERVICE_LINK.findall(catalogue or "")
        if ids:
            self.wait()
            self.page("service", f"/services/{random.choice(ids)}", heading="What is included")


class HeadTeacher(PortalUser):
    """A head teacher choosing next year's traded services as the deadline nears."""

    role = "head_teacher"
    weight = 6

    def on_start(self) -> None:
        super().on_start()
        self.choice_path: str | None = None
        self.categories: list[str] | None = None  # the choice's categories' pages
        self.category_path: str | None = None
        # The category and answer this person last changed, and the option it had, to
        # change it back.
        self.changed: tuple[str, str, str | None] | None = None

    def _find_choice(self) -> str | None:
        with self.client.get(
            "/buy-back/", name="buy-back start", allow_redirects=False, catch_response=True
        ) as response:
            location = _location(response)
            if response.status_code != 302 or not SCHOOL_CHOICE.search(location):
                response.failure("no buy-back choice for one school")
                return None
            return location

    def buyback(self) -> str | None:
        if self.choice_path is None:
            self.choice_path = self._find_choice()
        if self.choice_path is None:
            return None
        return self.page("buy-back", self.choice_path, heading="Buy-back for")

    def buyback_category(self, path: str | None = None) -> str | None:
        """A category of the school's choice: ``path``, or one of them at random."""
        if self.categories is None:
            self.categories = CATEGORY_LINK.findall(self.buyback() or "")
        self.category_path = path or (random.choice(self.categories) if self.categories else None)
        if self.category_path is None:
            return None
        return self.page("buy-back category", self.category_path, heading="Back to your choices")

    @task
    def choose_and_save(self) -> None:
        if not self.before_each():
            return
        self.categories = CATEGORY_LINK.findall(self.buyback() or "")
        self.wait()
        # The category this person last changed, to change it back; else any of them.
        path = self.changed[0] if self.changed else None
        page = self.buyback_category(path)
        path = self.category_path
        form = read_form(page or "", "choices")
        if path is None or form is None or form.disabled:
            # Read-only (the window is not open for this school): looking is all they do.
            return
        self.wait()
        self._change_an_answer(path, form)
        with self.post_form(
            "buy-back total",
            path,
            form.body(action="total"),
            htmx_target="choice-total",
            trigger="choices",
            csrf=form.get("csrf_token"),
        ) as response:
            if response.status_code != 200 or "every category" not in (response.text or ""):
                response.failure(f"{response.status_code}: no total")
                return
        self.wait()
        with self.post_form("buy-back save", path, form.body(action="save")) as saved:
            text = saved.text or ""
            if saved.status_code == 303 and _location(saved) == self.choice_path:
                self.page("buy-back", self.choice_path, heading="saved as a draft")
            elif saved.status_code == 200 and "Someone else has just saved" in text:
                # Two people of one school saving one category at once (only when there are
                # fewer head teachers than simulated ones): the portal's answer, not an error.
                saved.request_meta["name"] = "buy-back save (conflict)"
                saved.success()
            else:
                saved.failure(f"{saved.status_code}: draft not saved: {_first_error(text)}")

    def _change_an_answer(self, path: str, form: Form) -> None:
        """Change one answer as a person would (and back again on the next visit)."""
        if self.changed is not None and form.get(self.changed[1]) == "no":
            _, answer, option = self.changed
            form.set(answer, "buy")
            if option is not None:
                # Not buying cleared the option: choose the one that was bought again.
                form.set(answer.replace("answer-", "option-", 1), option)
            self.changed = None
            return
        self.changed = None
        buying = [
            name for name, value in form.fields if name.startswith("answer-") and value == "buy"
        ]
        if buying:
            answer = random.choice(buying)
            self.changed = (path, answer, form.get(answer.replace("answer-", "option-", 1)))
            form.set(answer, "no")


class CafOfficer(PortalUser):
    """A CAF officer working through the area's queue of support requests."""

    role = "caf_officer"
    weight = 4

    def queue(self) -> str | None:
        return self.page("queue", "/support/", heading="Support queue")

    @task
    def work_the_queue(self) -> None:
        if not self.before_each():
            return
        queue = self.queue()
        self.wait()
        urgency = random.choice(["urgent", "soon", "routine"])
        filtered = self.page(
            "queue filter",
            "/support/?" + urlencode({"status": "open", "urgency": urgency, "sort": "respond_by"}),
            htmx_target="queue",
            trigger="urgency",
        )
        ids = REQUEST_LINK.findall(filtered or "") or REQUEST_LINK.findall(queue or "")
        if ids:
            self.wait()
            self.page("support request", f"/support/{random.choice(ids)}", heading="Timeline")


class Publisher(PortalUser):
    """A service publisher keeping a service's description up to date."""

    role = "publisher"
    weight = 2

    @task
    def edit_a_service(self) -> None:
        if not self.before_each():
            return
        catalogue = self.page("catalogue", "/services/", heading="Services for schools")
        ids = SERVICE_LINK.findall(catalogue or "")
        if not ids:
            return
        service_id = random.choice(ids)
        self.wait()
        page = self.page("service edit", f"/services/{service_id}/edit", heading="Change ")
        # The sign-out form in the header comes first on every page: the service's is the
        # one with a name field.
        form = form_with_field(page or "", "name")
        if form is None:
            return
        self.wait()
        with self.post_form("service save", f"/services/{service_id}/edit", form.body()) as saved:
            if saved.status_code != 303:
                saved.failure(f"{saved.status_code}: service not saved")
                return
        self.page("service offers", f"/services/{service_id}/offers", heading="has been updated")


class BareLayout(FastHttpUser):
    """Nobody signed in, asking for the bare layout: the machine's ceiling."""

    wait_time = constant(0)

    @task
    def bare(self) -> None:
        with self.client.get(BARE_PATH, name="bare layout", catch_response=True) as response:
            if response.status_code != 200 or "Bare layout" not in (response.text or ""):
                response.failure(f"{response.status_code}: not the bare layout")


# Each main page of issue #8, as the person who uses it: (user class, the method that asks).
PAGE_RUNS: dict[str, tuple[type[PortalUser], str]] = {
    "home": (SchoolStaff, "home"),
    "contacts": (SchoolStaff, "contacts"),
    "contacts search": (SchoolStaff, "contacts_search"),
    "catalogue": (SchoolStaff, "catalogue"),
    "buy-back": (HeadTeacher, "buyback"),
    "buy-back category": (HeadTeacher, "buyback_category"),
    "queue": (CafOfficer, "queue"),
    SIGNED_IN_LAYOUT: (SchoolStaff, "signed_in_layout"),
}


def _one_page_user(page: str) -> type[PortalUser]:
    base, method = PAGE_RUNS[page]

    def ask(user: PortalUser) -> None:
        if user.before_each():
            getattr(user, method)()

    user = type("OnePage", (base,), {"wait_time": constant(0), "__module__": __name__})
    # Set after the class is made: locust's metaclass would add the journeys of ``base``.
    user.tasks = [ask]
    return user


if os.environ.get("BENCH_PAGE"):
    OnePage = _one_page_user(os.environ["BENCH_PAGE"])


class _SignInRun:
    """BENCH_SIGN_IN=1: the users of the mix sign in, and once all have, the run is over.

    The driver runs this before the mixed run, so that the mixed run measures pages, not a
    burst of password hashing, and every later run finds its users' sessions ready.
    """

    started = 0
    ending = False

    @staticmethod
    def ask(user: PortalUser) -> None:
        runner = user.environment.runner
        if not _SignInRun.ending and _SignInRun.started >= (runner.target_user_count or 0):
            _SignInRun.ending = True
            # From a greenlet of its own: quitting stops every user, this one included.
            gevent.spawn(runner.quit)
        gevent.sleep(0.5)


if os.environ.get("BENCH_SIGN_IN") == "1":
    for _journeys in (SchoolStaff, HeadTeacher, CafOfficer, Publisher):
        _journeys.tasks = [_SignInRun.ask]
