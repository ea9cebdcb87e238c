"""Each main page's cost in processor instructions, counted by callgrind: a second view of
bench/inprocess.py's table that does not move with the machine's load.

    .venv/bin/python -m bench.instructions [--requests 10] [--pages "home,queue"]

On a shared machine with two cores, a page's wall-clock share of the bare layout moved by
20 points from one run to the next (issue #18's ninth and tenth sessions). Valgrind's
callgrind counts the instructions the portal's own process executes, which is the same
whatever else runs; it leaves out the database server's work and the waits for it, which
the wall-clock table includes. Counting is slow (the process runs some fifty times slower,
about four minutes here), so it is not part of `make bench`.

The portal is set up as bench/inprocess.py sets it up (the same database, accounts and
pages); each page is then asked for ``--requests`` times inside a call to
``sys.call_tracing``, a C function nothing else calls, so that callgrind counts only those
requests (--toggle-collect) and writes one file per page (--dump-after).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.inprocess import DEFAULT_DATABASE_URL
from bench.results import BARE

MARK = "sys_call_tracing"
_TOTAL = re.compile(r"^(?:summary|totals): (\d+)", re.MULTILINE)


def count(pages: list[str] | None, requests: int, order: Path) -> None:
    """In the process callgrind runs: each page's requests, one call_tracing apiece."""
    from bench import inprocess

    app, clients, found = inprocess.setup(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    chosen = [page for page in found if pages is None or page.name in pages]
    asks = {BARE: inprocess.bare_ask(app)} | inprocess.page_asks(clients, chosen)
    # Warm: templates compiled, statements prepared, everything kept once is kept.
    for _ in range(5):
        for ask in asks.values():
            ask()
    order.write_text("\n".join(asks))  # the order of the dumps, for the parent
    for ask in asks.values():
        sys.call_tracing(lambda ask=ask: [ask() for _ in range(requests)], ())


def instructions(dump: Path) -> int:
    found = _TOTAL.search(dump.read_text())
    return int(found.group(1)) if found else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--pages", help="only these pages (comma-separated), with the bare layout")
    parser.add_argument("--in-callgrind", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    pages = args.pages.split(",") if args.pages else None
    if args.in_callgrind:
        count(pages, args.requests, args.in_callgrind)
        return 0
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian's package valgrind)")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            f"--toggle-collect={MARK}",
            f"--dump-after={MARK}",
            sys.executable,
            "-m",
            "bench.instructions",
            f"--in-callgrind={Path(folder) / 'order'}",
            f"--requests={args.requests}",
            *([f"--pages={args.pages}"] if args.pages else []),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        order = Path(folder) / "order"
        names = order.read_text().splitlines() if order.exists() else []
        dumps = sorted(Path(folder).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:]))
        counts = [n for n in (instructions(d) for d in dumps) if n]
        if done.returncode or len(counts) != len(names):
            print(done.stderr[-3000:], file=sys.stderr)
            raise SystemExit("callgrind's run failed")
    bare = counts[0] / args.requests
    print("| page | instructions a request (millions) | share of the bare layout |")
    print("| --- | ---: | ---: |")
    for name, total in zip(names, counts, strict=True):
        each = total / args.requests
        print(f"| {name} | {each / 1e6:.2f} | {bare / each:.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
