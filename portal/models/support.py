"""CAF officer support: a school's request about one child, and its timeline."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import Date

from portal.clock import utcnow
from portal.db import Base, UTCDateTime
from portal.models.accounts import User
from portal.models.base import stored_enum
from portal.models.schools import Area, School


class SupportKind(enum.StrEnum):
    ADVICE = "advice"
    COMPLETING = "completing"
    TEAM_AROUND_THE_FAMILY = "team_around_the_family"
    LEAD_PROFESSIONAL = "lead_professional"
    TRAINING = "training"

    @property
    def label(self) -> str:
        return SUPPORT_KIND_LABELS[self]


SUPPORT_KIND_LABELS = {
    SupportKind.ADVICE: "Advice on whether to start an early help assessment",
    SupportKind.COMPLETING: "Help completing an early help assessment",
    SupportKind.TEAM_AROUND_THE_FAMILY: "A Team Around the Family meeting",
    SupportKind.LEAD_PROFESSIONAL: "Support for a Lead Professional",
    SupportKind.TRAINING: "Training for staff",
}


class LevelOfNeed(enum.StrEnum):
    """Levels 2a and 2b of the council's thresholds: the ones a CAF is for."""

    CAF = "2a"
    CAF_WITH_LEAD_PROFESSIONAL = "2b"

    @property
    def label(self) -> str:
        return {
            LevelOfNeed.CAF: "Level 2a: early help assessment (CAF)",
            LevelOfNeed.CAF_WITH_LEAD_PROFESSIONAL: (
                "Level 2b: early help assessment with a Lead Professional"
            ),
        }[self]


class Urgency(enum.StrEnum):
    ROUTINE = "routine"
    SOON = "soon"
    URGENT = "urgent"

    @property
    def label(self) -> str:
        return {Urgency.ROUTINE: "Routine", Urgency.SOON: "Soon", Urgency.URGENT: "Urgent"}[self]


class SupportStatus(enum.StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    REDIRECTED = "redirected"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_open(self) -> bool:
        return self not in (SupportStatus.CLOSED, SupportStatus.REDIRECTED)


class SupportOutcome(enum.StrEnum):
    ASSESSMENT_STARTED = "assessment_started"
    ADVICE_GIVEN = "advice_given"
    STEPPED_UP = "stepped_up"
    NO_FURTHER_ACTION = "no_further_action"

    @property
    def label(self) -> str:
        return {
            SupportOutcome.ASSESSMENT_STARTED: "Early help assessment started",
            SupportOutcome.ADVICE_GIVEN: "Advice given",
            SupportOutcome.STEPPED_UP: "Stepped up to children's social care",
            SupportOutcome.NO_FURTHER_ACTION: "No further action",
        }[self]


class RedirectReason(enum.StrEnum):
    ANOTHER_AREA = "another_area"
    FRONT_DOOR = "front_door"

    @property
    def label(self) -> str:
        return {
            RedirectReason.ANOTHER_AREA: "Belongs to another area",
            RedirectReason.FRONT_DOOR: "Sent to the children's services front door",
        }[self]


# The open requests, as SQL (the partial indexes of migration 0022).
OPEN_SUPPORT_REQUESTS = "status IN ('new', 'acknowledged', 'in_progress')"


class SupportRequest(Base):
    """A school's request for a CAF officer's support with one child (or with training).

    The child is never named: initials and year group only. ``version`` is checked on every
    update, so two officers working on the request at once cannot overwrite each other.
    """

    __tablename__ = "support_request"
    __table_args__ = (
        Index("ix_support_request_area_status", "area_id", "status", "submitted_at"),
        # The open requests of an area in the queue's orders (migration 0022).
        *(
            Index(
                f"ix_support_request_open_{column}",
                "area_id",
                column,
                "id",
                postgresql_where=text(OPEN_SUPPORT_REQUESTS),
                sqlite_where=text(OPEN_SUPPORT_REQUESTS),
            )
            for column in ("respond_by", "submitted_at")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    # One per "check your answers" page: a second press of submit finds the first request.
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[SupportKind] = mapped_column(stored_enum(SupportKind, "support_kind"))
    consent: Mapped[bool]
    child_initials: Mapped[str | None] = mapped_column(String(4))
    child_year_group: Mapped[str | None] = mapped_column(String(20))
    level_of_need: Mapped[LevelOfNeed | None] = mapped_column(
        stored_enum(LevelOfNeed, "level_of_need")
    )
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    urgency: Mapped[Urgency] = mapped_column(stored_enum(Urgency, "urgency"))
    contact_by: Mapped[str] = mapped_column(String(10))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contact_times: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)
    status: Mapped[SupportStatus] = mapped_column(
        stored_enum(SupportStatus, "support_status"), default=SupportStatus.NEW
    )
    meeting_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[SupportOutcome | None] = mapped_column(
        stored_enum(SupportOutcome, "support_outcome")
    )
    redirect_reason: Mapped[RedirectReason | None] = mapped_column(
        stored_enum(RedirectReason, "redirect_reason")
    )
    assigned_officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), index=True
    )
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    respond_by: Mapped[date] = mapped_column(Date)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    school: Mapped[School] = relationship(lazy="joined")
    area: Mapped[Area] = relationship(lazy="joined")
    requester: Mapped[User] = relationship(foreign_keys=[requester_id], lazy="joined")
    assigned_officer: Mapped[User | None] = relationship(
        foreign_keys=[assigned_officer_id], lazy="joined"
    )
    events: Mapped[list[SupportEvent]] = relationship(
        back_populates="request", order_by="SupportEvent.id", cascade="all, delete-orphan"
    )

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


# How many requests each area has of each status, kept by the database's triggers in the
# statement of every change to a request (migration 0022): what a count of the rows gives,
# in the same transaction, without visiting them (portal.support.queue).
support_request_count = Table(
    "support_request_count",
    Base.metadata,
    Column("area_id", Integer, primary_key=True),
    Column("status", String(20), primary_key=True),
    Column("n", Integer, nullable=False),
)


class SupportEvent(Base):
    """One entry on a request's timeline: a change of status, or a note."""

    __tablename__ = "support_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("support_request.id", ondelete="CASCADE"), index=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    from_status: Mapped[SupportStatus | None] = mapped_column(
        stored_enum(SupportStatus, "support_event_from_status")
    )
    to_status: Mapped[SupportStatus | None] = mapped_column(
        stored_enum(SupportStatus, "support_event_to_status")
    )
    note: Mapped[str | None] = mapped_column(Text)
    # A note the school may read; otherwise it is private to the council.
    shared_with_school: Mapped[bool] = mapped_column(default=True)
    # The request was given to ``assigned_to`` (to nobody, when that is None): an officer's
    # work, which the school does not see.
    assignment: Mapped[bool] = mapped_column(default=False, server_default=false())
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    request: Mapped[SupportRequest] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id], lazy="joined")
