"""What many tests use, in one place: import from the module that names the job.

- ``tests.helpers.html``: a response's page parsed, its error summary and banner.
- ``tests.helpers.browser``: moving about a page in Chromium (the browser tests).
- ``tests.helpers.routes``: the access matrix's paths with the demo's records filled in.

Fixtures live in tests/conftest.py and, for the browser tests, tests/browser_fixtures.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Polls ``condition`` until it holds; fails saying ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds}s for {what}")
        time.sleep(0.1)
