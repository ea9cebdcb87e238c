"""Imports of the DfE schools register (GIAS extracts)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, utcnow
from portal.models.accounts import User
from portal.models.base import stored_enum


class ImportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"  # a dry run's report is ready to read
    APPLIED = "applied"
    FAILED = "failed"


class RegisterImport(Base):
    """An import of the DfE schools register (GIAS extract): dry run first, then applied."""

    __tablename__ = "register_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    filename: Mapped[str] = mapped_column(String(255))
    # Where the uploaded file is kept (under the instance folder) while it may be applied;
    # "" once it has been removed (applied, failed, superseded or tidied away).
    stored_path: Mapped[str] = mapped_column(String(500))
    dry_run: Mapped[bool] = mapped_column(default=True)
    status: Mapped[ImportStatus] = mapped_column(
        stored_enum(ImportStatus, "import_status"), default=ImportStatus.QUEUED
    )
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    # Additions, changes, closures, successors flagged for review, and rejected rows (why).
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User | None] = relationship()

    @property
    def keeps_file(self) -> bool:
        """Whether the uploaded file is still here, so that a dry run can be applied."""
        return bool(self.stored_path)
