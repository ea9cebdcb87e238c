"""`make bench`: the load test of issue #8, from an empty shell to bench/RESULTS.md.

    .venv/bin/python -m bench.run [--seed [--factor 10]] [--duration 60] [--page-duration 30]

1. Checks that DATABASE_URL names PostgreSQL (by default the local database ``bench``:
   ``postgresql+psycopg://postgres@127.0.0.1:5432/bench``) and migrates it; with ``--seed``,
   loads the demo data and, where the command exists, ``seed-scale --factor N`` on top.
2. Reads the accounts the simulated users sign in as (bench/accounts.py) and the data's size.
3. Serves the portal with gunicorn (four worker processes a core, of one thread), with rate limits
   off: every simulated user signs in from 127.0.0.1, which the sign-in limit would refuse.
4. Runs locust headless: the users sign in, then go about the mixed journeys (latency per
   page); then the bare layout, each main page on its own, and the bare layout again
   (throughput, page by page).
5. Writes bench/RESULTS.md (bench/results.py) and prints the verdicts.

Scratch files (locust's CSV and logs, the accounts, the signed-in sessions) go to bench/out/.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bench.accounts import find_accounts, write_accounts
from bench.results import (
    MAIN_PAGES,
    SIGNED_IN_LAYOUT,
    Report,
    Run,
    read_run,
    render,
    verdicts,
)
from portal import create_app
from portal.config import from_environment
from portal.db import db
from portal.models import (
    AuditEvent,
    BuybackChoice,
    BuybackLine,
    BuybackSubmission,
    Contact,
    Membership,
    School,
    Service,
    ServiceOffer,
    SupportEvent,
    SupportRequest,
    Trust,
    User,
)
from portal.rendering import WARM_LOG
from portal.scale import FIRST_URN

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "bench"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
# Production runs Redis beside the app servers (rate limits, the job queue, kept pages shared
# between workers): so does the benchmark, in a database of its own.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
MIXED_USERS = ("SchoolStaff", "HeadTeacher", "CafOfficer", "Publisher")
JOURNEY_LABELS = {
    "school_staff": "school staff",
    "head_teacher": "head teachers",
    "caf_officer": "CAF officers",
    "publisher": "publishers",
}
# Users start five a second in the mixed run, so that their sign-ins (argon2id, on purpose
# slow) are spread out as a morning's would be.
SPAWN_RATE = 5
# The sign-in run ends once every user has signed in; this is only its limit.
SIGN_IN_LIMIT = 120
# What the data size counts: the tables the pages read.
TABLES: dict[str, Any] = {
    "schools": School,
    "trusts": Trust,
    "users": User,
    "memberships": Membership,
    "contacts": Contact,
    "services": Service,
    "service offers": ServiceOffer,
    "support requests": SupportRequest,
    "support request events": SupportEvent,
    "buy-back choices": BuybackChoice,
    "buy-back lines": BuybackLine,
    "buy-back submissions": BuybackSubmission,
    "audit events": AuditEvent,
}


class BenchError(RuntimeError):
    """The benchmark cannot run as asked; the message says why."""


def check_redis_url(url: str) -> str:
    """``url`` if Redis answers there; '' (run without Redis) stays ''."""
    if not url:
        return ""
    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except RedisError as error:
        raise BenchError(
            f"Redis at {url} cannot be reached ({error}); --redis-url '' runs without it"
        ) from error
    return url


def check_database_url(url: str) -> str:
    """``url`` if it names PostgreSQL: the benchmark measures what production runs on."""
    try:
        backend = make_url(url).get_backend_name()
    except Exception as error:
        raise BenchError(f"DATABASE_URL is not a database URL: {url!r}") from error
    if backend != "postgresql":
        raise BenchError(
            f"DATABASE_URL must name a PostgreSQL database for the benchmark, not {backend}: "
            f"for example {DEFAULT_DATABASE_URL}"
        )
    return url


def server_environment(url: str) -> dict[str, str]:
    """The environment the portal's commands and its server run with for the benchmark."""
    env = dict(os.environ)
    if env.get("PORTAL_ENV") == "production":
        raise BenchError("the benchmark refuses to run with PORTAL_ENV=production")
    env |= {
        "DATABASE_URL": url,
        "PORTAL_ENV": "development",
        # Every simulated user signs in from 127.0.0.1: the sign-in limit would refuse them.
        "RATELIMIT_ENABLED": "false",
        # No log line per request: logging is not what is measured.
        "LOG_LEVEL": "WARNING",
        "FLASK_APP": "portal",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p),
    }
    return env


def machine_facts(cpuinfo: str, meminfo: str, loadavg: str) -> dict[str, str]:
    """The machine as /proc describes it: cores, processor, memory, load when the run began."""
    models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    cores = len(re.findall(r"^processor\s*:", cpuinfo, re.MULTILINE)) or os.cpu_count() or 0
    memory = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.MULTILINE)
    facts = {
        "cores": str(cores),
        "processor": models[0] if models else "unknown",
        "memory": f"{int(memory.group(1)) / 1024 / 1024:.1f} GiB" if memory else "unknown",
    }
    if loadavg:
        # Other work on the machine takes cores from the server and the load generator.
        facts["load average before the run (1, 5, 15 min)"] = " ".join(loadavg.split()[:3])
    return facts


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def data_size() -> dict[str, int]:
    """Rows in each of the tables the pages read (in an app context)."""
    return {
        label: int(db.session.scalar(select(func.count()).select_from(model)) or 0)
        for label, model in TABLES.items()
    }


def _flask(env: dict[str, str], *arguments: str) -> None:
    """``flask --app portal ARGUMENTS``, its output shown (seeding prints its progress)."""
    print(f"bench: flask {' '.join(arguments)}", flush=True)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "portal", *arguments],
        env=env,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"flask {' '.join(arguments)} failed (exit code {done.returncode})")


@contextmanager
def portal(url: str) -> Iterator[Flask]:
    """The portal on ``url``, in an app context, its connections closed afterwards."""
    app = create_app({"DATABASE_URL": url, "RATELIMIT_ENABLED": False})
    try:
        with app.app_context():
            yield app
    finally:
        app.extensions["portal.db"].engine.dispose()


def generated_schools() -> int:
    """How many schools seed-scale has generated here (in an app context)."""
    return int(db.session.scalar(select(func.count(School.id)).where(School.urn >= FIRST_URN)) or 0)


def prepare_database(env: dict[str, str], url: str, seed: bool, factor: float) -> str:
    """Migrate (always: the code may be newer than the data) and, if asked, load the data.

    Returns how the data came to be, for the report.
    """
    _flask(env, "db", "upgrade")
    if not seed:
        return "as found (not seeded by this run)"
    _flask(env, "seed-demo")
    with portal(url):
        already = generated_schools()
    if already:
        # seed-scale refuses to run twice: the data it made is what is wanted anyway.
        print(f"bench: seed-scale has already run here ({already:,} schools): kept", flush=True)
        return f"seed-demo; seed-scale had already run ({already:,} generated schools)"
    _flask(env, "seed-scale", "--factor", f"{factor:g}")
    return f"seed-demo, then seed-scale --factor {factor:g}"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


class Server:
    """gunicorn serving the portal with the bare-layout route, for the length of the runs."""

    def __init__(self, env: dict[str, str], port: int, workers: int, threads: int, log: Path):
        self.env, self.port, self.workers, self.threads, self.log = env, port, workers, threads, log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        if not _port_free(self.port):
            raise BenchError(f"port {self.port} is in use: choose another with --port")
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--bind",
                f"127.0.0.1:{self.port}",
                "bench.bare:create_bench_app()",
            ],
            env=self.env,
            cwd=ROOT,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn stopped at start: see {self.log}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:  # noqa: S310 (our own server)
                    if answer.status == 200 and self._warm_workers() >= self.workers:
                        return self
            except OSError:
                time.sleep(0.5)
        self.__exit__()
        raise BenchError(f"gunicorn did not answer within a minute: see {self.log}")

    def _warm_workers(self) -> int:
        # Each worker compiles the templates before its first request (gunicorn.conf.py);
        # measuring while some still do would time the machine's start, not the portal.
        return self.log.read_text(errors="replace").count(WARM_LOG)

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_locust(
    name: str,
    users_classes: tuple[str, ...],
    *,
    host: str,
    env: dict[str, str],
    out: Path,
    users: int,
    spawn_rate: float,
    seconds: int,
    think: str,
    page: str | None = None,
    sign_in: bool = False,
) -> Run:
    """One headless locust run; its statistics as locust's CSV gives them."""
    prefix = out / name
    run_env = env | {
        "BENCH_ACCOUNTS": str(out / "accounts.json"),
        "BENCH_SESSIONS": str(out / "sessions.json"),
        "BENCH_THINK": think,
    }
    if page:
        run_env["BENCH_PAGE"] = page
    if sign_in:
        run_env["BENCH_SIGN_IN"] = "1"
    length = "until signed in" if sign_in else f"for {seconds} s"
    print(f"bench: {name}: {users} users {length}", flush=True)
    with (out / f"{name}.log").open("w") as log:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(HERE / "locustfile.py"),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(spawn_rate),
                "--run-time",
                f"{seconds}s",
                "--host",
                host,
                "--csv",
                str(prefix),
                "--only-summary",
                # Failures are reported in RESULTS.md, not by locust's exit code.
                "--exit-code-on-error",
                "0",
                *users_classes,
            ],
            env=run_env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=seconds + 120,
            check=False,
        )
    if not Path(f"{prefix}_stats.csv").exists():
        raise BenchError(f"locust wrote no statistics for {name}: see {out / (name + '.log')}")
    return read_run(prefix)


def _slug(page: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", page.lower()).strip("-")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", action="store_true", help="load the data first")
    parser.add_argument("--factor", type=float, default=10, help="seed-scale's factor (10)")
    parser.add_argument("--users", type=int, default=20, help="concurrent users (20)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of the mixed run (60)")
    parser.add_argument(
        "--page-duration", type=int, default=30, help="seconds of each page-by-page run (30)"
    )
    parser.add_argument(
        "--think", default="0.5-1.5", help="seconds between a person's pages, e.g. 0.5-1.5 or 0"
    )
    # Processes, not threads: a page is mostly Python, and threads of one process share its
    # interpreter lock, so a heavy page held up every light one beside it (p95 of the mixed
    # run roughly halved at factor 10 with 5 workers x 1 thread against 2 x 4). Four a core,
    # not two and one: a sign-in holds its worker for a fifth of a second checking the
    # password, and with five workers a page arriving in a burst of sign-ins waited for one
    # (sign-in page p95 200 -> 55 ms with eight; the mixed run and throughput unchanged).
    parser.add_argument(
        "--workers",
        type=int,
        default=4 * (os.cpu_count() or 1),
        help="gunicorn workers (four a core)",
    )
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (1)")
    parser.add_argument("--port", type=int, default=8765, help="where gunicorn listens (8765)")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        help=f"the portal's REDIS_URL (REDIS_URL, else {DEFAULT_REDIS_URL}); '' for none",
    )
    parser.add_argument(
        "--output", type=Path, default=HERE / "RESULTS.md", help="the report (bench/RESULTS.md)"
    )
    parser.add_argument("--out", type=Path, default=HERE / "out", help="scratch files")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        url = check_database_url(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
        env = server_environment(url)
        env.pop("REDIS_URL", None)
        if redis_url := check_redis_url(args.redis_url):
            env["REDIS_URL"] = redis_url
        return _bench(args, url, env)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2


def _bench(args: argparse.Namespace, url: str, env: dict[str, str]) -> int:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob("*.csv"), *out.glob("*.log"), out / "sessions.json"]:
        stale.unlink(missing_ok=True)
    machine = machine_facts(_read("/proc/cpuinfo"), _read("/proc/meminfo"), _read("/proc/loadavg"))
    how_seeded = prepare_database(env, url, args.seed, args.factor)
    with portal(url):
        accounts = find_accounts()
        data = data_size()
        machine["PostgreSQL"] = str(db.session.scalar(text("SHOW server_version")))
    write_accounts(out / "accounts.json", accounts)
    missing = [role for role, found in accounts.items() if not found]
    if missing:
        raise BenchError(f"no account to sign in as for: {', '.join(missing)}")

    settings = {
        "users": str(args.users),
        "server": f"gunicorn, {args.workers} workers, {args.threads} threads, "
        "`bench.bare:create_bench_app()` on 127.0.0.1",
        "portal settings": "PORTAL_ENV=development; RATELIMIT_ENABLED=false (every simulated "
        "user signs in from one address); LOG_LEVEL=WARNING; "
        f"PAGE_CACHE_MB={from_environment(str(ROOT / 'instance'))['PAGE_CACHE_MB']}"
        " (pages kept for reuse, per worker; 0 keeps none)",
        "database": make_url(url).render_as_string(hide_password=True),
        "redis": env.get("REDIS_URL") or "none (each worker keeps its own pages)",
        "data": how_seeded,
        "accounts": ", ".join(
            f"{len(accounts[role])} {label}" for role, label in JOURNEY_LABELS.items()
        ),
        "signing in": f"the mixed run's users, starting {SPAWN_RATE} a second, each account "
        "once; their sessions serve every later run",
        "mixed run": f"{args.duration} s; {args.think} s between a person's pages; weights "
        "school staff 8, head teachers 6, CAF officers 4, publishers 2",
        "page-by-page runs": f"{args.page_duration} s each, no pauses, "
        "every user already signed in",
        "load generator": "locust (FastHttpUser), one process on the same machine",
    }
    common: dict[str, Any] = {"env": env, "out": out, "users": args.users}
    with Server(env, args.port, args.workers, args.threads, out / "gunicorn.log") as server:
        common["host"] = server.url
        signing_in = run_locust(
            "sign-in",
            MIXED_USERS,
            spawn_rate=SPAWN_RATE,
            seconds=SIGN_IN_LIMIT,
            think="0",
            sign_in=True,
            **common,
        )
        mixed = run_locust(
            "mixed",
            MIXED_USERS,
            spawn_rate=SPAWN_RATE,
            seconds=args.duration,
            think=args.think,
            **common,
        )
        at_once = {"spawn_rate": args.users, "seconds": args.page_duration, "think": "0"}
        bare = [run_locust("bare-before", ("BareLayout",), **at_once, **common)]
        pages = {
            page: run_locust(f"page-{_slug(page)}", ("OnePage",), page=page, **at_once, **common)
            for page in (SIGNED_IN_LAYOUT, *MAIN_PAGES)
        }
        bare.append(run_locust("bare-after", ("BareLayout",), **at_once, **common))
    machine["load average after the run"] = " ".join(_read("/proc/loadavg").split()[:3])

    report = Report(
        written_at=datetime.now(UTC),
        machine=machine,
        data=data,
        settings=settings,
        mixed=mixed,
        signing_in=signing_in,
        bare=bare,
        pages=pages,
    )
    findings = HERE / "FINDINGS.md"
    notes = findings.read_text() if findings.exists() else ""
    args.output.write_text(render(report, notes) + "\n")
    print(f"bench: wrote {args.output}")
    for target, result, detail in verdicts(report):
        print(f"  {target}: {result.strip('*')} ({detail})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
