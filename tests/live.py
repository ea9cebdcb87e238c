"""The portal on a real HTTP server for tests that need one (browsers, two app servers)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from werkzeug.serving import make_server

if TYPE_CHECKING:
    from flask import Flask


class _BufferedBodies:
    """Reads each response whole and closes it before the server writes a byte.

    A browser that navigates away drops its connection mid-response. Werkzeug's development
    server can then leave a static file's handle to the garbage collector, and the
    ResourceWarning that follows lands, at random, in whichever test runs next. Responses here
    are small, so holding each in memory costs nothing and no file outlives its request.
    """

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = self.wsgi_app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()


@contextmanager
def serve(app: Flask, name: str = "live-server") -> Iterator[str]:
    """Serves `app` on a free local port in a thread; yields its base URL."""
    original = app.wsgi_app
    app.wsgi_app = _BufferedBodies(original)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.wsgi_app = original
