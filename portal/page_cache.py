"""Pages kept for reuse: a page drawn for a person is served to them again, undrawn, while
nothing it shows can have changed.

Most of a main page's time is drawing it from the database, and most requests for it show
the same thing as the last one: a head teacher going back to the buy-back task list, staff
paging through contacts, an officer refreshing the queue. So each worker keeps the pages it
draws (views marked :func:`kept`) and serves one again when all of these are as they were:

* the person: their account row (but its secrets), memberships and the schools, trusts and
  areas of those, read afresh on every request in one query with the stamps; an account
  deactivated or signed out everywhere is never served;
* the session: signed in for less than SESSION_ABSOLUTE_HOURS, whether it gave a second
  factor, and no message waiting to be shown on the next page;
* the request: GET, the same path and query, the same htmx headers;
* the data: the stamp of every table the page's SQL read, as read at the start of the
  request that drew it (portal/stamps.py); any commit to one of them draws it afresh;
* the minute: pages count days and deadlines from now, so every kept page is dropped when
  the minute turns (and a page drawn across the turn is not kept).

What must differ on every response (the CSP nonce, the CSRF token, a form's idempotency
key: :func:`fresh`) is cut out when a page is kept and filled in anew each time it is served.
Anything else out of the ordinary (a request that changed data, a page that did not answer
200) is drawn as usual and not kept. Each worker keeps at most PAGE_CACHE_MB of pages; when
that is full, nothing more is kept until the minute turns. PAGE_CACHE_MB=0 keeps nothing.
With REDIS_URL, every worker of every app server also finds the pages the others drew
(:class:`SharedPageStore`), so a page is drawn about once a minute for a person, not once
in every worker their requests reach.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import generate_csrf
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Select, String, bindparam, cast, func, select

from portal import stamps
from portal.db import db, utcnow
from portal.numbers import record_id, whole_number

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
EXTENSION = "portal.page_cache"
# The htmx headers that decide whether a request gets a page or which fragment of it.
HTMX_HEADERS = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request", "HX-Target")
# Columns of the person's account that never reach a page, and change on their own.
_NOT_SHOWN = frozenset({"password_hash", "totp_secret", "recovery_codes", "totp_last_step"})

F = TypeVar("F", bound=Callable[..., Any])

# What each cut-out part of a page is filled with when it is served.
_FILLERS: dict[str, Callable[[], str]] = {
    "nonce": lambda: str(request.csp_nonce),  # type: ignore[attr-defined]
    "csrf": lambda: generate_csrf(),
}


def _hole(name: str) -> str:
    # NUL never reaches a page (portal/security.py refuses it in requests), so it cannot clash.
    return f"\x00fresh:{name}\x00"


def fresh(name: str, make: Callable[[], str]) -> str:
    """``make()``, a value a view puts in its page that must differ on every response (a
    form's idempotency key): a kept page is served with a new one."""
    _FILLERS.setdefault(name, make)
    value = make()
    g.setdefault("page_cache_fresh", {})[name] = value
    return value


@dataclass(frozen=True)
class KeptPage:
    # The tables the page read, with their stamps as the request that drew it began.
    stamps: tuple[tuple[str, int], ...]
    body: str
    holes: tuple[str, ...]

    def still_true(self, now: dict[str, int]) -> bool:
        return all(now.get(table, 0) == version for table, version in self.stamps)

    def encode(self) -> bytes:
        return json.dumps({"stamps": self.stamps, "body": self.body, "holes": self.holes}).encode()

    @classmethod
    def decode(cls, data: bytes) -> KeptPage:
        kept = json.loads(data)
        return cls(
            tuple((table, version) for table, version in kept["stamps"]),
            kept["body"],
            tuple(kept["holes"]),
        )

    def serve(self) -> str:
        body = self.body
        for name in self.holes:
            body = body.replace(_hole(name), _FILLERS[name]())
        return body


class PageStore:
    """One worker's kept pages, for the current minute only, up to ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.minute: tuple[int, ...] | None = None
        self.pages: dict[tuple[Any, ...], KeptPage] = {}
        self.size = 0
        # A worker may serve with threads (gunicorn --threads, `flask run`).
        self.lock = threading.Lock()

    def _turn(self, minute: tuple[int, ...]) -> None:
        if minute != self.minute:
            self.minute = minute
            self._drop()

    def _drop(self) -> None:
        self.pages = {}
        self.size = 0

    def clear(self) -> None:
        """Forget every kept page."""
        with self.lock:
            self._drop()

    def get(
        self, key: tuple[Any, ...], minute: tuple[int, ...], now: dict[str, int]
    ) -> KeptPage | None:
        """The page kept under ``key`` this minute, if it is true of the data stamped ``now``."""
        with self.lock:
            self._turn(minute)
            page = self.pages.get(key)
        return page if page is not None and page.still_true(now) else None

    def put(self, key: tuple[Any, ...], minute: tuple[int, ...], page: KeptPage) -> None:
        with self.lock:
            self._turn(minute)
            old = self.pages.pop(key, None)
            if old is not None:
                self.size -= len(old.body)
            if self.size + len(page.body) <= self.max_bytes:
                self.pages[key] = page
                self.size += len(page.body)


class SharedPageStore(PageStore):
    """One worker's kept pages, with every worker's (on every app server) in Redis behind
    them: a page is drawn once a minute for a person, not once in each worker they reach.

    Each page is in Redis for a little over its minute (it is no use after), under a name
    made from its key, its minute and the portal's release (so a new release never serves
    an old one's page). Redis slow or gone is a page drawn, never an error: after a failure
    this worker does without Redis for a while.
    """

    TTL_SECONDS = 90
    PAUSE_SECONDS = 30.0

    def __init__(self, max_bytes: int, redis: Redis, release: str) -> None:
        super().__init__(max_bytes)
        self.redis = redis
        self.prefix = f"portal:kept:{release}:"
        self.paused_until = 0.0

    def _name(self, key: tuple[Any, ...], minute: tuple[int, ...]) -> str:
        return self.prefix + hashlib.sha256(repr((minute, key)).encode()).hexdigest()

    def _usable(self) -> bool:
        return time.monotonic() >= self.paused_until

    def _failed(self, error: RedisError) -> None:
        logger.warning("kept pages: Redis failed (%s); drawing pages for a while", error)
        self.paused_until = time.monotonic() + self.PAUSE_SECONDS

    def get(
        self, key: tuple[Any, ...], minute: tuple[int, ...], now: dict[str, int]
    ) -> KeptPage | None:
        page = super().get(key, minute, now)
        if page is not None or not self._usable():
            return page
        # Not here, or here but out of date: another worker may have drawn it since.
        try:
            found = self.redis.get(self._name(key, minute))
        except RedisError as error:
            self._failed(error)
            return None
        if found is None:
            return None
        page = KeptPage.decode(found)
        if not page.still_true(now):
            return None
        super().put(key, minute, page)
        return page

    def put(self, key: tuple[Any, ...], minute: tuple[int, ...], page: KeptPage) -> None:
        super().put(key, minute, page)
        if not self._usable():
            return
        try:
            self.redis.set(self._name(key, minute), page.encode(), ex=self.TTL_SECONDS)
        except RedisError as error:
            self._failed(error)

    def clear(self) -> None:
        """Forget every kept page, every worker's too (the tests' rollbacks)."""
        super().clear()
        try:
            for name in self.redis.scan_iter(match=self.prefix + "*", count=1000):
                self.redis.delete(name)
        except RedisError as error:
            self._failed(error)


def release(app: Flask) -> str:
    """What this copy of the portal draws pages with (its templates, its code and its
    settings), as a digest: app servers share kept pages only when all three agree."""
    digest = hashlib.sha256()
    for folder, suffix in ((ROOT / "templates", ".html"), (ROOT / "portal", ".py")):
        for path in sorted(folder.rglob(f"*{suffix}")):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    settings = sorted(
        (name, value)
        for name, value in app.config.items()
        if isinstance(value, str | int | float | bool | None)
    )
    digest.update(repr(settings).encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class _Ask:
    """This request, as a kept page must match it: set by :func:`serve_kept_page`."""

    key: tuple[Any, ...]
    minute: tuple[int, ...]
    stamps: dict[str, int]


def _store() -> PageStore | None:
    store: PageStore | None = current_app.extensions.get(EXTENSION)
    return store


def _minute() -> tuple[int, ...]:
    """The minute, by each clock the pages count from. They are one clock in service; the
    tests move the buy-back deadline's, or the sign-in's, on its own."""
    from portal.auth import service as auth
    from portal.buyback import service as buyback

    return tuple(int(clock().timestamp() // 60) for clock in (utcnow, auth.now, buyback.now))


@cache
def _person_and_stamps() -> Select[Any]:
    """Every table's stamp (``name=version,...``), whether the account is active, its
    session version, then all a page could show or decide by about the person without
    asking again: their account (but its secrets), memberships, and the school, trust or
    area of each membership (loaded with them, so a page may show them with no query of its
    own). A row a membership, in one round trip."""
    from portal.models import Area, DataStamp, Membership, School, Trust, User

    every_stamp = select(
        func.aggregate_strings(DataStamp.table_name + "=" + cast(DataStamp.version, String), ",")
    ).scalar_subquery()
    return (
        select(
            every_stamp,
            User.is_active,
            User.session_version,
            *(column for column in User.__table__.c if column.name not in _NOT_SHOWN),
            *Membership.__table__.c,
            *School.__table__.c,
            *Trust.__table__.c,
            *Area.__table__.c,
        )
        .outerjoin(Membership, Membership.user_id == User.id)
        .outerjoin(School, School.id == Membership.school_id)
        .outerjoin(Trust, Trust.id == Membership.trust_id)
        .outerjoin(Area, Area.id == Membership.area_id)
        .where(User.id == bindparam("user_id"))
        .order_by(Membership.id)
    )


@dataclass(frozen=True)
class _Person:
    active: bool
    session_version: int
    # Everything about them a page could show or decide by, as one comparable value.
    facts: str
    stamps: dict[str, int]


def _person(user_id: int) -> _Person | None:
    rows = db.session.connection().execute(_person_and_stamps(), {"user_id": user_id}).all()
    if not rows:
        return None
    stamps_text, active, session_version = rows[0][:3]
    every_stamp = (pair.rpartition("=") for pair in (stamps_text or "").split(",") if pair)
    return _Person(
        active=bool(active),
        session_version=int(session_version),
        facts=repr([tuple(row)[3:] for row in rows]),
        stamps={name: int(version) for name, _, version in every_stamp},
    )


def serve_kept_page() -> str | None:
    """Before any other check: the kept page for this request, if it is still true.

    Otherwise None, and the request goes on as usual (signing out an expired session, the
    second factor, the view); a view marked :func:`kept` then keeps what it draws.
    """
    store = _store()
    view = current_app.view_functions.get(request.endpoint or "")
    if store is None or request.method != "GET" or not getattr(view, "page_cache", False):
        return None
    user, _, version = str(session.get("_user_id", "")).partition(":")
    user_id, session_version = record_id(user), whole_number(version)
    if user_id is None or session_version is None or "_flashes" in session:
        return None
    from portal.auth.service import SECOND_FACTOR, now, session_expired

    # As every signed-in request is checked (portal/auth/guards.py): past its hours, the
    # usual path signs the session out.
    if session_expired(now()):
        return None
    minute = _minute()
    person = _person(user_id)
    if person is None or not person.active or person.session_version != session_version:
        return None
    key = (
        person.facts,
        bool(session.get(SECOND_FACTOR)),
        request.full_path,
        tuple(request.headers.get(name) for name in HTMX_HEADERS),
    )
    now = person.stamps
    g.page_cache_ask = _Ask(key, minute, now)
    page = store.get(key, minute, now)
    if page is None:
        return None
    from portal.extensions import login_manager

    # What Flask-Login checks of the session before it loads the person.
    if login_manager._session_protection_failed():
        return None
    return page.serve()


def kept(view: F) -> F:
    """Mark ``view`` as one whose pages may be kept: it draws its page from the request's
    path, query and htmx headers, the person and the database alone (never the session)."""

    @wraps(view)
    def drawing(*args: Any, **kwargs: Any) -> Any:
        ask: _Ask | None = g.get("page_cache_ask")
        if ask is None:
            return view(*args, **kwargs)
        with stamps.noting_reads() as reading:
            result = view(*args, **kwargs)
        store = _store()
        if (
            store is not None
            and isinstance(result, str)
            and not reading.changed
            and _minute() == ask.minute
        ):
            store.put(ask.key, ask.minute, _keep(result, reading.tables, ask.stamps))
        return result

    drawing.page_cache = True  # type: ignore[attr-defined]
    return drawing  # type: ignore[return-value]


def _keep(body: str, tables: set[str], now: dict[str, int]) -> KeptPage:
    values = {"nonce": getattr(request, "csp_nonce", None), "csrf": g.get("csrf_token")}
    values.update(g.get("page_cache_fresh", {}))
    holes = []
    for name, value in values.items():
        if value and value in body:
            body = body.replace(value, _hole(name))
            holes.append(name)
    read = sorted(tables | {stamps.ANY})
    return KeptPage(tuple((table, now.get(table, 0)) for table in read), body, tuple(holes))


def init_app(app: Flask) -> None:
    """Keep pages for ``app``; call after the security headers' set-up (the nonce must
    exist) and before the blueprints' (the kept page comes before their checks)."""
    megabytes = app.config["PAGE_CACHE_MB"]
    if megabytes <= 0:
        return
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        # Its own client: a kept page is worth waiting a moment for, never seconds.
        redis = Redis.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
        store: PageStore = SharedPageStore(megabytes * 1024 * 1024, redis, release(app))
    else:
        store = PageStore(megabytes * 1024 * 1024)
    app.extensions[EXTENSION] = store
    app.before_request(serve_kept_page)


def warm(app: Flask) -> None:
    """What a worker's first kept page would wait for, done before it serves: the person's
    query compiled, the stamps' table looked for, the connection to Redis made."""
    store = app.extensions.get(EXTENSION)
    if store is None:
        return
    with app.app_context():
        _person(0)
        stamps.has_stamps(db.session.connection())
    if isinstance(store, SharedPageStore):
        try:
            store.redis.ping()
        except RedisError as error:
            store._failed(error)


def clear(app: Flask) -> None:
    """Forget every page ``app`` keeps (the tests' data is rolled back under it)."""
    store: PageStore | None = app.extensions.get(EXTENSION)
    if store is not None:
        store.clear()
