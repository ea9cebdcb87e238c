"""A large council's worth of invented data, on top of the demo: ``seed-scale --factor N``.

Factor 1 is a council as large as England's largest (around 600 schools): about 600 schools,
6,000 users, 150 contacts, 25 services and 5,000 support requests, with three financial years
of offers, school rolls and buy-back choices. Everything scales linearly with the factor;
factor 10 is what the benchmark loads (issue #8).

- The schools are fictional recombinations of the DfE register (``portal_seed/data/``): the
  first words of one real school's name joined to the ending, type and phase of another,
  under invented URNs from 700000 up. The register has not got past 160000, so they clash
  with no real school and with none of the demo's.
- Every person is invented and every address is on a reserved ``.example`` domain. Every
  account shares the demo password through ONE hash, computed once: hashing each of 60,000
  passwords at argon2's cost would take the best part of an hour.
- Deterministic: one seeded ``random.Random`` makes every choice, and times are counted from
  the start of the day it runs, so the same database on the same day gets the same data.
- It refuses to run twice rather than being idempotent: rows go in by the thousand with ids
  worked out in advance and are never matched against what is there, so a second run could
  only put a second council on top of the first. To change the factor, start from an empty
  database.
- Fast: bulk inserts (COPY on PostgreSQL, executemany batches elsewhere) in one
  transaction, so that a failure leaves nothing behind, then ANALYZE on PostgreSQL so that
  the planner knows the tables' new sizes. Factor 10 takes about 100 s.

A module for each kind of data, each with the stage that writes it (``add_...``), in the
order ``run.generate`` calls them: ``schools`` (and trusts and rolls), ``people`` (users and
memberships), ``contacts``, ``offers`` (services, offers and prices), ``buyback``,
``support`` and ``training`` (courses and sessions; ``training_bookings``, and the
supply-cover fund in ``training_fund``). ``plan`` says how much a factor asks for and what
is to be made; ``bulk`` writes the rows and carries what one run knows from stage to stage.
What other code imports is re-exported here.
"""

from __future__ import annotations

from portal_seed.scale.offers import SERVICE_IDEAS, plan_services, price_rules
from portal_seed.scale.plan import (
    FIRST_URN,
    MAX_FACTOR,
    MIN_FACTOR,
    REGISTER,
    Plan,
    Refused,
    describe,
    plan_for,
)
from portal_seed.scale.run import generate
from portal_seed.scale.schools import plan_schools

__all__ = [
    "FIRST_URN",
    "MAX_FACTOR",
    "MIN_FACTOR",
    "REGISTER",
    "SERVICE_IDEAS",
    "Plan",
    "Refused",
    "describe",
    "generate",
    "plan_for",
    "plan_schools",
    "plan_services",
    "price_rules",
]
