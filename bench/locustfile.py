"""The load test: people using the portal on a morning before the buy-back deadline.

Four kinds of simulated person, each signed in as a real account (bench/accounts.py), each
following their role's journey round and round, reading every page for a few seconds before
the next, and never asking for the same page twice in a row unless something on it changed:

* school staff open the home page, their local contacts, search the contacts as they type
  (htmx asks as the words come), then the services catalogue and a service;
* head teachers work through their school's buy-back choice: the task list, a category
  (answering what is unanswered and changing an answer, htmx giving the new total), save it
  (back to the task list, which shows it saved), then another category; once every category
  is answered, now and then they submit the choice (purchase order, declaration) and go on;
* CAF officers open their queue, filter it (htmx), open a request and now and then add a note
  (acknowledging a new request) or give a request to another officer of its area;
* publishers open a service's edit form and save it.

Requests are named by page ("home", "contacts search", "buy-back total"...), so locust's
statistics are per page. A request counts as failed unless it answers as it does for a person:
200 with what the page must show, a fragment for htmx, 303 after a successful form. A
journey that cannot go on (an unexpected page, or the harness asking for a page twice in a
row) raises, and locust records it with the run's exceptions.

Settings, from the environment (bench/run.py sets them):

* BENCH_ACCOUNTS: the accounts file the driver wrote (else the demo council's accounts);
* BENCH_SESSIONS: a file of signed-in sessions by account, so that a later run in the same
  benchmark reuses them instead of signing in again (an authenticator code works once);
* BENCH_THINK: seconds a person reads a page before the next, "2-6" (a range) or "0";
* BENCH_SIGN_IN: "1" for a run in which the people only sign in (see ``_SignInRun``).
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

from bench.accounts import WEIGHTS, read_accounts
from bench.forms import (
    ANSWERED,
    REQUEST_LINK,
    SERVICE_LINK,
    Form,
    answer_the_rest,
    csrf_token,
    form_with_field,
    read_form,
    ready_to_submit,
    simple_answers,
    tasks,
    text_of,
)

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SESSION_COOKIE = "session"
# Words people search the directory for: roles, teams and places in it.
SEARCHES = ["caf", "family", "early help", "attendance", "youth", "social", "welfare", "north"]
# The notes officers add to a request.
NOTES = [
    "Called the school: the family has agreed to a meeting.",
    "Left a message for the designated safeguarding lead.",
    "Early help assessment started; next review in four weeks.",
    "Family support worker to join the next meeting.",
]
SCHOOL_CHOICE = re.compile(r"/buy-back/(\d+)$")
ERROR_SUMMARY = re.compile(r'govuk-error-summary__list">(.*?)</ul>', re.DOTALL)
# How often a person does the rarer things, once the page that offers them is open.
SUBMIT_CHANCE = 0.3  # a head teacher whose choice is ready, on the task list
UPDATE_CHANCE = 0.3  # an officer on a request: a note, or acknowledging a new one
ACKNOWLEDGE_CHANCE = 0.5  # of those updates, on a new request
REASSIGN_CHANCE = 0.1  # an officer on a request someone has: giving it to a colleague


class HarnessError(Exception):
    """The simulated person cannot go on as a person would: a fault of the harness."""


@events.quit.add_listener
def _last_csv_write(**_: Any) -> None:
    """locust rewrites its --csv files once a second, and not again when it stops: wait for
    one more rewrite, so that they hold the run's last second too."""
    gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.5)


def _think() -> Callable[..., float]:
    spec = os.environ.get("BENCH_THINK", "2-6")
    low, _, high = spec.partition("-")
    return between(float(low), float(high)) if high else constant(float(low))


def _path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


ACCOUNTS = read_accounts(_path("BENCH_ACCOUNTS"))
SIGNING_IN = os.environ.get("BENCH_SIGN_IN") == "1"


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
    # People take the accounts in turn, in the same order in every run: a run that signs in
    # more people than the one before signs in the accounts it adds after those already
    # signed in. A measured run takes only accounts signed in before it, shared if there are
    # more people than accounts, so that it measures pages, not sign-ins (and asks for no
    # authenticator code twice in 30 seconds).
    signed_in = [a for a in accounts if SESSIONS.kept(a["email"])]
    pool = accounts if SIGNING_IN else signed_in or accounts
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
        # The last whole page asked for: never asked for again straight away (see ``page``).
        self.last_page: str | None = None
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
            page = self.page(
                "security code page",
                "/sign-in/code",
                heading="security code",
                changed=attempt > 0,  # a new code to type
            )
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
        changed: bool = False,
    ) -> str | None:
        """GET ``path`` as ``name``: 200 with ``heading`` in it (a fragment if for htmx).

        A whole page is never asked for twice in a row unless ``changed`` (a form sent from
        it has changed what it shows): people do not reload a page to read it again.
        """
        if htmx_target is None:
            if path == self.last_page and not changed:
                raise HarnessError(f"{path} asked for twice in a row")
            self.last_page = path
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
        """Whether this person is signed in (again, if the session ended) to go on."""
        if not self.signed_in:
            self.signed_in = self._join_session()
        return self.signed_in


def _first_error(page: str) -> str:
    """The first message of a page's error summary, to say why a form was refused."""
    found = ERROR_SUMMARY.search(page)
    return text_of(found.group(1)) if found else "no error shown"


def _location(response: Any) -> str:
    location = (response.headers or {}).get("Location", "") or ""
    return urlsplit(location).path or location


class SchoolStaff(PortalUser):
    """A teacher or SENCO: who to call about a child, and what the council offers."""

    role = "school_staff"
    weight = WEIGHTS[role]

    @task
    def look_up(self) -> None:
        if not self.before_each():
            return
        self.page("home", "/", heading="What you can do here")
        self.wait()
        self.page("contacts", "/contacts/", heading="Local contacts")
        self.wait()
        self.search_as_typed(random.choice(SEARCHES))
        self.wait()
        catalogue = self.page("catalogue", "/services/", heading="Services for schools")
        ids = SERVICE_LINK.findall(catalogue or "")
        if ids:
            self.wait()
            self.page("service", f"/services/{random.choice(ids)}", heading="What is included")

    def search_as_typed(self, words: str) -> None:
        """htmx asks once typing pauses (300 ms): after the first letters, then the words."""
        typed = [words[:3], words] if len(words) > 4 else [words]
        for number, text in enumerate(typed):
            if number:
                gevent.sleep(random.uniform(0.5, 1.5))
            self.page(
                "contacts search",
                "/contacts/?" + urlencode({"q": text, "role": "", "area": ""}),
                htmx_target="results",
                trigger="q",
            )


class HeadTeacher(PortalUser):
    """A head teacher completing and submitting next year's buy-back choice."""

    role = "head_teacher"
    weight = WEIGHTS[role]

    def on_start(self) -> None:
        super().on_start()
        self.choice_path: str | None = None
        # The task list as this person last saw it (None: to be asked for).
        self.task_list: str | None = None
        self.category_path: str | None = None
        # What this person changed in each category (answer, the value it had), changed back
        # on their next visit there. What a run leaves changed is as likely to be Buying as
        # Not buying, so the schools' choices do not drift one way from run to run.
        self.changed: dict[str, tuple[str, str]] = {}

    def _find_choice(self) -> str | None:
        with self.client.get(
            "/buy-back/", name="buy-back start", allow_redirects=False, catch_response=True
        ) as response:
            location = _location(response)
            if response.status_code != 302 or not SCHOOL_CHOICE.search(location):
                response.failure("no buy-back choice for one school")
                return None
            return location

    @task
    def work_on_the_choice(self) -> None:
        if not self.before_each():
            return
        if self.choice_path is None:
            self.choice_path = self._find_choice()
            if self.choice_path is None:
                return
        if self.task_list is None:
            self.task_list = self.page("buy-back", self.choice_path, heading="Buy-back for")
            if self.task_list is None:
                return
            self.wait()
        if ready_to_submit(self.task_list) and random.random() < SUBMIT_CHANCE:
            self.submit()
            return
        self.choose_a_category()

    def choose_a_category(self) -> None:
        categories = tasks(self.task_list or "")
        left = [path for path, status in categories if status not in ANSWERED]
        # Another category than the last: the first not yet answered, else any.
        others = [path for path, _ in categories if path != self.category_path] or [
            path for path, _ in categories
        ]
        if not others:
            raise HarnessError(f"no category on {self.choice_path}")
        self.category_path = path = (
            left[0] if left and left[0] != self.category_path else random.choice(others)
        )
        # Whatever happens next, the task list this person saw is not the one they return to.
        self.task_list = None
        page = self.page("buy-back category", path, heading="Back to your choices")
        form = read_form(page or "", "choices")
        if form is None or form.disabled:
            # Read-only (the window is not open for this school): looking is all they do.
            return
        self.wait()
        self._answer(path, page or "", form)
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
                saved_to = self.choice_path
            elif saved.status_code == 200 and "Someone else has just saved" in text:
                # Two people of one school saving one category at once (only when there are
                # more simulated head teachers than schools): the portal's answer, not an error.
                saved.request_meta["name"] = "buy-back save (conflict)"
                saved.success()
                return
            else:
                saved.failure(f"{saved.status_code}: draft not saved: {_first_error(text)}")
                return
        self.task_list = self.page("buy-back", saved_to, heading="saved as a draft")

    def _answer(self, path: str, page: str, form: Form) -> None:
        """Answer what is unanswered (not buying), and change one answer as a person would:
        the one changed here last time back again, else a service's buying or not."""
        answer_the_rest(form)
        if path in self.changed:
            name, value = self.changed.pop(path)
            form.set(name, value)
            return
        simple = simple_answers(page, form)
        if simple:
            name = random.choice(simple)
            value = form.get(name) or "no"
            self.changed[path] = (name, value)
            form.set(name, "no" if value == "buy" else "buy")

    def submit(self) -> None:
        """Submit the choice from the task list, as its form asks, and go on."""
        form = read_form(self.task_list or "", "submit")
        if form is None or self.choice_path is None:
            raise HarnessError(f"no submit form on {self.choice_path}")
        form.set("declaration", "yes")
        if random.random() < 0.5:
            form.set("purchase_order", f"PO-{random.randint(10000, 99999)}")
        self.task_list = None
        with self.post_form("buy-back submit", self.choice_path, form.body()) as sent:
            text = sent.text or ""
            confirmation = _location(sent)
            if sent.status_code == 303 and "/submissions/" in confirmation:
                pass
            elif sent.status_code == 200 and "Someone else has just saved" in text:
                # The task list again, as it now stands: the person reads it and goes on.
                sent.request_meta["name"] = "buy-back submit (conflict)"
                sent.success()
                self.task_list = text
                return
            else:
                sent.failure(f"{sent.status_code}: not submitted: {_first_error(text)}")
                return
        self.page("buy-back confirmation", confirmation, heading="Choices submitted")


class CafOfficer(PortalUser):
    """A CAF officer working through the area's queue of support requests."""

    role = "caf_officer"
    weight = WEIGHTS[role]

    @task
    def work_the_queue(self) -> None:
        if not self.before_each():
            return
        queue = self.page("queue", "/support/", heading="Support queue")
        self.wait()
        urgency = random.choice(["urgent", "soon", "routine"])
        filtered = self.page(
            "queue filter",
            "/support/?" + urlencode({"status": "open", "urgency": urgency, "sort": "respond_by"}),
            htmx_target="queue",
            trigger="urgency",
        )
        ids = REQUEST_LINK.findall(filtered or "") or REQUEST_LINK.findall(queue or "")
        if not ids:
            return
        self.wait()
        path = f"/support/{random.choice(ids)}"
        page = self.page("support request", path, heading="Timeline")
        if page is None:
            return
        chance = random.random()
        if chance < UPDATE_CHANCE:
            self.wait()
            self.update(path, page)
        elif chance < UPDATE_CHANCE + REASSIGN_CHANCE:
            self.wait()
            self.reassign(path, page)

    def update(self, path: str, page: str) -> None:
        """A note (for the school, or the council only); on a new request, now and then
        acknowledging it with the note."""
        form = form_with_field(page, "version")
        if form is None:
            return  # closed or redirected: nothing more can be recorded
        actions = form.choices.get("action", [])
        acknowledge = "acknowledged" in actions and random.random() < ACKNOWLEDGE_CHANCE
        form.set("action", "acknowledged" if acknowledge else "note")
        form.set("note", random.choice(NOTES))
        form.set("shared", random.choice(["school", "council"]))
        with self.post_form("support update", path, form.body()) as sent:
            text = sent.text or ""
            if sent.status_code == 303 and _location(sent) == path:
                pass
            elif sent.status_code == 200 and "Someone else has just updated" in text:
                sent.request_meta["name"] = "support update (conflict)"
                sent.success()
                return
            else:
                sent.failure(f"{sent.status_code}: update not saved: {_first_error(text)}")
                return
        self.page("support request", path, heading="Your update has been saved.", changed=True)

    def reassign(self, path: str, page: str) -> None:
        """Give a request someone has to another officer of its area (those nobody has yet
        stay in the queue for whoever takes them)."""
        form = form_with_field(page, "officer")
        current = form.get("officer") if form else None
        if form is None or not current:
            return
        others = [value for value in form.choices.get("officer", []) if value not in ("", current)]
        if not others:
            return
        form.set("officer", random.choice(others))
        with self.post_form("support assign", f"{path}/assign", form.body()) as sent:
            if sent.status_code != 303 or _location(sent) != path:
                sent.failure(f"{sent.status_code}: not assigned: {_first_error(sent.text or '')}")
                return
        self.page("support request", path, heading="This request is", changed=True)


class Publisher(PortalUser):
    """A service publisher keeping a service's description up to date."""

    role = "publisher"
    weight = WEIGHTS[role]

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


class _SignInRun:
    """BENCH_SIGN_IN=1: the people sign in, and once all have, the run is over.

    The driver runs this before the mixed run (the sign-in burst it reports) and before each
    capacity step (for the accounts the step adds), so that the measured runs measure pages,
    not a burst of password hashing, and find their people's sessions ready.
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


if SIGNING_IN:
    for _journeys in (SchoolStaff, HeadTeacher, CafOfficer, Publisher):
        _journeys.tasks = [_SignInRun.ask]
