"""Development settings: no session key anyone could read in the source, and no server with
them that others could reach."""

from __future__ import annotations

import os
import runpy
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv6Address
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import cli as flask_cli
from flask.sessions import SecureCookieSessionInterface
from gunicorn.config import Config as GunicornConfig
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal import ConfigurationError, create_app
from portal.auth.service import SECOND_FACTOR, SIGNED_IN_AT
from portal.models import User
from portal.secret_key import instance_secret_key
from tests.conftest import TEST_CONFIG

ROOT = Path(__file__).resolve().parents[2]
# The key every copy of the portal started without SECRET_KEY signed sessions with, until
# issue #16: written here only to show that a session signed with it is refused.
OLD_FIXED_KEY = "development-only-not-secret"
# Every address of the machine, as a server is asked to listen on it.
EVERY_ADDRESS = "0.0.0.0"  # noqa: S104 (the address refused here)


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the portal whose instance/ folder is an empty one of the test's own, started
    as a developer starts it: no SECRET_KEY and no PORTAL_ENV in the environment. (Templates
    and static files come from the package, wherever the instance folder is.)"""
    (tmp_path / "instance").mkdir()
    monkeypatch.setattr("portal.ROOT", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    return tmp_path / "instance"


@pytest.fixture
def development_app(
    instance: Path, database_url: str, seeded_app: Flask, mail_directory: str
) -> Iterator[Flask]:
    """The seeded portal as `make run` starts it: development settings, no SECRET_KEY."""
    settings = {name: value for name, value in TEST_CONFIG.items() if name != "SECRET_KEY"}
    app = create_app({**settings, "DATABASE_URL": database_url, "MAIL_DIRECTORY": mail_directory})
    yield app
    app.extensions["portal.db"].engine.dispose()


def _repository_files() -> list[Path]:
    # Tracked files and new ones alike, as git lists them (not what .gitignore leaves out).
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],  # noqa: S607 (git on the PATH)
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def _files_holding(text: str) -> list[str]:
    found = []
    for path in _repository_files():
        try:
            if text in path.read_text(errors="ignore"):
                found.append(str(path.relative_to(ROOT)))
        except OSError:
            continue
    return found


def test_no_key_written_in_the_source_signs_sessions(
    development_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = development_app.config["SECRET_KEY"]
    assert len(key) >= 32
    assert _files_holding(key) == []
    # The old fixed key is gone from everything but the test that shows it refused.
    assert _files_holding(OLD_FIXED_KEY) == ["tests/app/test_development_settings.py"]
    # Nothing else in the settings supplies a key: unset, it is unset, whatever PORTAL_ENV.
    from portal.config import from_environment

    for environment in ("development", "test", "production"):
        monkeypatch.setenv("PORTAL_ENV", environment)
        assert from_environment(str(ROOT / "instance"))["SECRET_KEY"] is None


def test_the_deploy_example_starts_nothing_until_its_key_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Copied as it is, the example's settings must not start a portal with a key anyone
    # who has read the repository knows.
    example = (ROOT / "deploy" / "portal.env.example").read_text().splitlines()
    for line in example:
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    with pytest.raises(ConfigurationError, match=r"^SECRET_KEY must be set"):
        create_app()


def _forged_session(app: Flask, key: str) -> str:
    """A council administrator's session cookie, second factor and all, signed with ``key``
    by someone who knows it: no password, no authenticator."""
    with app.app_context():
        from portal.db import db

        admin = db.session.scalar(select(User).where(User.email == "admin@council.example"))
        assert admin is not None
        claims = {
            "_user_id": f"{admin.id}:{admin.session_version}",
            "_fresh": True,
            SIGNED_IN_AT: int(time.time()),
            SECOND_FACTOR: True,
        }
    forger = Flask("forger")
    forger.secret_key = key
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    return serializer.dumps(claims)


def test_a_session_signed_with_the_old_fixed_key_is_refused(
    development_app: Flask, make_app: Any
) -> None:
    # The forgery is a good one: a portal whose key it is takes it for the administrator.
    old = make_app(SECRET_KEY=OLD_FIXED_KEY).test_client()
    old.set_cookie("session", _forged_session(development_app, OLD_FIXED_KEY))
    audit = old.get("/admin/audit")
    assert audit.status_code == 200
    assert "Audit log" in audit.get_data(as_text=True)

    client = development_app.test_client()
    client.set_cookie("session", _forged_session(development_app, OLD_FIXED_KEY))
    refused = client.get("/admin/audit")
    assert refused.status_code in (302, 303)
    assert refused.headers["Location"].startswith("/sign-in")


def test_the_development_key_is_made_once_for_its_owner_alone_and_kept(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    loose = os.umask(0)  # a umask that would leave a new file open to everyone
    try:
        first = create_app({"TESTING": True})
    finally:
        os.umask(loose)
    key_file = instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == first.config["SECRET_KEY"]
    # Later starts (a restart of `make run`) sign with the same key: sessions survive.
    again = create_app({"TESTING": True})
    assert again.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    for app in (first, again):
        app.extensions["portal.db"].engine.dispose()
    # Another machine (another instance folder) has a key of its own.
    other = instance.parent / "elsewhere"
    assert instance_secret_key(str(other)) != first.config["SECRET_KEY"]


def test_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    # gunicorn's workers each make the app at once: all must sign with the same key.
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: instance_secret_key(str(tmp_path)), range(32)))
    assert len(keys) == 1
    assert [path.name for path in tmp_path.iterdir()] == ["secret_key"]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602, 0o660], ids=oct)
def test_a_key_file_others_can_read_or_change_is_refused(
    instance: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    key_file = instance / "secret_key"
    instance_secret_key(str(instance))
    key_file.chmod(mode)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    with pytest.raises(ConfigurationError, match="can be read or changed by other users"):
        create_app({"TESTING": True})


@pytest.mark.parametrize("content", ["", "short\n"])
def test_a_key_file_with_no_key_is_refused(instance: Path, content: str) -> None:
    key_file = instance / "secret_key"
    key_file.write_text(content)
    key_file.chmod(0o600)
    with pytest.raises(ConfigurationError, match="holds no usable session key"):
        instance_secret_key(str(instance))


def test_a_key_file_that_is_a_link_is_refused(instance: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "someone-elses-key"
    elsewhere.write_text("k" * 64)
    elsewhere.chmod(0o600)
    (instance / "secret_key").symlink_to(elsewhere)
    with pytest.raises(ConfigurationError, match="cannot be read"):
        instance_secret_key(str(instance))


# gunicorn refuses to serve development settings where others could reach them.


def _gunicorn_starting(bind: list[str]) -> None:
    """gunicorn.conf.py's on_starting hook, as gunicorn's master calls it for ``bind``."""
    config = GunicornConfig()
    config.set("bind", bind)
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    hooks["on_starting"](SimpleNamespace(cfg=config))


# The fixture only moves the instance folder and clears PORTAL_ENV: nothing to redo per example.
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.ip_addresses(), st.integers(min_value=1, max_value=65535))
def test_gunicorn_serves_development_settings_on_loopback_only(
    instance: Path, address: Any, port: int
) -> None:
    bind = f"[{address}]:{port}" if isinstance(address, IPv6Address) else f"{address}:{port}"
    if address.is_loopback:
        _gunicorn_starting([bind])
    else:
        with pytest.raises(ConfigurationError, match="must not listen on"):
            _gunicorn_starting([bind])


@pytest.mark.parametrize(
    ("bind", "allowed"),
    [
        (["127.0.0.1:8765"], True),  # make bench
        (["localhost:8000"], True),
        (["[::1]:8000"], True),
        (["0.0.0.0:8000"], False),
        (["[::]:8000"], False),
        ([":8000"], False),  # gunicorn reads an empty host as 0.0.0.0
        (["127.0.0.1:8000", "0.0.0.0:8001"], False),
        (["unix:/run/portal.sock"], False),  # any proxy, or anyone on the machine, could use it
        (["fd://3"], False),
    ],
)
def test_gunicorn_refuses_development_settings_where_others_could_reach_them(
    bind: list[str], allowed: bool, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_ENV", "development")
    if allowed:
        _gunicorn_starting(bind)
    else:
        with pytest.raises(ConfigurationError, match=r"^PORTAL_ENV=development must not listen"):
            _gunicorn_starting(bind)
    # Production settings are served wherever the operator says.
    monkeypatch.setenv("PORTAL_ENV", "production")
    _gunicorn_starting(bind)


def test_gunicorn_reads_portal_env_where_the_app_will(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # instance/config.py wins over the environment in create_app, so in the hook too.
    (instance / "config.py").write_text('PORTAL_ENV = "production"\n')
    _gunicorn_starting(["0.0.0.0:8000"])
    (instance / "config.py").write_text('PORTAL_ENV = "development"\n')
    monkeypatch.setenv("PORTAL_ENV", "production")
    with pytest.raises(ConfigurationError, match="must not listen"):
        _gunicorn_starting(["0.0.0.0:8000"])


def test_gunicorn_itself_stops_before_serving_development_settings_to_all() -> None:
    environment = {
        **{name: value for name, value in os.environ.items() if name != "PORTAL_ENV"},
        "DATABASE_URL": "sqlite://",
        "SECRET_KEY": "k" * 64,
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    done = subprocess.run(  # noqa: S603 (our own command)
        [str(gunicorn), "--no-control-socket", "--bind", "0.0.0.0:0", "wsgi:app"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert "PORTAL_ENV=development must not listen on 0.0.0.0:0" in done.stderr
    assert "Booting worker" not in done.stderr


# `flask run` likewise.


def _flask_run(host: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[str]]:
    served: list[str] = []
    monkeypatch.setattr("flask.cli.run_simple", lambda host, *_, **__: served.append(host))
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    result = CliRunner().invoke(flask_cli, ["--app", "portal", "run", "--host", host])
    return result, served


@pytest.mark.parametrize("host", [EVERY_ADDRESS, "::", "192.0.2.10"])
def test_flask_run_refuses_development_settings_where_others_could_reach_them(
    host: str, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, served = _flask_run(host, monkeypatch)
    assert isinstance(result.exception, ConfigurationError)
    assert "must not listen on" in str(result.exception)
    assert served == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_flask_run_serves_development_settings_on_loopback(
    host: str, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, served = _flask_run(host, monkeypatch)
    assert result.exception is None, result.output
    assert served == [host]


def test_flask_run_serves_production_settings_anywhere(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "PORTAL_ENV": "production",
        "SECRET_KEY": "k" * 64,
        "PORTAL_URL": "https://schools.council.example",
    }.items():
        monkeypatch.setenv(name, value)
    result, served = _flask_run(EVERY_ADDRESS, monkeypatch)
    assert result.exception is None, result.output
    assert served == [EVERY_ADDRESS]
