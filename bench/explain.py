"""The hot queries, checked with EXPLAIN on PostgreSQL at scale.

Signs in as each demo role against DATABASE_URL (the factor-10 database), asks for the main
pages, times every statement they send, and prints the plan (EXPLAIN ANALYZE) of each that
took longer than --slower-than milliseconds, so a missing index shows as a sequential scan.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/explain.py [--slower-than 2]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyotp
from sqlalchemy import event, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app
from portal.db import db
from portal.models import School, SupportRequest, User
from portal_seed.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# The main pages of the issue, by role: what each kind of user opens most.
PAGES: dict[str, list[str]] = {
    "head@oakfield.example": [
        "/",
        "/contacts/",
        "/contacts/?q=family",
        "/services/",
        "/services/?q=pay",
        "/buy-back/{oakfield}",
        "/support/",
    ],
    "staff@oakfield.example": ["/", "/contacts/", "/services/", "/support/"],
    "trust@meadowtrust.example": ["/", "/buy-back/", "/support/"],
    "caf.north@council.example": [
        "/",
        "/support/",
        "/support/?status=new",
        "/support/?urgency=urgent",
        "/support/{request}",
        "/contacts/",
    ],
    "publisher@council.example": ["/", "/services/", "/contacts/needs-checking", "/schools/"],
    "admin@council.example": [
        "/",
        "/users/",
        "/users/?q=smith",
        "/schools/?q=primary",
        "/admin/audit",
    ],
}


@contextmanager
def timed_statements(database: Any) -> Iterator[list[tuple[float, str, Any]]]:
    found: list[tuple[float, str, Any]] = []
    # Statements sent through the driver (db.driver_rows) have no execution context to keep
    # the start on; one request sends one statement at a time, so one start is enough.
    started = [0.0]

    def before(
        _conn: Any, _cursor: Any, _statement: str, _params: Any, _context: Any, _many: Any
    ) -> None:
        started[0] = time.perf_counter()

    def after(
        _conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, _many: Any
    ) -> None:
        found.append(((time.perf_counter() - started[0]) * 1000, statement, params))

    engines = database.engines
    for engine in engines:
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)


def sign_in(client: Any, app: Any, email: str) -> None:
    with app.app_context():
        # The demo council shares one authenticator secret; a code works once per step.
        db.session.execute(update(User).where(User.email == email).values(totp_last_step=None))
        db.session.commit()
    token = CSRF.search(client.get("/sign-in").get_data(as_text=True)).group(1)
    response = client.post(
        "/sign-in", data={"csrf_token": token, "email": email, "password": DEMO_PASSWORD}
    )
    if response.headers.get("Location") == "/sign-in/code":
        token = CSRF.search(client.get("/sign-in/code").get_data(as_text=True)).group(1)
        response = client.post(
            "/sign-in/code", data={"csrf_token": token, "code": pyotp.TOTP(DEMO_TOTP_SECRET).now()}
        )
    assert response.status_code == 303, f"{email} could not sign in"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slower-than", type=float, default=2.0, help="milliseconds")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("DATABASE_URL must name the PostgreSQL database to explain against")
    app = create_app({"DATABASE_URL": url, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": True})
    engine = app.extensions["portal.db"].engine
    with app.app_context():
        oakfield = db.session.scalar(select(School.id).where(School.urn == 125601))
        request = db.session.scalar(
            select(SupportRequest.id).order_by(SupportRequest.id.desc()).limit(1)
        )
    slow: dict[str, tuple[float, str, Any]] = {}
    for email, pages in PAGES.items():
        client = app.test_client()
        sign_in(client, app, email)
        for page in pages:
            path = page.format(oakfield=oakfield, request=request)
            client.get(path).close()  # warm
            with timed_statements(app.extensions["portal.db"]) as found:
                started = time.perf_counter()
                response = client.get(path)
                response.close()
                took = (time.perf_counter() - started) * 1000
            total_sql = sum(ms for ms, _, _ in found)
            print(
                f"{response.status_code} {took:7.1f} ms  {len(found):2d} queries "
                f"{total_sql:6.1f} ms SQL  {email:28} {path}"
            )
            for ms, statement, params in found:
                if ms >= args.slower_than:
                    key = " ".join(statement.split())[:120]
                    if key not in slow or slow[key][0] < ms:
                        slow[key] = (ms, statement, params)
    print(f"\n{len(slow)} statements slower than {args.slower_than} ms:")
    with engine.connect() as connection:
        for ms, statement, params in sorted(slow.values(), key=lambda item: -item[0]):
            print(f"\n--- {ms:.1f} ms ---\n{' '.join(statement.split())[:600]}")
            raw = connection.connection.dbapi_connection
            with raw.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                for (line,) in cursor.fetchall():
                    print("   ", line)
            connection.execute(text("ROLLBACK"))


if __name__ == "__main__":
    main()
