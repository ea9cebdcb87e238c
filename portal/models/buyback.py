"""Buy-back: the windows in which schools choose the traded services they will buy, their
choices and submissions, the reminders sent, and a closed window's figures."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    event,
    insert,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import financial_year_label, utcnow
from portal.db import Base, UTCDateTime
from portal.models.accounts import User
from portal.models.base import stored_enum
from portal.models.schools import School
from portal.models.services import PriceOption, Service


class Cohort(enum.StrEnum):
    """Which schools a buy-back window is for: councils often run academies separately."""

    MAINTAINED = "maintained"
    ACADEMIES = "academies"
    ALL = "all"

    @property
    def label(self) -> str:
        return {
            Cohort.MAINTAINED: "Maintained schools",
            Cohort.ACADEMIES: "Academies and free schools",
            Cohort.ALL: "All schools",
        }[self]

    def includes(self, school: School) -> bool:
        if self is Cohort.ALL:
            return True
        return school.is_academy == (self is Cohort.ACADEMIES)


class BuybackWindow(Base):
    """When schools may choose what to buy for a financial year."""

    __tablename__ = "buyback_window"
    __table_args__ = (CheckConstraint("closes_at > opens_at", name="closes_after_opening"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    cohort: Mapped[Cohort] = mapped_column(stored_enum(Cohort, "buyback_cohort"))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Days before the deadline that schools not yet submitted are reminded, like [14, 3];
    # None: the council's default (BUYBACK_REMINDER_DAYS).
    reminder_days: Mapped[list[int] | None] = mapped_column(JSON)

    @property
    def year_label(self) -> str:
        return financial_year_label(self.year)

    def state(self, now: datetime) -> str:
        """'upcoming', 'open' or 'closed', by the server's clock."""
        if now < self.opens_at:
            return "upcoming"
        return "open" if now < self.closes_at else "closed"


class ChoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class BuybackChoice(Base):
    """One school's choices in one window: a draft, then submitted (and resubmitted)."""

    __tablename__ = "buyback_choice"
    __table_args__ = (
        Index("uq_buyback_choice_school_window", "school_id", "window_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("buyback_window.id"), index=True)
    status: Mapped[ChoiceStatus] = mapped_column(
        stored_enum(ChoiceStatus, "choice_status"), default=ChoiceStatus.DRAFT
    )
    purchase_order: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)
    # Since when the saved choice differs from what was last submitted (None: it does not),
    # and when the people who submit were e-mailed that staff had changed it: once a run.
    unsent_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsent_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    school: Mapped[School] = relationship(lazy="joined")
    window: Mapped[BuybackWindow] = relationship(lazy="joined")
    updated_by: Mapped[User | None] = relationship(lazy="joined")
    lines: Mapped[list[BuybackLine]] = relationship(
        back_populates="choice", cascade="all, delete-orphan", lazy="selectin"
    )
    submissions: Mapped[list[BuybackSubmission]] = relationship(
        back_populates="choice", order_by="BuybackSubmission.number", cascade="all, delete-orphan"
    )

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class BuybackLine(Base):
    """A school's explicit answer for one traded service: buying (which option, how many)
    or not buying. Prices are frozen on it when the choice is submitted."""

    __tablename__ = "buyback_line"
    __table_args__ = (
        Index("uq_buyback_line_choice_service", "choice_id", "service_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    choice_id: Mapped[int] = mapped_column(ForeignKey("buyback_choice.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    buying: Mapped[bool | None]
    option_id: Mapped[int | None] = mapped_column(ForeignKey("price_option.id"))
    quantity: Mapped[int] = mapped_column(default=1)
    net_pence: Mapped[int | None]
    vat_pence: Mapped[int | None]
    # Who last changed the answer (buying, option or how many), and when: a save that leaves
    # it as it was does not count.
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    choice: Mapped[BuybackChoice] = relationship(back_populates="lines")
    # Loaded only when asked for: a choice page reads a hundred lines and needs only their ids.
    service: Mapped[Service] = relationship()
    option: Mapped[PriceOption | None] = relationship()


_WHOLE_CHOICE_PENCE = BigInteger().with_variant(Integer(), "sqlite")


class BuybackSubmission(Base):
    """Each submission of a choice, kept: what was bought, at what frozen price, by whom."""

    __tablename__ = "buyback_submission"
    __table_args__ = (
        Index("uq_buyback_submission_choice_number", "choice_id", "number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    choice_id: Mapped[int] = mapped_column(ForeignKey("buyback_choice.id", ondelete="CASCADE"))
    number: Mapped[int]
    # One per rendered choice page: a second press of submit finds this submission.
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    purchase_order: Mapped[str | None] = mapped_column(String(40))
    # [{service, option, quantity, net_pence, vat_pence}] as they stood when submitted.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The whole choice: each line is at most MAX_QUOTE_PENCE (£2m), and a dozen of those is
    # more than PostgreSQL's INTEGER holds (£21,474,836.47). SQLite's INTEGER is 64-bit.
    net_pence: Mapped[int] = mapped_column(_WHOLE_CHOICE_PENCE)
    vat_pence: Mapped[int] = mapped_column(_WHOLE_CHOICE_PENCE)

    choice: Mapped[BuybackChoice] = relationship(back_populates="submissions")
    submitted_by: Mapped[User] = relationship(lazy="joined")


class BuybackSubmissionAnswer(Base):
    """Each service's yes or no in a submission, and what it came to: its ``lines`` as rows.

    Written with the submission (below) and never changed, like it; the lines stay the record
    (options, quantities, VAT, the names as they were). These rows are for adding up: the
    buy-back analysis totals a window's latest submissions in the database, by index,
    rather than reading every line of every school into Python.
    """

    __tablename__ = "buyback_submission_answer"

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("buyback_submission.id", ondelete="CASCADE"), primary_key=True
    )
    # The service as the lines name it (no foreign key, as there: a record of what was said).
    service_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    buying: Mapped[bool]
    net_pence: Mapped[int]
    # The option and how many, as sent, with the option's name and unit as they were: a task
    # list compares the saved answers with these, and says what each changed one was, without
    # reading the lines (migration 0024).
    option_id: Mapped[int | None]
    option_name: Mapped[str | None] = mapped_column(String(120))
    unit: Mapped[str | None] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(default=1, server_default="1")


def submission_answers(submission_id: int, lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answer rows of a submission's frozen ``lines``: one per service answered yes or no
    (a line without an answer is none), the last line of a service standing."""
    answers: dict[int, dict[str, Any]] = {}
    for line in lines:
        buying = line.get("buying")
        if isinstance(buying, bool):
            service_id = int(line["service_id"])
            option_id = line.get("option_id")
            answers[service_id] = {
                "submission_id": submission_id,
                "service_id": service_id,
                "buying": buying,
                "net_pence": int(line.get("net_pence") or 0),
                "option_id": None if option_id is None else int(option_id),
                "option_name": line.get("option"),
                "unit": line.get("unit"),
                "quantity": int(line.get("quantity") or 1),
            }
    return list(answers.values())


@event.listens_for(BuybackSubmission, "after_insert")
def _write_answers(_mapper: Any, connection: Any, submission: BuybackSubmission) -> None:
    # Every submission the ORM writes gets its rows in the same transaction; bulk writers
    # (seed-scale) call submission_answers themselves.
    rows = submission_answers(submission.id, submission.lines or [])
    if rows:
        connection.execute(insert(BuybackSubmissionAnswer.__table__), rows)


class BuybackReminder(Base):
    """A reminder that went to someone at (or over) a school for a window, so many days
    before its deadline: each sent once, whatever runs it again."""

    __tablename__ = "buyback_reminder"
    __table_args__ = (
        Index(
            "uq_buyback_reminder_school_window_days",
            "school_id",
            "window_id",
            "days_before",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    window_id: Mapped[int] = mapped_column(ForeignKey("buyback_window.id"))
    days_before: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BuybackWindowFigures(Base):
    """A closed window's figures, kept as they stood when it closed (portal.buyback.closed_figures).

    What the schools of a window answered is frozen on their submissions, but who the window's
    schools were, what each could buy and which services were offered is not: a school closed
    or converted by a later register import, a service's eligibility changed or an offer
    withdrawn would move a closed window's take-up, and with it the year-on-year comparison.
    So once the deadline has passed the counts are kept here, once, and read from here since.
    Costs of delivery are not kept: the council enters them after the deadline.
    """

    __tablename__ = "buyback_window_figures"

    window_id: Mapped[int] = mapped_column(
        ForeignKey("buyback_window.id", ondelete="CASCADE"), primary_key=True
    )
    # The deadline they were kept at: should it move later (the window extended), they no
    # longer stand, and are kept again when the window closes again.
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kept_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # {"returns": [[school id, state, submitted at, submissions]], "services": [[service id,
    # name, eligible, buying, not buying, net pence]], "by_phase" and "by_type": [[group,
    # service id, name, eligible, buying, not buying, net pence]]}: see
    # portal.buyback.closed_figures.
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
