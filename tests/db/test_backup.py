"""deploy/backup.sh and deploy/restore.sh against a real PostgreSQL server (issue #16, 8).

A backup holds everything the portal holds, so it is readable by its owner only; a failed
dump leaves nothing that looks like a backup; old dumps go; and a restore applies the
retention policy again, so that details anonymised since the dump do not come back.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from portal import create_app
from portal.cli import upgrade_database
from portal_seed.demo import seed
from tests.conftest import TEST_CONFIG, skip_or_fail

# pg_dump and pg_restore on scratch databases: left out of make test-fast.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "deploy" / "backup.sh"
RESTORE = ROOT / "deploy" / "restore.sh"
FLASK = Path(sys.executable).parent / "flask"
BASH = shutil.which("bash") or "/bin/bash"


@pytest.fixture(scope="module")
def server_url() -> str:
    """The test PostgreSQL server, as SQLAlchemy names it (the scratch databases go there)."""
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not url:
        skip_or_fail("backup tests skipped: PORTAL_TEST_DATABASE_URL is not set")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        skip_or_fail("backup tests skipped: pg_dump and pg_restore are not installed")
    return str(url)


def _libpq(url: str) -> str:
    """What pg_dump and pg_restore take: the same address without SQLAlchemy's driver name."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def scratch_database(server_url: str) -> Iterator[object]:
    """Makes empty databases on the test server, named for this test; drops them after."""
    made: list[str] = []
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")

    def make() -> str:
        name = f"portal_backup_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(server_url).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as connection:
        for name in made:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _run(script: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # umask 022, as a root shell or a cron job may well have: the script must not rely on
    # its caller's.
    return subprocess.run(  # noqa: S603 (our own scripts)
        [BASH, "-c", 'umask 022; exec "$@"', "bash", str(script), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_backup_is_owner_only_and_a_restore_applies_the_retention_policy_again(
    scratch_database, tmp_path: Path
) -> None:
    source = scratch_database()
    app = create_app(
        {
            **TEST_CONFIG,
            "DATABASE_URL": source,
            "MAIL_DIRECTORY": str(tmp_path),
            "CLAIM_EVIDENCE_DIRECTORY": str(tmp_path / "claim-evidence"),
        }
    )
    with app.app_context():
        upgrade_database()
        seed()
    engine = create_engine(source)
    long_ago = datetime.now(UTC) - timedelta(days=3 * 365)
    with engine.begin() as connection:
        reference = connection.execute(
            text(
                "UPDATE support_request SET status = 'closed', child_initials = 'ZQ', "
                "updated_at = :long_ago WHERE id = (SELECT min(id) FROM support_request) "
                "RETURNING reference"
            ),
            {"long_ago": long_ago},
        ).scalar_one()
    engine.dispose()
    app.extensions["portal.db"].engine.dispose()

    backups = tmp_path / "backups"
    made = _run(BACKUP, {"DATABASE": _libpq(source), "BACKUP_DIR": str(backups)})
    assert made.returncode == 0, made.stderr
    dumps = list(backups.iterdir())
    assert [d.name for d in dumps] == [f"portal-{time.strftime('%Y-%m-%d')}.dump"]
    assert _mode(dumps[0]) == 0o600
    assert _mode(backups) == 0o700

    target = scratch_database()
    restored = _run(
        RESTORE,
        {
            "DATABASE": _libpq(target),
            "DATABASE_URL": target,
            "FLASK": str(FLASK),
            "SECRET_KEY": "restore-test-key",
            "MAIL_DIRECTORY": str(tmp_path / "mail"),
        },
        str(dumps[0]),
    )
    assert restored.returncode == 0, restored.stderr
    assert "Anonymised 1 request" in restored.stdout
    engine = create_engine(target)
    with engine.connect() as connection:
        initials, anonymised_at = connection.execute(
            text(
                "SELECT child_initials, anonymised_at FROM support_request "
                "WHERE reference = :reference"
            ),
            {"reference": reference},
        ).one()
    engine.dispose()
    assert initials is None
    assert anonymised_at is not None


def test_a_failed_dump_leaves_no_file_and_says_so(server_url: str, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    missing = make_url(server_url).set(database=f"no_such_{uuid.uuid4().hex[:8]}")
    failed = _run(
        BACKUP,
        {
            "DATABASE": _libpq(missing.render_as_string(hide_password=False)),
            "BACKUP_DIR": str(backups),
        },
    )
    assert list(backups.iterdir()) == []
    assert failed.returncode != 0
    assert "no backup was written" in failed.stderr


def test_dumps_older_than_the_kept_days_go_and_newer_ones_stay(
    scratch_database, tmp_path: Path
) -> None:
    database = scratch_database()
    backups = tmp_path / "backups"
    backups.mkdir()
    now = time.time()
    ages = {"portal-old.dump": 15, "portal-recent.dump": 13}
    for name, days in ages.items():
        path = backups / name
        path.write_bytes(b"")
        os.utime(path, (now - days * 86400 - 60, now - days * 86400 - 60))

    made = _run(
        BACKUP,
        {"DATABASE": _libpq(database), "BACKUP_DIR": str(backups), "BACKUP_KEEP_DAYS": "14"},
    )
    assert made.returncode == 0, made.stderr
    names = sorted(path.name for path in backups.iterdir())
    assert names == sorted(["portal-recent.dump", f"portal-{time.strftime('%Y-%m-%d')}.dump"])
