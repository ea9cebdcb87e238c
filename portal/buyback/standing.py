"""Where a choice stands with the council: who submits, what was sent, changes not yet sent.

A little over 400 lines: who submits, what was sent and what has changed since are read
by one statement, and the functions that read its rows belong with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Select,
    bindparam,
    case,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import lazyload

from portal.access import Capability, roles_that_may
from portal.buyback.answers import StartingPoint, last_years_lines, lines_query, read_lines
from portal.buyback.offer import (
    ZONED_TIME,
    Found,
    YearOffer,
)
from portal.buyback.offered import Offered, SavedLine, is_per_unit
from portal.buyback.school_windows import ChoiceTerms, SubmissionTerms, WindowRead
from portal.db import db, driver_rows
from portal.models import (
    BuybackChoice,
    BuybackLine,
    BuybackSubmission,
    BuybackSubmissionAnswer,
    BuybackWindow,
    ChoiceStatus,
    Membership,
    School,
    User,
)
from portal.outbox import email_body, queue_email
from portal.pricing import (
    format_pence,
)

# --- who submits, and changes not yet sent to the council ---------------------------------------


def submitters_of(schools: Sequence[School]) -> dict[int, list[User]]:
    """The people who submit each school's choice, and so are told about it: its head
    teachers and, for an academy in a trust, the trust's leads (the roles that access.POLICY
    lets edit a buy-back), with active accounts. School id -> people (none: nobody to tell).
    One query, however many schools."""
    found: dict[int, list[User]] = {school.id: [] for school in schools}
    if not found:
        return found
    trust_ids = {school.trust_id for school in schools if school.trust_id is not None}
    at = Membership.school_id.in_(found.keys())
    if trust_ids:
        at = or_(at, Membership.trust_id.in_(trust_ids))
    by_school: dict[int, list[User]] = {}
    by_trust: dict[int, list[User]] = {}
    for school_id, trust_id, person in db.session.execute(
        select(Membership.school_id, Membership.trust_id, User)
        .join(Membership.user)
        .where(
            Membership.role.in_(roles_that_may(Capability.EDIT_BUYBACK)),
            User.is_active.is_(True),
            at,
        )
        .order_by(User.display_name, User.id)
    ):
        if school_id is not None:
            by_school.setdefault(school_id, []).append(person)
        if trust_id is not None:
            by_trust.setdefault(trust_id, []).append(person)
    for school in schools:
        people = by_school.get(school.id, []) + by_trust.get(school.trust_id or 0, [])
        found[school.id] = list(dict.fromkeys(people))  # someone with two roles, once
    return found


@dataclass(frozen=True)
class Change:
    """A service whose saved answer is not what the council was last sent."""

    service_id: int
    service: str
    category_id: int
    was: str
    now: str
    by: str | None  # who last changed it, when the lines read say
    at: datetime | None


def _answer_text(buying: bool | None, option: str | None, unit: str | None, quantity: int) -> str:
    if buying is None:
        return "Not answered"
    if not buying:
        return "Not buying"
    text = f"Buying: {option}" if option else "Buying"
    return f"{text} x {quantity}" if unit else text


class SentAnswer(NamedTuple):
    """What a submission sent of a service: buying or not, the option and how many, with the
    option's name and unit as they were."""

    buying: bool | None
    option_id: int | None
    quantity: int
    option: str | None
    unit: str | None


def sent_answers(submission: BuybackSubmission | None) -> dict[int, SentAnswer] | None:
    """What ``submission`` sent of each service, from its lines (None: no submission)."""
    if submission is None:
        return None
    return {
        line["service_id"]: SentAnswer(
            line.get("buying"),
            line.get("option_id"),
            int(line.get("quantity") or 1),
            line.get("option"),
            line.get("unit"),
        )
        for line in submission.lines
    }


def unsent_changes(
    lines: Iterable[Any], sent: Mapping[int, SentAnswer] | None, offered: Sequence[Offered]
) -> list[Change]:
    """The services offered whose saved answer (``lines``: the choice's lines, as objects or
    as rows) is not what was sent (``sent``, by service: sent_answers; None: nothing has
    been), in the offer's order. How many counts only where it is bought by the unit."""
    if sent is None:
        return []
    saved = {line.service_id: line for line in lines}
    changes = []
    for item in offered:
        line, old = saved.get(item.service.id), sent.get(item.service.id)
        buying, option_id, quantity = (
            (None, None, 1) if line is None else (line.buying, line.option_id, line.quantity)
        )
        option = next((o for o in item.options if buying and o.id == option_id), None)
        was_buying = None if old is None else old.buying
        was_option = old.option_id if old and was_buying else None
        was_quantity = old.quantity if old else 1
        by_the_unit = option is not None and is_per_unit(option)
        same = (buying, option.id if option else None) == (was_buying, was_option) and (
            not by_the_unit or quantity == was_quantity
        )
        if same:
            continue
        changes.append(
            Change(
                item.service.id,
                item.service.name,
                item.category.id,
                was=_answer_text(
                    was_buying,
                    old.option if old else None,
                    old.unit if old else None,
                    was_quantity,
                ),
                now=_answer_text(
                    buying, option.name if option else None, option and option.unit, quantity
                ),
                by=getattr(line, "changed_by_name", None),
                at=getattr(line, "changed_at", None),
            )
        )
    return changes


@dataclass
class Standing:
    """Where a school's choice stands against what the council has: what was last submitted
    (and how many times it has been), and the saved changes not yet sent (since when)."""

    latest: BuybackSubmission | None
    times: int
    changes: list[Change]
    since: datetime | None

    @property
    def submitted_pence(self) -> int | None:
        latest = self.latest
        return None if latest is None else latest.net_pence + latest.vat_pence

    def changed_in(self, category_id: int) -> list[Change]:
        return [change for change in self.changes if change.category_id == category_id]


def standing(
    choice: BuybackChoice | None, offered: Sequence[Offered], lines: Sequence[Any] | None = None
) -> Standing:
    """Where the choice stands. ``lines``: its rows from :func:`read_lines`, if already read."""
    if choice is None or not choice.submissions:
        return Standing(None, 0, [], None)
    latest = choice.submissions[-1]
    changes = unsent_changes(
        lines if lines is not None else read_lines(choice), sent_answers(latest), offered
    )
    return standing_of(choice, latest, len(choice.submissions), changes)


def standing_of(
    choice: BuybackChoice | ChoiceTerms,
    latest: BuybackSubmission | SubmissionTerms,
    times: int,
    changes: list[Change],
) -> Standing:
    since = choice.unsent_since if changes else None
    if changes and since is None:  # saved before the portal kept it: the earliest change
        since = min((c.at for c in changes if c.at is not None), default=None)
    return Standing(latest, times, changes, since)


# The positions of answers_query's columns: SavedLine's first fields; then, as sent,
# SentAnswer's, who changed the answer and when, where it is not as sent, and whether it is.
_LINE, _SENT, _CHANGED_AT, _CHANGED_BY, _NOT_AS_SENT = 0, 4, 9, 10, 11


def may_be_unsent(
    offered: YearOffer, answered: Sequence[Sequence[Any]]
) -> list[tuple[Found, Sequence[Any]]]:
    """Of the services the school may buy (``offered``), in their order, each whose saved
    answer (a row of answers_query) may not be what the latest submission sent, with the
    row: every one unsent_changes would find, and perhaps a few it will find the same. The
    rest answer as sent, as the statement found (the same buying, and if buying, the same
    option and number), with an option still offered."""
    may_be = []
    for row in answered:
        service_id = row[_LINE]
        found = offered.by_service.get(service_id)
        if found is None:  # no longer offered to the school: not part of its choice
            continue
        buying, option_id = row[_LINE + 1], row[_LINE + 2]
        if row[_NOT_AS_SENT] or (buying and option_id not in offered.options[service_id]):
            may_be.append((found[1], row))
    may_be.sort(key=lambda one: offered.position[one[1][_LINE]])
    return may_be


def changes_of(
    choice_id: int,
    may_be: Sequence[tuple[Found, Sequence[Any]]],
    item_of: Callable[[Found], Offered],
) -> list[Change]:
    """The changes not yet sent among the services ``may_be`` (may_be_unsent), with who
    made each and when, as read with them. An answer as sent whose option is no longer
    offered was read without them (the statement compares ids, not what is offered): for
    those, rare, one query more."""
    lines = [SavedLine(*row[_LINE:_SENT], row[_CHANGED_AT], row[_CHANGED_BY]) for _, row in may_be]
    sent = {
        row[_LINE]: SentAnswer(*row[_SENT:_CHANGED_AT])
        for _, row in may_be
        if row[_SENT] is not None
    }
    changes = unsent_changes(lines, sent, [item_of(found) for found, _ in may_be])
    not_read = {row[_LINE] for _, row in may_be if not row[_NOT_AS_SENT]} & {
        change.service_id for change in changes
    }
    if not not_read:
        return changes
    who = {
        line.service_id: line
        for line in db.session.execute(
            lines_query.where(
                BuybackLine.choice_id == choice_id, BuybackLine.service_id.in_(sorted(not_read))
            )
        )
    }
    return [
        replace(change, by=line.changed_by_name, at=line.changed_at)
        if (line := who.get(change.service_id)) is not None
        else change
        for change in changes
    ]


def note_unsent_changes(
    school: School,
    window: BuybackWindow,
    choice: BuybackChoice,
    offered: Sequence[Offered],
    actor: User,
    stamp: datetime,
) -> list[Change]:
    """After a save of a submitted choice: start or end its run of changes not yet sent, and
    when staff start one, e-mail the people who submit (once a run). The changes."""
    if choice.status is not ChoiceStatus.SUBMITTED:
        return []
    # Read without writing the save first: the caller's flush is where a colleague's save
    # in the same instant is found (StaleChoice).
    with db.session.no_autoflush:
        latest = db.session.scalars(
            select(BuybackSubmission)
            .options(lazyload(BuybackSubmission.submitted_by))
            .where(BuybackSubmission.choice_id == choice.id)
            .order_by(BuybackSubmission.number.desc())
            .limit(1)
        ).one_or_none()
        changes = unsent_changes(choice.lines, sent_answers(latest), offered)
        if not changes or latest is None:
            choice.unsent_since = choice.unsent_told_at = None
            return changes
        if choice.unsent_since is None:
            choice.unsent_since = stamp
        if choice.unsent_told_at is None:
            people = submitters_of([school])[school.id]
            if people and actor.id not in {person.id for person in people}:
                for person in people:
                    _email_unsent(person, actor, school, window, latest, changes)
                choice.unsent_told_at = stamp
    return changes


def _email_unsent(
    person: User,
    actor: User,
    school: School,
    window: BuybackWindow,
    latest: BuybackSubmission,
    changes: Sequence[Change],
) -> None:
    queue_email(
        person.email,
        f"Buy-back changes not yet sent: {school.name}, {window.year_label}",
        email_body(
            "email/buyback/changes-not-sent.txt",
            person=person,
            actor=actor,
            school=school,
            window=window,
            latest=latest,
            changes=changes,
            format_pence=format_pence,
        ),
    )


def saved_answers(school: School, current: WindowRead, *, sent: bool) -> list[Sequence[Any]]:
    """The school's saved answers in its current window (none before it has a choice), as
    rows of answers_query (``sent``: with what its latest submission sent)."""
    if current.choice is None:
        return []
    return driver_rows(answers_query(sent), {"window": current.window.id, "school": school.id})


def starting_point_of(
    school: School,
    current: WindowRead,
    answered: Sequence[Sequence[Any]],
    read: Sequence[WindowRead],
) -> StartingPoint:
    """Where the school's choice stands: its saved answers (``answered``, from saved_answers),
    or what it sent last year if it has saved none (``read``: its windows)."""
    if answered:
        return StartingPoint([SavedLine(*row[_LINE:_SENT]) for row in answered])
    return StartingPoint(None, last_years_lines(school, current.window, read))


@cache
def answers_query(sent: bool = True) -> Select[Any]:
    """The school's saved answers in the window; ``sent``: each with what its choice's
    latest submission sent of the service (every answer sent was saved first: submitting
    writes the lines it sends). Who changed an answer and when is read only where it is not
    as sent (another yes or no, or bought with another option or number): most are, and a
    time and a name on each was a fifth of the statement. An answer as sent whose option
    the school can no longer buy is a change too: the rare case changes_of reads who and
    when for."""
    line = BuybackLine
    choice = (
        select(BuybackChoice.id)
        .where(
            BuybackChoice.school_id == bindparam("school"),
            BuybackChoice.window_id == bindparam("window"),
        )
        .scalar_subquery()
    )
    saved = [line.service_id, line.buying, line.option_id, line.quantity]
    if not sent:
        return select(*saved).where(line.choice_id == choice)
    latest = (
        select(BuybackSubmission.id)
        .where(BuybackSubmission.choice_id == choice)
        .order_by(BuybackSubmission.number.desc())
        .limit(1)
        .scalar_subquery()
    )
    answer = BuybackSubmissionAnswer
    not_as_sent = ~(
        line.buying.is_not_distinct_from(answer.buying)
        & (
            line.buying.is_not(True)
            | (
                line.option_id.is_not_distinct_from(answer.option_id)
                & (line.quantity == answer.quantity)
            )
        )
    )
    return (
        select(
            *saved,
            answer.buying,
            answer.option_id,
            answer.quantity,
            answer.option_name,
            answer.unit,
            type_coerce(case((not_as_sent, line.changed_at)), ZONED_TIME),
            case(
                (
                    not_as_sent,
                    select(User.display_name)
                    .where(User.id == line.changed_by_id)
                    .scalar_subquery(),
                )
            ),
            not_as_sent,
        )
        .select_from(line)
        .outerjoin(
            answer, (answer.submission_id == latest) & (answer.service_id == line.service_id)
        )
        .where(line.choice_id == choice)
    )
