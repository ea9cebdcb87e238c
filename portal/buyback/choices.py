"""Saving a category into a school's draft choice, and submitting the choice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    func,
    select,
    tuple_,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, defer, joinedload, lazyload, selectinload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from portal import audit, clock
from portal.buyback.answers import Answer, Answers, Seen, answer_key
from portal.buyback.confirmation import email_confirmation
from portal.buyback.offered import Offered
from portal.buyback.school_windows import latest_submission_id
from portal.buyback.standing import note_unsent_changes
from portal.db import db
from portal.models import (
    BuybackChoice,
    BuybackLine,
    BuybackSubmission,
    BuybackWindow,
    ChoiceStatus,
    School,
    User,
)

# --- saving and submitting --------------------------------------------------------------------


class WindowClosed(Exception):
    """The window is not open: nothing may be saved or submitted."""


class StaleChoice(Exception):
    """Someone else saved the choice after this person loaded it, or the save cannot show
    what its person saw (``unverified``): either way nothing is written."""

    def __init__(
        self, choice: BuybackChoice, changed: list[str], *, unverified: bool = False
    ) -> None:
        super().__init__(", ".join(changed))
        self.choice = choice
        self.changed = changed
        self.unverified = unverified


def get_choice(
    school: School, window: BuybackWindow, *, with_lines: bool = False
) -> BuybackChoice | None:
    """The school's choice in the window. Its lines are read when asked for (a page reads
    them as plain rows, see ``current_answers``), or ``with_lines``, for a request that will
    write them: in a second query (selectinload), which took three quarters of the time of
    reading the choice's columns again with each of its hundred and fifty lines (joinedload;
    2.1 against 2.8 ms, measured)."""
    lines = selectinload(BuybackChoice.lines) if with_lines else lazyload(BuybackChoice.lines)
    return (
        db.session.scalars(
            select(BuybackChoice)
            .options(lines, lazyload(BuybackChoice.school))
            .where(BuybackChoice.school_id == school.id, BuybackChoice.window_id == window.id)
        )
        .unique()
        .one_or_none()
    )


def _choice_options(details: bool, lines: bool = False) -> list[Any]:
    """A choice read with its latest submission, and nothing else of theirs: what that
    submission bought and who made it, and who last saved the choice, only with ``details``
    (the CSV and the task list show them); what it bought alone with ``lines``."""
    details_options = (
        [joinedload(BuybackSubmission.submitted_by), joinedload(BuybackChoice.updated_by)]
        if details
        else [
            *([] if lines else [defer(BuybackSubmission.lines)]),
            lazyload(BuybackSubmission.submitted_by),
            lazyload(BuybackChoice.updated_by),
        ]
    )
    return [
        lazyload(BuybackChoice.school),
        lazyload(BuybackChoice.window),
        lazyload(BuybackChoice.lines),
        *details_options,
    ]


def choices_for(
    windows: dict[int, BuybackWindow | None], *, details: bool = False
) -> dict[int, tuple[BuybackChoice, BuybackSubmission | None]]:
    """Each school's choice in its window (school id -> window), with its latest submission:
    a trust's every academy in one query however many it has (``details``: see
    _choice_options)."""
    wanted = [(school_id, window.id) for school_id, window in windows.items() if window is not None]
    if not wanted:
        return {}
    found = db.session.execute(
        select(BuybackChoice, BuybackSubmission)
        .outerjoin(BuybackSubmission, BuybackSubmission.id == latest_submission_id())
        .options(*_choice_options(details))
        .where(tuple_(BuybackChoice.school_id, BuybackChoice.window_id).in_(wanted))
    ).all()
    return {choice.school_id: (choice, submission) for choice, submission in found}


def _check_open(window: BuybackWindow, at: datetime | None = None) -> None:
    state = window.state(at or clock.now())
    if state != "open":
        raise WindowClosed(state)


def _changed_since(choice: BuybackChoice, seen: Seen, offered: Sequence[Offered]) -> list[str]:
    """The services, of those the person saw, whose saved answers someone has since changed."""
    names = {item.service.id: item.service.name for item in offered}
    stored = {line.service_id: line for line in choice.lines}

    def key(sid: int) -> tuple[bool | None, int | None, int]:
        line = stored.get(sid)
        if line is None:
            return answer_key(None)
        return answer_key(Answer(line.buying, line.option_id, line.quantity))

    return [names[sid] for sid in names if sid in seen and seen[sid] != key(sid)]


def save(
    school: School,
    window: BuybackWindow,
    choice: BuybackChoice | None,
    answers: Answers,
    actor: User,
    offered: Sequence[Offered],
    *,
    shown: Answers | None = None,
    seen: Seen | None = None,
    at: datetime | None = None,
) -> BuybackChoice:
    """Save a category's answers into the school's draft: ``choice`` as this request read it
    (None if the school has none yet).

    The answers are merged into what is saved: someone may work on one category while a
    colleague works on another. What they saw of their own services (``seen``) must still
    be what is saved, or the save is refused with the services someone else changed. The
    first save of a choice also keeps the answers the pages ``shown`` for every other
    service (last year's, to start from).

    A save that makes a submitted choice differ from its submission starts a run of changes
    not yet sent to the council; the first save in the run by someone who does not submit
    (staff) e-mails those who do. ``at``: when (now, but for the demo's story)."""
    _check_open(window, at)
    if choice is None:
        choice = BuybackChoice(school=school, window=window, status=ChoiceStatus.DRAFT)
        db.session.add(choice)
        if shown is not None:
            answers = Answers({**shown.by_service, **answers.by_service}, answers.errors)
    elif seen is None or not seen.keys() >= answers.by_service.keys():
        # A form that does not say what its person saw of every answer it writes (a page
        # always does; a hand-made or cut-short post may not) could overwrite a colleague's
        # save unseen: it is treated as stale, whatever else it sends.
        raise StaleChoice(choice, [], unverified=True)
    elif changed := _changed_since(choice, seen, offered):
        raise StaleChoice(choice, changed)
    stamp = at or clock.now()
    _write_lines(choice, answers, actor, stamp)
    choice.updated_by = actor
    choice.updated_at = stamp
    flag_modified(choice, "updated_at")  # always an UPDATE, so the version moves every save
    unsent = note_unsent_changes(school, window, choice, offered, actor, stamp)
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError) as error:
        db.session.rollback()
        fresh = get_choice(school, window)
        raise StaleChoice(fresh or choice, []) from error
    audit.record(
        "buyback.saved",
        actor=actor,
        subject=choice,
        version=choice.version,
        **({"unsent": [change.service for change in unsent]} if unsent else {}),
    )
    db.session.commit()
    return choice


def _write_lines(choice: BuybackChoice, answers: Answers, actor: User, stamp: datetime) -> None:
    lines = {line.service_id: line for line in choice.lines}
    for sid, answer in answers.by_service.items():
        line = lines.get(sid)
        if line is None:
            line = BuybackLine(service_id=sid)
            choice.lines.append(line)
        before = None if line.id is None else Answer(line.buying, line.option_id, line.quantity)
        if answer_key(before) != answer_key(answer):
            line.changed_at, line.changed_by_id = stamp, actor.id
        line.buying = answer.buying
        line.option_id = answer.option_id if answer.buying else None
        line.quantity = answer.quantity
        line.net_pence = answer.net_pence if answer.buying else None
        line.vat_pence = answer.vat_pence if answer.buying else None


def submitted_as(submission_key: str) -> BuybackSubmission | None:
    """The submission already made with this form's key: a second press of Submit."""
    if not submission_key:
        return None
    return db.session.scalars(
        select(BuybackSubmission).where(BuybackSubmission.submission_key == submission_key)
    ).one_or_none()


def submit(
    school: School,
    window: BuybackWindow,
    choice: BuybackChoice | None,
    answers: Answers,
    offered: Sequence[Offered],
    actor: User,
    purchase_order: str | None,
    submission_key: str,
    *,
    at: datetime | None = None,
) -> BuybackSubmission:
    """Submit the school's choice as ``answers`` say (its draft priced today, or last year's
    answers if it has no draft): freeze the prices, keep the submission as a version, and
    send the confirmation. The caller has checked the choice is still what the person saw;
    a second submission with the same key returns the first. ``at``: when (now, but for
    the demo's story)."""
    _check_open(window, at)
    if choice is None:
        choice = BuybackChoice(school=school, window=window, status=ChoiceStatus.DRAFT)
        db.session.add(choice)
    stamp = at or clock.now()
    _write_lines(choice, answers, actor, stamp)
    names = {i.service.id: i for i in offered}
    frozen = []
    answered = [line for line in choice.lines if line.service_id in names]
    for line in sorted(answered, key=lambda line: names[line.service_id].service.name):
        item = names[line.service_id]
        option = next((o for o in item.options if o.id == line.option_id), None)
        frozen.append(
            {
                "service_id": line.service_id,
                "service": item.service.name,
                "buying": bool(line.buying),
                "option_id": option.id if option else None,
                "option": option.name if option else None,
                "unit": option.unit if option else None,
                "quantity": line.quantity,
                "net_pence": (line.net_pence or 0) if line.buying else 0,
                "vat_pence": (line.vat_pence or 0) if line.buying else 0,
            }
        )
    submission = BuybackSubmission(
        choice=choice,
        # Counted by the INSERT itself, not by loading every earlier submission's lines; two
        # at once would take the same number, which the unique index refuses (below).
        number=select(func.coalesce(func.max(BuybackSubmission.number), 0) + 1)
        .where(BuybackSubmission.choice_id == choice.id)
        .scalar_subquery()
        if choice.id is not None
        else 1,
        submission_key=submission_key,
        submitted_by=actor,
        submitted_at=stamp,
        purchase_order=purchase_order or None,
        lines=frozen,
        net_pence=sum(line["net_pence"] for line in frozen),
        vat_pence=sum(line["vat_pence"] for line in frozen),
    )
    db.session.add(submission)
    choice.status = ChoiceStatus.SUBMITTED
    choice.submitted_at = submission.submitted_at
    choice.purchase_order = purchase_order or None
    choice.updated_by = actor
    # What the council has is what is saved again: no changes wait to be sent.
    choice.unsent_since = choice.unsent_told_at = None
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError) as error:
        # The same form sent twice at once: the other request's submission stands. Else
        # someone saved the choice in the same instant: this person must look again.
        db.session.rollback()
        existing = submitted_as(submission_key)
        if existing is None:
            raise StaleChoice(get_choice(school, window) or choice, []) from error
        return existing
    audit.record(
        "buyback.submitted",
        actor=actor,
        subject=choice,
        number=submission.number,
        net_pence=submission.net_pence,
    )
    email_confirmation(choice, submission)
    db.session.commit()
    return submission


def submission_of(school: School, number: int) -> BuybackSubmission | None:
    """The school's submission numbered ``number`` (its latest, should two of its choices
    have one so numbered), for its confirmation: with who made it and its choice's window, in
    one query, and not the choice's lines, which the submission has as they were sent."""
    return db.session.scalars(
        select(BuybackSubmission)
        .join(BuybackSubmission.choice)
        .options(
            contains_eager(BuybackSubmission.choice).options(
                lazyload(BuybackChoice.lines),
                lazyload(BuybackChoice.school),
                lazyload(BuybackChoice.updated_by),
                joinedload(BuybackChoice.window),
            )
        )
        .where(BuybackChoice.school_id == school.id, BuybackSubmission.number == number)
        .order_by(BuybackSubmission.id.desc())
        .limit(1)
    ).first()
