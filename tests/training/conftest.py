"""Training's tests start with no training data: each makes the courses, sessions, bookings
and funds it is about (tests/training/factories.py), so that what seed-demo adds (its
courses, its bookings, Oakfield's approval by the head teacher, its fund) changes no count
a test checks. The demo's training is removed in the test's own transaction, which is
rolled back when the test ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import delete, select

from portal.models import (
    Booking,
    Course,
    CourseSession,
    Evaluation,
    FundAllocation,
    PaymentBatch,
    SchoolTrainingSettings,
    SupplyClaim,
    SupplyFund,
    fund_course,
)

# Each before the tables it refers to.
TRAINING_TABLES = (
    SupplyClaim.__table__,
    PaymentBatch.__table__,
    FundAllocation.__table__,
    fund_course,
    SupplyFund.__table__,
    Evaluation.__table__,
    Booking.__table__,
    CourseSession.__table__,
    Course.__table__,
    SchoolTrainingSettings.__table__,
)


@pytest.fixture(autouse=True)
def no_training_yet(request: pytest.FixtureRequest) -> Iterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    session = app.extensions["portal.db"].session_factory()
    for table in TRAINING_TABLES:
        session.execute(delete(table))
    session.commit()
    session.close()
    yield


@pytest.fixture
def committed_without_approval(seeded_app: Flask) -> Iterator[None]:
    """For the tests of writers at once, which commit on connections of their own (outside
    any test's transaction): the demo's schools book without approval meanwhile, and get
    their settings back afterwards."""
    with seeded_app.app_context():
        session = seeded_app.extensions["portal.db"].session_factory()
        kept = [
            (row.school_id, row.approver, row.training_lead_id)
            for row in session.scalars(select(SchoolTrainingSettings))
        ]
        session.execute(delete(SchoolTrainingSettings))
        session.commit()
        try:
            yield
        finally:
            session.add_all(
                SchoolTrainingSettings(
                    school_id=school_id, approver=approver, training_lead_id=lead
                )
                for school_id, approver, lead in kept
            )
            session.commit()
            session.close()
