"""What the data must be, whatever writes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from portal.models import AuditEvent, Membership, Role, School, User


def test_an_email_address_is_unique_whatever_its_case(session) -> None:
    session.add(User(email="HEAD@Oakfield.example", display_name="Copy", password_hash="x"))
    with pytest.raises(IntegrityError):
        session.flush()


@pytest.mark.parametrize(
    ("role", "organisation"),
    [
        (Role.HEAD_TEACHER, "trust"),
        (Role.SCHOOL_STAFF, None),
        (Role.TRUST_LEAD, "school"),
        (Role.CAF_OFFICER, None),
        (Role.LA_ADMIN, "school"),
    ],
)
def test_a_membership_belongs_to_the_organisation_its_role_needs(
    session, role: Role, organisation: str | None
) -> None:
    user = session.scalars(select(User).where(User.email == "admin@council.example")).one()
    school = session.scalars(select(School)).first()
    membership = Membership(user=user, role=role)
    if organisation == "school":
        membership.school = school
    elif organisation == "trust":
        membership.trust_id = school.trust_id or 1
    session.add(membership)
    with pytest.raises(IntegrityError):
        session.flush()


def test_a_urn_has_six_digits(session) -> None:
    school = session.scalars(select(School)).first()
    school.urn = 12345
    with pytest.raises(IntegrityError):
        session.flush()


offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets
    )
)
def test_times_are_stored_as_the_same_instant_in_utc(session, moment: datetime) -> None:
    event = AuditEvent(action="test.moment", occurred_at=moment, detail={})
    session.add(event)
    session.flush()
    session.expire(event)
    stored = event.occurred_at
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    # SQLite keeps microseconds; PostgreSQL too. The instant is the same.
    assert stored == moment.astimezone(UTC)


def test_a_time_without_a_zone_is_refused(session) -> None:
    session.add(AuditEvent(action="test.naive", occurred_at=datetime(2027, 3, 2, 9, 0), detail={}))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()
