"""`make bench`: the benchmark of issue #18, from an empty shell to bench/RESULTS.md.

    .venv/bin/python -m bench.run [--seed [--factor 10]] [--duration 180] [--steps 75,100,...]

1. Checks that DATABASE_URL names PostgreSQL (by default the local database ``bench``:
   ``postgresql+psycopg://postgres@127.0.0.1:5432/bench``) and migrates it; with ``--seed``,
   loads the demo data and, where the command exists, ``seed-scale --factor N`` on top.
2. Reads the accounts the simulated people sign in as (bench/accounts.py) and the data's size.
3. Measures each main page's cost in-process against the bare layout's (bench/inprocess.py),
   while nothing else of the benchmark runs.
4. Serves the portal with gunicorn (four worker processes a core, of one thread), with rate limits
   off: every simulated person signs in from 127.0.0.1, which the sign-in limit would refuse.
5. Runs locust headless: the mixed run's people sign in (the sign-in burst), then follow their
   journeys for a morning before the deadline (latency per page); then more and more people,
   a short run each, until a page's p95 reaches the target or a request fails (capacity).
6. Writes bench/RESULTS.md (bench/results.py), with bench/FINDINGS.md after it, and prints
   the verdicts.

Scratch files (locust's CSV and logs, the in-process figures, the accounts, the signed-in
sessions) go to bench/out/.
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
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.accounts import PER_ROLE, WEIGHTS, find_accounts, write_accounts
from bench.results import (
    Report,
    Run,
    Step,
    read_figures,
    read_run,
    render,
    step_met,
    verdicts,
)
from portal import create_app
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
from portal_seed.scale import FIRST_URN

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "bench"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
# Production runs Redis beside the app servers (rate limits, the job queue): so does the
# benchmark, in a database of its own.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
PEOPLE = ("SchoolStaff", "HeadTeacher", "CafOfficer", "Publisher")
JOURNEY_LABELS = {
    "school_staff": "school staff",
    "head_teacher": "head teachers",
    "caf_officer": "CAF officers",
    "publisher": "publishers",
}
# People start five a second in the sign-in burst and the mixed run, so that their sign-ins
# (argon2id, on purpose slow) are spread out as a morning's would be.
SPAWN_RATE = 5
# Accounts a capacity step adds sign in faster: that run is not measured, only waited for.
STEP_SIGN_IN_RATE = 25
# A sign-in run ends once every person has signed in; this is only its limit.
SIGN_IN_LIMIT = 120
DEFAULT_STEPS = "75,100,150,200,300,400,600,800"
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


def vacuum_analyze(url: str) -> None:
    """VACUUM ANALYZE the benchmark's database before measuring: seeding, and every earlier
    run's writes (sign-ins, saves, submissions), leave statistics and the visibility map
    behind until autovacuum comes round, and the same commit measured up to a third slower
    on the buy-back pages before a VACUUM ANALYZE than after (bench/FINDINGS.md)."""
    print("bench: VACUUM ANALYZE", flush=True)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


class Server:
    """gunicorn serving the portal as production does (``wsgi:app``), for the length of the
    runs."""

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
                "wsgi:app",
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
        # Each worker compiles the templates and readies the password check before its
        # first request, then logs WARM_LOG (portal/gunicorn_config.py); measuring while some still
        # do would time the machine's start, not the portal.
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
    *,
    host: str,
    env: dict[str, str],
    out: Path,
    users: int,
    spawn_rate: float,
    seconds: int,
    think: str,
    sign_in: bool = False,
    reset_stats: bool = False,
) -> Run:
    """One headless locust run of the four kinds of people; its statistics as locust's CSV
    gives them (with ``reset_stats``, from the moment the last person has started)."""
    prefix = out / name
    run_env = env | {
        "BENCH_ACCOUNTS": str(out / "accounts.json"),
        "BENCH_SESSIONS": str(out / "sessions.json"),
        "BENCH_THINK": think,
    }
    if sign_in:
        run_env["BENCH_SIGN_IN"] = "1"
    length = "until signed in" if sign_in else f"for {seconds} s"
    print(f"bench: {name}: {users} people {length}", flush=True)
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
                *(["--reset-stats"] if reset_stats else []),
                # Failures are reported in RESULTS.md, not by locust's exit code.
                "--exit-code-on-error",
                "0",
                *PEOPLE,
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


def measure_in_process(env: dict[str, str], out: Path, rounds: int) -> Path:
    """bench/inprocess.py on the same database, in a process of its own; its figures' file."""
    figures = out / "inprocess.json"
    print(f"bench: in-process, {rounds} rounds of every main page", flush=True)
    with (out / "inprocess.log").open("w") as log:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.inprocess",
                "--rounds",
                str(rounds),
                "--json",
                str(figures),
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0 or not figures.exists():
        raise BenchError(f"the in-process measurement failed: see {out / 'inprocess.log'}")
    return figures


def accounts_needed(people: int) -> int:
    """Accounts to find for each role so that ``people`` need share none: the largest role's
    share of them (and never fewer than the usual)."""
    return max(PER_ROLE, -(-people * max(WEIGHTS.values()) // sum(WEIGHTS.values())) + 1)


def _steps(text: str) -> list[int]:
    try:
        steps = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from error
    if any(step <= 0 for step in steps):
        raise argparse.ArgumentTypeError("every step is a number of people above 0")
    return steps


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", action="store_true", help="load the data first")
    parser.add_argument("--factor", type=float, default=10, help="seed-scale's factor (10)")
    parser.add_argument(
        "--users", type=int, default=50, help="people in the sign-in burst and mixed run (50)"
    )
    parser.add_argument(
        "--duration", type=int, default=180, help="seconds of the mixed run, after its ramp (180)"
    )
    parser.add_argument(
        "--think",
        default="2-6",
        help="seconds a person reads a page before the next, e.g. 2-6 (the default) or 0",
    )
    parser.add_argument(
        "--steps",
        type=_steps,
        default=_steps(DEFAULT_STEPS),
        help=f"people in each capacity step, until one fails ({DEFAULT_STEPS}); '' for none",
    )
    parser.add_argument(
        "--all-steps",
        action="store_true",
        help="run every step, even after one has failed (to see how the latency grows)",
    )
    parser.add_argument(
        "--step-duration", type=int, default=45, help="seconds of each step, after its ramp (45)"
    )
    parser.add_argument(
        "--ramp", type=int, default=10, help="seconds in which a step's people start (10)"
    )
    parser.add_argument(
        "--rounds", type=int, default=200, help="rounds of the in-process measurement (200)"
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
    started = time.monotonic()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob("*.csv"), *out.glob("*.log"), out / "sessions.json"]:
        stale.unlink(missing_ok=True)
    machine = machine_facts(_read("/proc/cpuinfo"), _read("/proc/meminfo"), _read("/proc/loadavg"))
    how_seeded = prepare_database(env, url, args.seed, args.factor)
    vacuum_analyze(url)
    most = max([args.users, *args.steps])
    with portal(url):
        accounts = find_accounts(per_role=accounts_needed(most))
        data = data_size()
        machine["PostgreSQL"] = str(db.session.scalar(text("SHOW server_version")))
    write_accounts(out / "accounts.json", accounts)
    missing = [role for role, found in accounts.items() if not found]
    if missing:
        raise BenchError(f"no account to sign in as for: {', '.join(missing)}")
    figures = read_figures(measure_in_process(env, out, args.rounds))

    weights = ", ".join(f"{JOURNEY_LABELS[role]} {weight}" for role, weight in WEIGHTS.items())
    settings = {
        "in-process": f"bench/inprocess.py, {args.rounds} interleaved rounds, before the load "
        "and with no server running",
        "server": f"gunicorn, {args.workers} workers of {args.threads} "
        f"thread{'s' if args.threads != 1 else ''}, `wsgi:app` on 127.0.0.1",
        "portal settings": "PORTAL_ENV=development; RATELIMIT_ENABLED=false (every simulated "
        "person signs in from one address); LOG_LEVEL=WARNING",
        "database": make_url(url).render_as_string(hide_password=True),
        "redis": env.get("REDIS_URL") or "none",
        "data": f"{how_seeded}; VACUUM ANALYZE before measuring",
        "accounts": ", ".join(
            f"{len(accounts[role])} {label}" for role, label in JOURNEY_LABELS.items()
        )
        + " (more people than accounts of a role share them)",
        "people": f"weights {weights}; {args.think} s reading each page",
        "signing in": f"the mixed run's {args.users} people, starting {SPAWN_RATE} a second, "
        "each account once; their sessions serve every later run",
        "mixed run": f"{args.users} people for {args.duration} s, counted from when the last "
        f"has started ({SPAWN_RATE} a second)",
        "capacity steps": f"{', '.join(map(str, args.steps)) or 'none'} people, until one "
        f"fails; each {args.step_duration} s, counted after a {args.ramp} s ramp; the accounts "
        f"a step adds sign in before it ({STEP_SIGN_IN_RATE} a second, not measured)",
        "load generator": "locust (FastHttpUser), one process on the same machine",
    }
    common: dict[str, Any] = {"env": env, "out": out, "think": args.think}
    steps: list[Step] = []
    with Server(env, args.port, args.workers, args.threads, out / "gunicorn.log") as server:
        common["host"] = server.url
        signing_in = run_locust(
            "sign-in",
            users=args.users,
            spawn_rate=SPAWN_RATE,
            seconds=SIGN_IN_LIMIT,
            sign_in=True,
            **common,
        )
        mixed = run_locust(
            "mixed",
            users=args.users,
            spawn_rate=SPAWN_RATE,
            seconds=args.duration + -(-args.users // SPAWN_RATE),
            reset_stats=True,
            **common,
        )
        met = step_met(Step(args.users, mixed))
        for people in args.steps:
            if not (met or args.all_steps):
                break
            step_sign_in = run_locust(
                f"sign-in-{people}",
                users=people,
                spawn_rate=STEP_SIGN_IN_RATE,
                seconds=max(SIGN_IN_LIMIT, people // 2),
                sign_in=True,
                **common,
            )
            step = Step(
                people,
                run_locust(
                    f"step-{people}",
                    users=people,
                    spawn_rate=max(1, -(-people // max(1, args.ramp))),
                    seconds=args.ramp + args.step_duration,
                    reset_stats=True,
                    **common,
                ),
                signing_in=step_sign_in,
            )
            steps.append(step)
            met = step_met(step)
    machine["load average after the run"] = " ".join(_read("/proc/loadavg").split()[:3])

    report = Report(
        written_at=datetime.now(UTC),
        machine=machine,
        data=data,
        settings=settings,
        inprocess=figures,
        signing_in=signing_in,
        mixed=mixed,
        mixed_users=args.users,
        steps=steps,
    )
    findings = HERE / "FINDINGS.md"
    notes = findings.read_text() if findings.exists() else ""
    args.output.write_text(render(report, notes) + "\n")
    print(f"bench: wrote {args.output} in {(time.monotonic() - started) / 60:.1f} minutes")
    for target, result, detail in verdicts(report):
        print(f"  {target}: {result.strip('*')} ({detail})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
