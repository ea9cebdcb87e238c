"""Training's tests start with no training data: each makes the courses, sessions, bookings
and funds it is about (tests/training/factories.py), so that what seed-demo adds (its
courses, its bookings, Oakfield's approval by the head teacher, its fund) changes no count
a test checks. The demo's training is removed in the test's own transaction, which is
rolled back when the test ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import delete

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
