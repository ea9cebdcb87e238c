"""The access matrix's paths (tests/access/test_access_matrix.py) made real: each
``{kind:key}`` in a path, like ``/schools/{school:125601}``, becomes that demo record's id.
The access matrix, the query budget, the weight budget and the security checks ask for the
same pages this way."""

from __future__ import annotations

import re

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal import clock
from portal.models import (
    Area,
    Booking,
    BuybackWindow,
    Contact,
    Course,
    CourseSession,
    FundStatus,
    PaymentBatch,
    School,
    Service,
    ServiceCategory,
    SupplyClaim,
    SupplyFund,
    SupportRequest,
    User,
)


def _training_session(key: str) -> Select[tuple[int]]:
    """``Title|upcoming``: the course's first session still to come; ``Title|past``: its
    latest one held."""
    title, when = key.split("|")
    query = (
        select(CourseSession.id)
        .join(Course, Course.id == CourseSession.course_id)
        .where(Course.title == title)
    )
    if when == "upcoming":
        return query.where(CourseSession.starts_at > clock.now()).order_by(CourseSession.starts_at)
    return query.where(CourseSession.starts_at <= clock.now()).order_by(
        CourseSession.starts_at.desc()
    )


def _booking(key: str) -> Select[tuple[int]]:
    """``125601:confirmed``: a booking of that school in that status, for a session still to
    come; ``125601:confirmed:past`` for one held."""
    urn, status, *past = key.split(":")
    started = CourseSession.starts_at <= clock.now()
    return (
        select(Booking.id)
        .join(School, School.id == Booking.school_id)
        .join(CourseSession, CourseSession.id == Booking.session_id)
        .where(School.urn == int(urn), Booking.status == status)
        .where(started if past else ~started)
        .order_by(Booking.id)
    )


def _place(key: str) -> Select[tuple[int]]:
    """``email|Title|upcoming`` (or ``|past``): the place booked for that attendee on the
    course's first session still to come (or latest one held), whatever its status."""
    email, title, when = key.split("|")
    started = CourseSession.starts_at <= clock.now()
    query = (
        select(Booking.id)
        .join(CourseSession, CourseSession.id == Booking.session_id)
        .join(Course, Course.id == CourseSession.course_id)
        .where(Booking.attendee_email == email, Course.title == title)
    )
    if when == "upcoming":
        return query.where(~started).order_by(CourseSession.starts_at)
    return query.where(started).order_by(CourseSession.starts_at.desc())


def _claim(key: str) -> Select[tuple[int]]:
    """``125601:submitted``: a claim of that school in that status."""
    urn, status = key.split(":")
    return (
        select(SupplyClaim.id)
        .join(School, School.id == SupplyClaim.school_id)
        .where(School.urn == int(urn), SupplyClaim.status == status)
        .order_by(SupplyClaim.id)
    )


def _draft_fund(session: Session) -> int:
    """A supply-cover fund not yet allocated: the demo has none, so one like the demo's fund
    is made in the test's own transaction (rolled back after it) the first time it is asked
    for, and found again after that."""
    found = session.scalar(
        select(SupplyFund.id).where(SupplyFund.status == FundStatus.DRAFT).order_by(SupplyFund.id)
    )
    if found is not None:
        return found
    demo = session.scalars(select(SupplyFund).order_by(SupplyFund.id).limit(1)).one()
    draft = SupplyFund(
        name=f"Draft {demo.name}",
        total_pence=demo.total_pence,
        covers_from=demo.covers_from,
        covers_to=demo.covers_to,
        claims_close_on=demo.claims_close_on,
        daily_rate_pence=demo.daily_rate_pence,
        half_day_rate_pence=demo.half_day_rate_pence,
        eligibility=demo.eligibility,
        lump_sum_pence=demo.lump_sum_pence,
        roll_year=demo.roll_year,
        status=FundStatus.DRAFT,
        courses=list(demo.courses),
    )
    session.add(draft)
    session.commit()
    return draft.id


def id_of(session: Session, kind: str, key: str) -> int | str:
    if (kind, key) == ("fund", "draft"):
        return _draft_fund(session)
    queries = {
        "school": lambda: select(School.id).where(School.urn == int(key)),
        "area": lambda: select(Area.id).where(Area.code == key),
        "contact": lambda: select(Contact.id).where(Contact.name == key),
        # A demo support request, by its fixed submission key.
        "support": lambda: select(SupportRequest.id).where(SupportRequest.submission_key == key),
        # Services by name: their id, or the public UUID the Open Referral API uses.
        "service": lambda: select(Service.id).where(Service.name == key),
        "public": lambda: select(Service.public_id).where(Service.name == key),
        "category": lambda: select(ServiceCategory.id).where(ServiceCategory.name == key),
        # A buy-back window by year and cohort, like 2027-maintained.
        "user": lambda: select(User.id).where(User.email == key),
        "window": lambda: select(BuybackWindow.id).where(
            BuybackWindow.year == int(key.split("-")[0]),
            BuybackWindow.cohort == key.split("-")[1],
        ),
        # Training: a course by title, a session, booking, place or claim by what it is
        # (above), a supply-cover fund by the start of its name (``draft``: one not yet
        # allocated, above), a payment batch by its reference.
        "course": lambda: select(Course.id).where(Course.title == key),
        "session": lambda: _training_session(key),
        "booking": lambda: _booking(key),
        "place": lambda: _place(key),
        "claim": lambda: _claim(key),
        "fund": lambda: (
            select(SupplyFund.id).where(SupplyFund.name.startswith(key)).order_by(SupplyFund.id)
        ),
        "batch": lambda: select(PaymentBatch.id).where(PaymentBatch.reference == key),
    }
    found = session.scalar(queries[kind]().limit(1))
    assert found is not None, f"no demo {kind} {key}"
    return found


def resolve(session: Session, path: str) -> str:
    """``path`` with each ``{kind:key}`` replaced by that demo record's id."""
    return re.sub(r"\{(\w+):([^}]+)\}", lambda m: str(id_of(session, m.group(1), m.group(2))), path)
