"""A school's claims for supply cover, and its balance on each fund.

A claim is for one attended place on a course the fund covers, at a session held within the
fund's dates: sessions attended before the fund was set up count, if they fall in its dates
(the fund pays for cover already bought). One claim per place per fund; none after the
fund's last day for claims. The evidence is checked by portal/training/evidence.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import FileStorage

from portal import audit, clock
from portal.access import Principal, supply_school_ids
from portal.clock import long_date, today_in_london
from portal.db import db
from portal.models import (
    Attendance,
    Booking,
    ClaimStatus,
    CourseSession,
    FundAllocation,
    FundStatus,
    School,
    SupplyClaim,
    SupplyFund,
    User,
)
from portal.training import evidence


@dataclass(frozen=True)
class ClaimDetails:
    """What the claim form gives (ids as typed: they are checked here)."""

    fund_id: int | None
    booking_id: int | None
    half_days: int
    cost_pence: int
    agency_reference: str
    submission_key: str


@dataclass(frozen=True)
class Submitted:
    claim: SupplyClaim | None = None
    # Field name to the message beside it; empty when the claim was made.
    errors: dict[str, str] = field(default_factory=dict)


def session_day(session: CourseSession) -> date:
    """The day a session was held, in London."""
    return today_in_london(session.starts_at)


def open_funds(who: Principal) -> list[SupplyFund]:
    """Funds open for claims today in which one of ``who``'s schools has an allocation."""
    ids = supply_school_ids(who) or frozenset()
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(SupplyFund)
            .where(
                SupplyFund.status == FundStatus.ALLOCATED,
                SupplyFund.claims_close_on >= today_in_london(clock.now()),
                SupplyFund.id.in_(
                    select(FundAllocation.fund_id).where(FundAllocation.school_id.in_(ids))
                ),
            )
            .options(joinedload(SupplyFund.courses))
            .order_by(SupplyFund.claims_close_on, SupplyFund.id)
        ).unique()
    )


def claimable_bookings(who: Principal, funds: Iterable[SupplyFund]) -> list[Booking]:
    """Attended places at ``who``'s schools that one of ``funds`` could pay cover for (a
    covered course, a session within the fund's dates, not claimed from it yet), the latest
    session first."""
    funds = list(funds)
    ids = supply_school_ids(who) or frozenset()
    courses = {course.id for fund in funds for course in fund.courses}
    if not ids or not courses:
        return []
    bookings = db.session.scalars(
        select(Booking)
        .join(CourseSession, CourseSession.id == Booking.session_id)
        .where(
            Booking.school_id.in_(ids),
            Booking.attendance == Attendance.ATTENDED,
            CourseSession.course_id.in_(courses),
        )
        .options(
            joinedload(Booking.session).joinedload(CourseSession.course),
            joinedload(Booking.school),
        )
        .order_by(CourseSession.starts_at.desc(), Booking.id)
    ).all()
    claimed = {
        (fund_id, booking_id)
        for fund_id, booking_id in db.session.execute(
            select(SupplyClaim.fund_id, SupplyClaim.booking_id).where(
                SupplyClaim.booking_id.in_([booking.id for booking in bookings])
            )
        )
    }
    return [
        booking
        for booking in bookings
        if any(
            _problem(fund, booking) is None and (fund.id, booking.id) not in claimed
            for fund in funds
        )
    ]


def _problem(fund: SupplyFund, booking: Booking) -> str | None:
    """Why ``fund`` cannot pay cover for ``booking``'s place, or None if it can."""
    if booking.attendance is not Attendance.ATTENDED:
        return "Cover can only be claimed for a session someone attended"
    course = booking.session.course
    if course.id not in {covered.id for covered in fund.courses}:
        return f"{fund.name} does not cover {course.title}"
    day = session_day(booking.session)
    if not fund.covers_from <= day <= fund.covers_to:
        return (
            f"The session on {long_date(day)} is outside the dates {fund.name} covers "
            f"({long_date(fund.covers_from)} to {long_date(fund.covers_to)})"
        )
    return None


def _booking(who: Principal, booking_id: int | None) -> Booking | None:
    ids = supply_school_ids(who) or frozenset()
    if booking_id is None or not ids:
        return None
    return db.session.scalars(
        select(Booking).where(Booking.id == booking_id, Booking.school_id.in_(ids))
    ).one_or_none()


def _allocation(fund: SupplyFund, school_id: int) -> FundAllocation | None:
    return db.session.scalars(
        select(FundAllocation).where(
            FundAllocation.fund_id == fund.id, FundAllocation.school_id == school_id
        )
    ).one_or_none()


def _already_made(key: str) -> SupplyClaim | None:
    return db.session.scalars(
        select(SupplyClaim).where(SupplyClaim.submission_key == key)
    ).one_or_none()


def _check(who: Principal, details: ClaimDetails) -> tuple[dict[str, str], Booking | None]:
    """What is wrong with the claim's fund and place, field by field."""
    errors: dict[str, str] = {}
    funds = {fund.id: fund for fund in open_funds(who)}
    fund = funds.get(details.fund_id or 0)
    if fund is None:
        errors["fund"] = "Choose a fund that is open for claims"
    booking = _booking(who, details.booking_id)
    if booking is None:
        errors["booking"] = "Choose the session the cover was for"
    if fund is None or booking is None:
        return errors, booking
    problem = _problem(fund, booking)
    if problem is None and _allocation(fund, booking.school_id) is None:
        problem = f"{booking.school.name} has no allocation from {fund.name}"
    if problem is None and db.session.scalar(
        select(func.count()).where(
            SupplyClaim.fund_id == fund.id, SupplyClaim.booking_id == booking.id
        )
    ):
        problem = f"Cover for this place has already been claimed from {fund.name}"
    if problem is not None:
        errors["booking"] = problem
    return errors, booking


@dataclass(frozen=True)
class ClaimChoices:
    """What the claim form offers: the funds open for claims to one of ``who``'s schools,
    and the attended places that may be claimed for from them."""

    funds: list[SupplyFund]
    bookings: list[Booking]


def claim_choices(who: Principal) -> ClaimChoices:
    funds = open_funds(who)
    return ClaimChoices(funds, claimable_bookings(who, funds))


def submit_claim(
    who: Principal, details: ClaimDetails, upload: FileStorage | None, actor: User
) -> Submitted:
    """Make the claim, with its evidence kept; or say what is wrong, field by field."""
    done = _already_made(details.submission_key)
    if done is not None and done.claimed_by_id == actor.id:
        # The same form sent again: the claim it made.
        return Submitted(claim=done)
    errors, booking = _check(who, details)
    try:
        checked = evidence.check(upload)
    except evidence.EvidenceRefused as refused:
        errors["evidence"] = str(refused)
    if errors or booking is None:
        return Submitted(errors=errors)
    stored = evidence.store(checked)
    claim = SupplyClaim(
        fund_id=details.fund_id,
        school_id=booking.school_id,
        booking_id=booking.id,
        half_days=details.half_days,
        cost_pence=details.cost_pence,
        agency_reference=details.agency_reference,
        evidence_filename=checked.filename,
        evidence_type=checked.content_type,
        evidence_bytes=len(checked.data),
        evidence_path=stored,
        status=ClaimStatus.SUBMITTED,
        claimed_by_id=actor.id,
        submission_key=details.submission_key,
    )
    db.session.add(claim)
    try:
        db.session.flush()
        audit.record(
            "training.claim_submitted",
            actor=actor,
            subject=claim,
            fund=claim.fund_id,
            school=claim.school_id,
            cost_pence=claim.cost_pence,
        )
        db.session.commit()
    except IntegrityError:
        # The same place claimed at the same moment by someone else, or this form twice.
        db.session.rollback()
        evidence.discard(stored)
        done = _already_made(details.submission_key)
        if done is not None:
            return Submitted(claim=done)
        return Submitted(errors={"booking": "Cover for this place has already been claimed"})
    return Submitted(claim=claim)


# --- the school's balance and claims --------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    """A school's allocation from a fund and where it stands."""

    fund: SupplyFund
    school: School
    allocation: FundAllocation
    waiting_count: int
    waiting_pence: int

    @property
    def open_for_claims(self) -> bool:
        return (
            self.fund.status is FundStatus.ALLOCATED
            and today_in_london(clock.now()) <= self.fund.claims_close_on
        )


def balances(who: Principal) -> list[Balance]:
    """Each allocation to ``who``'s schools from a confirmed fund, with its claims waiting."""
    ids = supply_school_ids(who) or frozenset()
    if not ids:
        return []
    waiting = (
        select(
            SupplyClaim.fund_id,
            SupplyClaim.school_id,
            func.count().label("n"),
            func.sum(SupplyClaim.cost_pence).label("pence"),
        )
        .where(SupplyClaim.status == ClaimStatus.SUBMITTED)
        .group_by(SupplyClaim.fund_id, SupplyClaim.school_id)
        .subquery()
    )
    rows = db.session.execute(
        select(FundAllocation, SupplyFund, School, waiting.c.n, waiting.c.pence)
        .join(SupplyFund, SupplyFund.id == FundAllocation.fund_id)
        .join(School, School.id == FundAllocation.school_id)
        .outerjoin(
            waiting,
            (waiting.c.fund_id == FundAllocation.fund_id)
            & (waiting.c.school_id == FundAllocation.school_id),
        )
        .where(FundAllocation.school_id.in_(ids), SupplyFund.status != FundStatus.DRAFT)
        .order_by(SupplyFund.claims_close_on.desc(), SupplyFund.id, School.name)
    ).all()
    return [
        Balance(fund, school, allocation, int(count or 0), int(pence or 0))
        for allocation, fund, school, count, pence in rows
    ]


def school_claims(who: Principal) -> list[SupplyClaim]:
    """The claims of ``who``'s schools, newest first."""
    ids = supply_school_ids(who) or frozenset()
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(SupplyClaim)
            .where(SupplyClaim.school_id.in_(ids))
            .options(
                joinedload(SupplyClaim.fund),
                joinedload(SupplyClaim.school),
                joinedload(SupplyClaim.booking)
                .joinedload(Booking.session)
                .joinedload(CourseSession.course),
            )
            .order_by(SupplyClaim.created_at.desc(), SupplyClaim.id.desc())
        )
    )
