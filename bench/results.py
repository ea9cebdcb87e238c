"""bench/RESULTS.md from locust's CSV statistics: a table per run, and issue #8's targets.

Pure functions of the CSV files and the facts the driver gathers, so that what the report
says can be tested without running a load.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# Issue #8's targets.
P95_TARGET_MS = 100.0
SHARE_TARGET = 0.5
# The main pages, whose throughput must be at least half the bare layout's.
MAIN_PAGES = (
    "home",
    "contacts",
    "contacts search",
    "catalogue",
    "buy-back",
    "buy-back category",
    "queue",
)
BARE = "bare layout"
# The same layout for a signed-in person (bench/bare.py): the floor of any page drawn afresh,
# measured like the pages and shown beside them, not judged.
SIGNED_IN_LAYOUT = "signed-in layout"
# Requests slow on purpose, so not held to the page target (still shown, with the reason).
SLOW_BY_DESIGN = {
    "sign in": "checks the password with argon2id, slow by design "
    "(PASSWORD_HASH_TIME_COST, PASSWORD_HASH_MEMORY_KIB)",
}
MET, NOT_MET = "met", "**not met**"
# What a cell shows when there is no figure: an en dash.
NONE = "\u2013"


@dataclass(frozen=True)
class RequestStats:
    """One row of locust's ``*_stats.csv``: a request name's figures over a run."""

    method: str
    name: str
    requests: int
    failures: int
    per_second: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True)
class Failure:
    method: str
    name: str
    error: str
    occurrences: int


@dataclass(frozen=True)
class Run:
    """One locust run: its rows (without the aggregate) and its failures."""

    rows: Sequence[RequestStats]
    failures: Sequence[Failure] = ()

    def row(self, name: str) -> RequestStats | None:
        return next((r for r in self.rows if r.name == name), None)

    @property
    def failed(self) -> int:
        return sum(r.failures for r in self.rows)


@dataclass(frozen=True)
class Report:
    """Everything RESULTS.md says."""

    written_at: datetime
    machine: dict[str, str]
    data: dict[str, int]
    settings: dict[str, str]
    mixed: Run
    # The bare layout, measured before and after the page-by-page runs.
    bare: Sequence[Run]
    pages: dict[str, Run] = field(default_factory=dict)
    # The mixed run's users signing in, before it.
    signing_in: Run | None = None


def _ms(value: str) -> float | None:
    return None if value in ("", "N/A") else float(value)


def read_run(prefix: Path) -> Run:
    """The run whose CSV files start with ``prefix`` (locust's ``--csv`` argument)."""
    with Path(f"{prefix}_stats.csv").open(newline="") as stats:
        rows = [
            RequestStats(
                method=line["Type"],
                name=line["Name"],
                requests=int(line["Request Count"]),
                failures=int(line["Failure Count"]),
                per_second=float(line["Requests/s"]),
                p50_ms=_ms(line["50%"]),
                p95_ms=_ms(line["95%"]),
                p99_ms=_ms(line["99%"]),
            )
            for line in csv.DictReader(stats)
            if line["Name"] != "Aggregated"
        ]
    failures: list[Failure] = []
    failures_file = Path(f"{prefix}_failures.csv")
    if failures_file.exists():
        with failures_file.open(newline="") as found:
            failures = [
                Failure(line["Method"], line["Name"], line["Error"], int(line["Occurrences"]))
                for line in csv.DictReader(found)
            ]
    return Run(rows=rows, failures=failures)


def bare_throughput(bare: Sequence[Run]) -> float:
    """The bare layout's requests per second: the mean of its runs (0 if none worked)."""
    rates = [row.per_second for run in bare if (row := run.row(BARE)) is not None]
    return sum(rates) / len(rates) if rates else 0.0


def p95_verdict(row: RequestStats) -> str:
    if row.name in SLOW_BY_DESIGN:
        return "exempt"
    return MET if row.p95_ms is not None and row.p95_ms < P95_TARGET_MS else NOT_MET


def share_of_bare(page: Run | None, name: str, bare: float) -> float | None:
    row = page.row(name) if page is not None else None
    if row is None or not bare:
        return None
    return row.per_second / bare


def share_verdict(share: float | None) -> str:
    return MET if share is not None and share >= SHARE_TARGET else NOT_MET


def _number(value: float | None, digits: int = 0) -> str:
    return NONE if value is None else f"{value:,.{digits}f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], right_from: int = 1) -> str:
    align = ["---" if i < right_from else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _latency_runs(report: Report) -> list[Run]:
    """The runs whose every page is held to the p95 target."""
    return [report.mixed] + ([report.signing_in] if report.signing_in is not None else [])


def _all_runs(report: Report) -> list[Run]:
    return [run for _, run in _named_runs(report)]


def _named_runs(report: Report) -> list[tuple[str, Run]]:
    named = [("mixed", report.mixed)]
    if report.signing_in is not None:
        named.append(("signing in", report.signing_in))
    named += [
        (f"{BARE} ({when})", run)
        for when, run in zip(("before", "after"), report.bare, strict=False)
    ]
    return named + [(f"{page} alone", run) for page, run in report.pages.items()]


def verdicts(report: Report) -> list[tuple[str, str, str]]:
    """Each target of issue #8: what it asks, met or not, and why."""
    slow = [
        f"{row.name} ({_number(row.p95_ms)} ms)" if row.requests else f"{row.name} (no requests)"
        for run in _latency_runs(report)
        for row in run.rows
        if p95_verdict(row) == NOT_MET
    ]
    bare = bare_throughput(report.bare)
    short = [
        f"{name} ({_number(100 * share, 0)} %)" if share is not None else f"{name} (not measured)"
        for name in MAIN_PAGES
        if share_verdict(share := share_of_bare(report.pages.get(name), name, bare)) == NOT_MET
    ]
    failed = sum(run.failed for run in _all_runs(report))
    return [
        (
            f"every page's p95 under {P95_TARGET_MS:.0f} ms at "
            f"{report.settings.get('users', '20')} users (the mixed run and signing in)",
            NOT_MET if slow else MET,
            "slower: " + ", ".join(slow) if slow else "every page",
        ),
        (
            f"the main pages at {SHARE_TARGET:.0%} or more of the bare layout's throughput",
            NOT_MET if short else MET,
            "short: " + ", ".join(short) if short else ", ".join(MAIN_PAGES),
        ),
        (
            "no errors",
            NOT_MET if failed else MET,
            f"{failed:,} failed requests" if failed else "no request failed, in any run",
        ),
    ]


def render(report: Report, findings: str = "") -> str:
    """RESULTS.md, as Markdown; ``findings`` (bench/FINDINGS.md, written by people: what the
    figures mean and what was done about them) goes at the end, so a rerun keeps it."""
    bare = bare_throughput(report.bare)
    out = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (bench/run.py) on {report.written_at:%-d %B %Y at %H:%M} UTC. "
        "Targets from issue #8.",
        "",
        "## Targets",
        "",
        _table(("target", "result", "detail"), verdicts(report), right_from=3),
        "",
        "## Machine",
        "",
        _table(("", ""), report.machine.items(), right_from=2),
        "",
        "## Data",
        "",
        _table(("table", "rows"), ((t, f"{n:,}") for t, n in report.data.items())),
        "",
        "## Settings",
        "",
        _table(("setting", "value"), report.settings.items(), right_from=2),
        "",
        "## Every page under the mixed load",
        "",
        "People of each role going about their journeys, already signed in, pausing between "
        "pages: latency per page. Requests per second here follow from the pauses, not from "
        "the server's limits (for those, see the page-by-page table).",
        "",
        _latency_table(report.mixed),
        "",
    ]
    if report.signing_in is not None:
        out += [
            "## Signing in",
            "",
            "Before the mixed run, its users sign in, starting a few a second as on the "
            "morning of the deadline: each account once, council staff with their "
            "authenticator's code.",
            "",
            _latency_table(report.signing_in),
            "",
        ]
    exempt = {r.name for run in _latency_runs(report) for r in run.rows if r.name in SLOW_BY_DESIGN}
    for name in sorted(exempt):
        out += [f"*{name}*: {SLOW_BY_DESIGN[name]}.", ""]
    out += [
        "## Throughput, page by page",
        "",
        "Each main page on its own, requested with no pauses by the same number of users, "
        "against the bare layout (the portal's page layout and nothing else, no SQL: "
        "bench/bare.py) likewise: the share is the page's requests per second over the bare "
        "layout's. Each user asks for the same page over and over, so once drawn for them a "
        "page is mostly served kept (portal/page_cache.py: drawn again only once something it "
        "shows has changed, or the minute turns). The signed-in layout is "
        "the same empty layout for a signed-in person, after the checks every signed-in "
        "request passes, never kept: the floor of any page drawn afresh (shown, not judged).",
        "",
    ]
    rows = []
    for when, run in zip(("before", "after"), report.bare, strict=False):
        row = run.row(BARE)
        if row is not None:
            rows.append(_throughput_row(row, bare, verdict=NONE, label=f"{BARE} ({when})"))
    floor = report.pages.get(SIGNED_IN_LAYOUT)
    if floor is not None and (row := floor.row(SIGNED_IN_LAYOUT)) is not None:
        rows.append(_throughput_row(row, bare, verdict=NONE))
    for name in MAIN_PAGES:
        page = report.pages.get(name)
        row = page.row(name) if page is not None else None
        if row is None:
            rows.append((name, NONE, NONE, NONE, NONE, NONE, "not measured", NOT_MET))
        else:
            rows.append(_throughput_row(row, bare, share_verdict(share_of_bare(page, name, bare))))
    out += [
        _table(
            (
                *("page", "requests/s", "p50 ms", "p95 ms", "p99 ms", "errors"),
                *("share of bare", f"≥ {SHARE_TARGET:.0%}"),
            ),
            rows,
        ),
        "",
    ]
    failures = [(name, f) for name, run in _named_runs(report) for f in run.failures]
    if failures:
        out += [
            "## Errors",
            "",
            _table(
                ("run", "page", "method", "error", "times"),
                (
                    (run, f.name, f.method, f.error.replace("|", "\\|"), f"{f.occurrences:,}")
                    for run, f in failures
                ),
                right_from=4,
            ),
            "",
        ]
    if findings.strip():
        out += [findings.strip(), ""]
    return "\n".join(out)


def _latency_table(run: Run) -> str:
    return _table(
        (
            *("page", "method", "requests", "requests/s", "p50 ms", "p95 ms", "p99 ms"),
            *("errors", f"p95 < {P95_TARGET_MS:.0f} ms"),
        ),
        (
            (
                row.name,
                row.method,
                f"{row.requests:,}",
                _number(row.per_second, 1),
                _number(row.p50_ms),
                _number(row.p95_ms),
                _number(row.p99_ms),
                f"{row.failures:,}",
                p95_verdict(row),
            )
            for row in sorted(run.rows, key=lambda r: r.name)
        ),
        right_from=2,
    )


def _throughput_row(
    row: RequestStats, bare: float, verdict: str, label: str | None = None
) -> tuple[str, ...]:
    share = row.per_second / bare if bare else None
    return (
        label or row.name,
        _number(row.per_second, 1),
        _number(row.p50_ms),
        _number(row.p95_ms),
        _number(row.p99_ms),
        f"{row.failures:,}",
        NONE if share is None else f"{share:.0%}",
        verdict,
    )
