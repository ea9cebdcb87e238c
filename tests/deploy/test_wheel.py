"""The portal as a wheel: built, installed into a fresh virtual environment, migrated with its
own command and served by gunicorn, with no checkout of the repository in sight.

What the wheel must carry (templates, static files with the built assets, the migrations) is
configured in pyproject.toml; a file left out would pass every other test, which runs from the
checkout. Slow (a minute or so: a virtual environment and the portal's dependencies): under
CI=true it must run, and fails if it cannot; elsewhere it is skipped when it cannot.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.rendering import WARM_LOG
from tests.conftest import skip_or_fail, unused_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BUILT_CSS = ROOT / "portal" / "static" / "css" / "council.css"
STYLESHEET = re.compile(r'href="(/static/css/council\.css\?v=[0-9a-f]+)"')


def _run(command: list[str], cwd: Path, environment: dict[str, str]) -> str:
    done = subprocess.run(  # noqa: S603 (our own commands)
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, (
        f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get("Content-Type", ""), error.read()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A fresh virtual environment with the portal's wheel installed: its folder, and a
    working folder outside the checkout to run it in."""
    if not BUILT_CSS.is_file():
        skip_or_fail(f"{BUILT_CSS.relative_to(ROOT)} is missing (make setup builds it)")
    here = tmp_path_factory.mktemp("wheel")
    # Built from a copy of what the wheel is made of: setuptools leaves build/ in the folder
    # it builds in, and a file in an old build/ would go into the next wheel.
    source = here / "source"
    # The packages pyproject.toml finds (portal*): the portal, and the seed package its
    # command line offers.
    for package in ("portal", "portal_seed"):
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", source)
    # Run as an operator would: nothing of the checkout or of the suite's own environment.
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"PYTHONPATH", "VIRTUAL_ENV", "PORTAL_ENV", "DATABASE_URL", "SECRET_KEY"}
    }
    work = here / "work"
    work.mkdir()
    venv = here / "venv"
    try:
        _run(
            [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(here)],
            work,
            environment,
        )
        (wheel,) = here.glob("schools_partner_portal-*.whl")
        _run([sys.executable, "-m", "venv", str(venv)], work, environment)
        _run([str(venv / "bin" / "python"), "-m", "pip", "install", str(wheel)], work, environment)
    except AssertionError as error:
        skip_or_fail(f"the wheel could not be built and installed: {error}")
    yield venv, work


def test_the_installed_wheel_migrates_and_serves_pages_and_static_files(
    installed: tuple[Path, Path],
) -> None:
    venv, work = installed
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"PYTHONPATH", "VIRTUAL_ENV", "PORTAL_ENV", "SECRET_KEY"}
    }
    database = work / "portal.sqlite3"
    environment["DATABASE_URL"] = f"sqlite:///{database}"

    imported = _run(
        [str(venv / "bin" / "python"), "-c", "import portal; print(portal.__file__)"],
        work,
        environment,
    )
    assert Path(imported.strip()).is_relative_to(venv), imported

    _run([str(venv / "bin" / "flask"), "--app", "portal", "db", "upgrade"], work, environment)
    with sqlite3.connect(database) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision
    # The demo, from the seed package's own data files in the wheel.
    _run([str(venv / "bin" / "flask"), "--app", "portal", "seed-demo"], work, environment)
    with sqlite3.connect(database) as connection:
        (schools,) = connection.execute("SELECT count(*) FROM school").fetchone()
    assert schools > 0

    port = unused_port()
    log = work / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603 (our own command)
            [
                str(venv / "bin" / "gunicorn"),
                "--workers",
                "1",
                "--no-control-socket",
                "--bind",
                f"127.0.0.1:{port}",
                # The settings the project's gunicorn.conf.py names, from the installed package.
                "--config",
                "python:portal.gunicorn_config",
                "portal:create_app()",
            ],
            cwd=work,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        # Each worker compiles the installed package's templates before its first request.
        deadline = time.monotonic() + 60
        while WARM_LOG not in log.read_text(errors="replace"):
            assert server.poll() is None, f"gunicorn stopped:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"gunicorn did not start:\n{log.read_text()}"
            time.sleep(0.2)
        compiled = re.search(rf"(\d+) {WARM_LOG}", log.read_text())
        assert compiled and int(compiled.group(1)) > 50, log.read_text()
        status, _, body = _get(f"{base}/healthz")
        assert status == 200, body

        status, _, page = _get(f"{base}/sign-in")
        assert status == 200, page
        html = page.decode()
        assert "<h1" in html
        stylesheet = STYLESHEET.search(html)
        assert stylesheet, html

        status, content_type, css = _get(base + stylesheet.group(1))
        assert status == 200
        assert content_type.startswith("text/css")
        assert css == BUILT_CSS.read_bytes()
    finally:
        server.terminate()
        server.wait(timeout=30)
    # Outside a checkout the instance folder is the environment's own (the session key made
    # there, SECRET_KEY being unset), not a folder in site-packages.
    assert (venv / "var" / "portal-instance" / "secret_key").is_file()
