"""Register imports as background jobs.

An upload is stored under the instance folder and queued as a :class:`RegisterImport`; a
job on the queue (with REDIS_URL, see ``portal.jobs``), or else a thread with its own
application context, works it and notes its progress on the import, which the import's page
polls. A dry run leaves its report; applying runs the same file again and makes its changes
in one transaction, so an import is applied whole or not at all.

The uploaded files are kept only while they may still be applied: they are removed when the
import is applied or fails, when a later upload is applied (which supersedes any earlier dry
run), and by ``flask --app portal register tidy`` once a dry run has waited too long. The
import's record and report stay, as the audit trail.

Longer than most modules: an import's job and the files it keeps are one life, from the
upload to the files' removal, and each step of it must see the others.
"""

from __future__ import annotations

import enum
import logging
import re
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.datastructures import FileStorage

from portal import audit
from portal.clock import utcnow
from portal.db import db
from portal.jobs import IMPORTS_HERE, enqueue_register_import, redis_away, redis_back
from portal.models import ImportStatus, RegisterImport, User
from portal.register.extract import MalformedFile, Table, read_table
from portal.register.links import Succession, read_links
from portal.register.plan import Plan, Snapshot, plan_import
from portal.register.report import malformed_report, plan_report, wrong_file_report
from portal.register.service import apply_plan, load_snapshot
from portal.register.values import REQUIRED_COLUMNS

log = logging.getLogger(__name__)

# How often a running import writes down its progress: often enough for a smooth bar, not
# so often that the writes slow the import.
PROGRESS_SECONDS = 0.5
# A job that has said nothing for this long died with its server (a restart, a deploy).
STALLED_AFTER = timedelta(minutes=5)
# What the worker keeps of a report from one run to the next.
KEPT = ("links_filename", "requested_by")
FAILED_TO_APPLY = (
    "Something went wrong while applying the changes, so none of them has been applied. "
    "Try again; if it happens again, tell the portal team."
)


def import_directory() -> Path:
    configured = current_app.config.get("REGISTER_IMPORT_DIRECTORY")
    return Path(configured) if configured else Path(current_app.instance_path) / "imports"


def links_path(record: RegisterImport) -> Path:
    return Path(record.stored_path).with_name(f"{record.id}-links.csv")


def create_import(extract: FileStorage, links: FileStorage | None, actor: User) -> RegisterImport:
    """Store the uploaded files and queue a dry run of them."""
    record = RegisterImport(
        created_by_id=actor.id,
        # Shown to people, never used as a path: the file is stored under the import's id.
        filename=Path(extract.filename or "extract.csv").name[:255],
        stored_path="",
        dry_run=True,
        status=ImportStatus.QUEUED,
        report={"links_filename": Path(links.filename or "links.csv").name} if links else {},
    )
    db.session.add(record)
    db.session.flush()
    directory = import_directory()
    directory.mkdir(parents=True, exist_ok=True)
    record.stored_path = str(directory / f"{record.id}.csv")
    extract.save(record.stored_path)
    if links is not None:
        links.save(links_path(record))
    audit.record(
        "register.import_uploaded",
        actor=actor,
        subject=record,
        filename=record.filename,
        links=record.report.get("links_filename"),
    )
    db.session.commit()
    return record


def request_apply(record: RegisterImport, actor: User) -> bool:
    """Queue a dry-run import to be applied; False if it is not (or no longer) ready.

    One conditional update, so that two presses of Apply cannot both queue it.
    """
    report = {**record.report, "requested_by": actor.id, "heartbeat": utcnow().isoformat()}
    queued = db.session.execute(
        update(RegisterImport)
        .where(
            RegisterImport.id == record.id,
            RegisterImport.status == ImportStatus.READY,
            # Its file is still here: not superseded or tidied away.
            RegisterImport.stored_path != "",
        )
        .values(status=ImportStatus.QUEUED, dry_run=False, report=report, processed_rows=0)
    ).rowcount
    db.session.commit()
    db.session.refresh(record)
    return queued == 1


def launch(app: Flask, import_id: int) -> threading.Thread | None:
    """Work the import on the job queue, or without one in a thread of this process (which
    it returns); either way the page polls the database for it."""
    try:
        if enqueue_register_import(app, import_id) is not None:
            redis_back(app)
            return None
    except RedisError as error:
        # Redis is away: the import still runs, here, as it would without a queue.
        redis_away(app, IMPORTS_HERE, error)
    worker = threading.Thread(
        target=run_import, args=(app, import_id), name=f"register-import-{import_id}", daemon=True
    )
    worker.start()
    return worker


def start_import(extract: FileStorage, links: FileStorage | None, actor: User) -> RegisterImport:
    """Store an upload and start its dry run."""
    record = create_import(extract, links, actor)
    launch(current_app._get_current_object(), record.id)
    return record


class Applying(enum.Enum):
    """What pressing Apply on a dry run did."""

    STARTED = "started"
    # The upload's file is gone (superseded or tidied away): upload it again.
    FILE_GONE = "file gone"
    # Applied already, or being applied.
    ALREADY = "already"


def apply_import(record: RegisterImport, actor: User) -> Applying:
    """Apply the dry run ``record`` as a job, once however often Apply is pressed."""
    if request_apply(record, actor):
        launch(current_app._get_current_object(), record.id)
        return Applying.STARTED
    if record.status is ImportStatus.READY and not record.keeps_file:
        return Applying.FILE_GONE
    return Applying.ALREADY


def is_stalled(record: RegisterImport, now: datetime) -> bool:
    if record.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return False
    heartbeat = record.report.get("heartbeat")
    last = datetime.fromisoformat(heartbeat) if heartbeat else record.created_at
    return now - last > STALLED_AFTER


def run_import(app: Flask, import_id: int) -> None:
    """The worker: a dry run or the real thing, as the import says. Never raises."""
    with app.app_context():
        try:
            _run(import_id)
        except Exception:
            log.exception("register import %s failed", import_id)
            db.session.rollback()
            record = db.session.get(RegisterImport, import_id)
            if record is not None:
                error = {"file": record.filename, "message": FAILED_TO_APPLY, "rows": []}
                _finish(record, ImportStatus.FAILED, {"error": error})


def _run(import_id: int) -> None:
    record = db.session.scalars(
        select(RegisterImport).where(
            RegisterImport.id == import_id, RegisterImport.status == ImportStatus.QUEUED
        )
    ).one_or_none()
    if record is None:
        return
    kept = {key: record.report[key] for key in KEPT if key in record.report}
    record.status = ImportStatus.RUNNING
    record.processed_rows = 0
    record.report = {**kept, "heartbeat": utcnow().isoformat()}
    db.session.commit()

    links = links_path(record)
    try:
        table, succession = read_files(
            Path(record.stored_path).read_bytes(),
            record.filename,
            links.read_bytes() if links.exists() else None,
            kept.get("links_filename", "links file"),
        )
    except FileRefused as refused:
        _finish(record, ImportStatus.FAILED, {**kept, **refused.report})
        return
    record.total_rows = len(table.rows)
    db.session.commit()

    snapshot = load_snapshot()
    plan = plan_import(table, snapshot, succession, progress=_Progress(record))
    refusal = wrong_file_report(plan, snapshot, record.filename)
    if refusal is not None:
        _finish(record, ImportStatus.FAILED, {**kept, **refusal})
        return
    report = {**kept, **plan_report(plan, snapshot)}
    if record.dry_run:
        _finish(record, ImportStatus.READY, report)
        return
    try:
        _apply(record, plan, report, snapshot)
    except Exception:
        log.exception("register import %s could not be applied", import_id)
        db.session.rollback()
        record = db.session.get(RegisterImport, import_id)
        error = {"file": record.filename, "message": FAILED_TO_APPLY, "rows": []}
        _finish(record, ImportStatus.FAILED, {**report, "error": error})


class FileRefused(Exception):
    """A file that cannot be used at all; ``report`` says why, and nothing is applied."""

    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__(report["error"]["message"])
        self.report = report


def read_files(
    extract: bytes, filename: str, links: bytes | None = None, links_name: str = "links file"
) -> tuple[Table, Succession | None]:
    try:
        table = read_table(extract, REQUIRED_COLUMNS)
    except MalformedFile as error:
        raise FileRefused(malformed_report(error, filename)) from error
    try:
        return table, read_links(links) if links is not None else None
    except MalformedFile as error:
        raise FileRefused(malformed_report(error, links_name)) from error


def import_now(
    extract: bytes,
    filename: str,
    links: bytes | None = None,
    *,
    apply: bool,
    actor: User | None = None,
) -> dict[str, Any]:
    """An import from the command line, here and now: the report of a dry run, or of the
    changes made (in one transaction). Raises :class:`FileRefused` for an unusable file."""
    table, succession = read_files(extract, filename, links)
    snapshot = load_snapshot()
    plan = plan_import(table, snapshot, succession)
    refusal = wrong_file_report(plan, snapshot, filename)
    if refusal is not None:
        raise FileRefused(refusal)
    report = plan_report(plan, snapshot)
    if apply:
        try:
            apply_plan(plan, snapshot, actor, source="command line")
            _audit_applied(plan, actor, None, filename)
            superseded = _supersede_earlier(None)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        remove_files(superseded)
    return report


def _audit_applied(
    plan: Plan, actor: User | None, record: RegisterImport | None, filename: str
) -> None:
    audit.record(
        "register.import_applied",
        actor=actor,
        subject=record,
        filename=filename,
        added=len(plan.additions),
        changed=len(plan.changes),
        closed=len(plan.closures),
        flagged=len(plan.reviews),
        rejected=len(plan.rejected),
    )


def _apply(record: RegisterImport, plan: Plan, report: dict[str, Any], snapshot: Snapshot) -> None:
    requested_by = report.get("requested_by")
    actor = db.session.get(User, requested_by) if requested_by else None
    apply_plan(plan, snapshot, actor, import_id=record.id)
    _audit_applied(plan, actor, record, record.filename)
    superseded = _supersede_earlier(record)
    # The same commit as the changes: the import says "applied" exactly when they are.
    _finish(record, ImportStatus.APPLIED, report)
    remove_files(superseded)


def _finish(record: RegisterImport, status: ImportStatus, report: dict[str, Any]) -> None:
    record.status = status
    record.report = report
    record.finished_at = utcnow()
    if status is not ImportStatus.FAILED:
        record.processed_rows = record.total_rows
    # Applied or failed, the upload will not be read again: it goes once that is committed.
    done_with = stored_files(record) if status is not ImportStatus.READY else []
    if done_with:
        record.stored_path = ""
    db.session.commit()
    remove_files(done_with)


class _Progress:
    """Writes down how many rows are done, at most every PROGRESS_SECONDS, and the last."""

    def __init__(self, record: RegisterImport) -> None:
        self.record = record
        self.last = 0.0

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_SECONDS and done != self.record.total_rows:
            return
        self.last = now
        self.record.processed_rows = done
        self.record.report = {**self.record.report, "heartbeat": utcnow().isoformat()}
        db.session.commit()


# --- the uploaded files ----------------------------------------------------------------------

# What create_import names the files it stores: anything else in the folder is not ours.
_STORED_NAME = re.compile(r"\d+(?:-links)?\.csv")


def stored_files(record: RegisterImport) -> list[Path]:
    """The uploaded files ``record`` still keeps: the extract, and its links file if any."""
    if not record.stored_path:
        return []
    return [Path(record.stored_path), links_path(record)]


def remove_files(paths: list[Path]) -> None:
    """Remove files whose import no longer needs them; after the commit that says so."""
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            # Nothing reads it again: a file left behind is for `register tidy`, not a failure.
            log.warning("could not remove %s, a register import's upload", path)


def _supersede_earlier(applied: RegisterImport | None) -> list[Path]:
    """Dry runs uploaded before ``applied`` (None: an import from the command line) and never
    applied can no longer be: they were checked against the register as it was, and applying
    one now would undo what ``applied`` changed. Returns their files, for the caller to
    remove once this is committed."""
    earlier = select(RegisterImport).where(
        RegisterImport.status == ImportStatus.READY, RegisterImport.stored_path != ""
    )
    if applied is not None:
        earlier = earlier.where(RegisterImport.id < applied.id)
    by = applied.id if applied is not None else "command line"
    return [
        path
        for other in db.session.scalars(earlier).all()
        for path in _let_go(other, superseded_by=by)
    ]


def _let_go(record: RegisterImport, **note: Any) -> list[Path]:
    """Mark ``record`` as keeping no file, if it is still as it was read (not, say, asked to
    be applied meanwhile); returns the files to remove once that is committed, or none.
    ``note`` is added to its report. The caller commits."""
    files = stored_files(record)
    values: dict[str, Any] = {"stored_path": ""}
    if note:
        values["report"] = {**record.report, **note}
    taken = db.session.execute(
        update(RegisterImport)
        .where(
            RegisterImport.id == record.id,
            RegisterImport.status == record.status,
            RegisterImport.stored_path == record.stored_path,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        return []
    for name, value in values.items():
        set_committed_value(record, name, value)
    return files


def _done_with_before(record: RegisterImport, cutoff: datetime, now: datetime) -> bool:
    """Whether ``record`` finished, or was abandoned, before ``cutoff``. One still queued or
    running is abandoned only once is_stalled says so, however early the cutoff."""
    if record.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        heartbeat = record.report.get("heartbeat")
        last = datetime.fromisoformat(heartbeat) if heartbeat else record.created_at
        return is_stalled(record, now) and last < cutoff
    return (record.finished_at or record.created_at) < cutoff


def tidy(older_than: timedelta, now: datetime) -> int:
    """Remove the uploads of imports that finished, or were abandoned (their server stopped),
    over ``older_than`` ago: above all dry runs that were never applied. Every import keeps
    its record and report. Returns how many imports' files were removed."""
    cutoff = now - older_than
    stale = [
        record
        for record in db.session.scalars(
            select(RegisterImport)
            .where(RegisterImport.stored_path != "")
            .order_by(RegisterImport.id)
        )
        if _done_with_before(record, cutoff, now)
    ]
    files: list[Path] = []
    tidied = 0
    for record in stale:
        taken = _let_go(record)
        tidied += bool(taken)
        files.extend(taken)
    db.session.commit()
    remove_files(files)
    # A file no import keeps yet may be an upload whose import is being saved this moment.
    _remove_strays(min(cutoff, now - STALLED_AFTER))
    return tidied


def _remove_strays(cutoff: datetime) -> None:
    """Files of ours in the folder that no import keeps (an upload whose import was never
    saved, a removal that failed), once they are older than the cutoff."""
    directory = import_directory()
    if not directory.is_dir():
        return
    kept = set()
    for import_id, stored_path in db.session.execute(
        select(RegisterImport.id, RegisterImport.stored_path).where(
            RegisterImport.stored_path != ""
        )
    ):
        kept.update({Path(stored_path).name, f"{import_id}-links.csv"})
    for path in directory.iterdir():
        if not _STORED_NAME.fullmatch(path.name) or path.name in kept:
            continue
        try:
            old = path.stat().st_mtime < cutoff.timestamp()
        except FileNotFoundError:
            continue
        if old:
            remove_files([path])
