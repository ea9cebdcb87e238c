"""One generation from start to finish: the checks, the stages in order, one commit."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from datetime import time as clock

from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.config import PRODUCTION
from portal.db import db
from portal.models import School
from portal_seed.demo import seed as seed_demo
from portal_seed.scale.bulk import Run, move_sequences_on
from portal_seed.scale.buyback import add_buyback
from portal_seed.scale.contacts import add_contacts
from portal_seed.scale.offers import add_services
from portal_seed.scale.people import add_people
from portal_seed.scale.plan import FIRST_URN, SEED, Refused, plan_for
from portal_seed.scale.schools import add_schools
from portal_seed.scale.support import add_support
from portal_seed.scale.training import add_training


def _check_may_run(session: Session) -> None:
    if current_app.config["PORTAL_ENV"] == PRODUCTION:
        raise Refused("seed-scale refuses to run when PORTAL_ENV=production")
    schools = session.scalar(select(func.count(School.id)).where(School.urn >= FIRST_URN))
    if schools:
        raise Refused(
            f"seed-scale has already run on this database ({schools:,} generated schools) and "
            "refuses to run twice: to generate again, or at another factor, start from an "
            "empty database (db upgrade, seed-demo, seed-scale)."
        )


def _quiet(_message: str) -> None:
    return None


def generate(
    factor: float, *, seed: int = SEED, progress: Callable[[str], None] = _quiet
) -> dict[str, int]:
    """Generate a large council on top of the demo; returns how many rows of each were added.

    Raises ``ValueError`` for a factor out of range, and ``Refused`` in production or when
    it has run on this database before.
    """
    plan = plan_for(factor)
    session = db.session
    _check_may_run(session)
    seed_demo()  # on top of the demo, whether or not seed-demo has run
    now = utcnow()
    run = Run(
        session=session,
        # Repeatable invented data, not secrets: a seeded generator is the point.
        rng=random.Random(seed),  # noqa: S311
        plan=plan,
        progress=progress,
        today=datetime.combine(now.date(), clock(), tzinfo=UTC),
    )
    progress(
        f"Generating factor {factor:g}: {plan.schools:,} schools, about {plan.users:,} users, "
        f"{plan.contacts:,} contacts, {plan.services:,} services, "
        f"{plan.support_requests:,} support requests, {plan.course_sessions:,} training "
        f"sessions of {plan.courses:,} courses, about {plan.bookings:,} bookings."
    )
    try:
        add_schools(run)
        add_people(run)
        add_contacts(run)
        add_services(run)
        add_buyback(run)
        add_support(run)
        add_training(run)
        move_sequences_on(run)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    if session.get_bind().dialect.name == "postgresql":
        # The planner's statistics still describe the demo's few dozen rows per table.
        session.execute(text("ANALYZE"))
        session.commit()
        progress(f"  ANALYZE done ({time.perf_counter() - run.started:.1f} s)")
    return dict(run.counts)
