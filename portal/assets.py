"""How the portal's responses travel: compressed, and static files cached for as long as they
stay the same.

Pages are compressed with Flask-Compress (brotli or gzip, whichever the browser accepts), as are
static files, so a first visit costs the network well under the 150 KB the product allows
itself. Every ``url_for("static", ...)`` gets a ``v`` argument, a digest of the file's content,
and a static request that carries one may be cached for a year: a changed file has a new URL,
so nobody is ever served yesterday's stylesheet, and nobody downloads it twice.
"""

from __future__ import annotations

import hashlib
import stat
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from flask_compress import Compress

# How long a static file requested with its ``v`` may be cached: the app's
# get_send_file_max_age answers so (the Portal class in portal/__init__.py).
ONE_YEAR = 365 * 24 * 60 * 60

compress = Compress()


@cache
def _digest(path: Path, modified: float) -> str:
    # Keyed on the modification time too, so that `make run` picks up a rebuilt stylesheet
    # without a restart; the digest itself is of the content, not the time.
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


@cache
def _static_file(static_folder: str, filename: str) -> Path | None:
    # Resolving a path is a handful of system calls and every page links five static files:
    # worked out once per name. A file that appears later is found by the stat below.
    root = Path(static_folder).resolve()
    path = (root / filename).resolve()
    return path if root in path.parents else None


def content_version(static_folder: str, filename: str) -> str | None:
    """A short digest of a static file's content, or None for a folder or a missing file."""
    path = _static_file(static_folder, filename)
    try:
        status = None if path is None else path.stat()
    except OSError:
        return None
    if status is None or not stat.S_ISREG(status.st_mode):
        return None
    return _digest(path, status.st_mtime)


def init_app(app: Flask) -> None:
    # Registered before every other extension, so that its after_request runs last and
    # compresses the response as the others left it.
    compress.init_app(app)

    @app.after_request
    def read_static_files_whole(response: Response) -> Response:
        # Flask-Compress wraps a streamed file in a generator that never closes it, leaking
        # the file handle until garbage collection. Static files are small: read them into
        # the response (the file closes with it) so they are compressed as ordinary bodies.
        # Runs before Flask-Compress, being registered after it.
        if request.endpoint == "static" and response.direct_passthrough:
            response.direct_passthrough = False
            response.make_sequence()
        return response

    @app.url_defaults
    def version_static_urls(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static" or "v" in values or app.static_folder is None:
            return
        version = content_version(app.static_folder, values.get("filename", ""))
        if version is not None:
            values["v"] = version
