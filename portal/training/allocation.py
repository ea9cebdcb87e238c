"""A supply-cover fund shared among schools by its formula, in whole pence that add up to
the fund exactly.

Each eligible open school gets the fund's lump sum; what is left of the total is shared by
pupils on roll (for the fund's roll year, portal/schools/rolls.py). A share by pupils is
rarely a whole number of pence, so each school first gets its share rounded down, and the
pennies those roundings leave over go one each to the schools whose shares lost the most
(the largest remainders), the lower URN first where two lost the same. Every school is then
less than a penny from its exact share, and the shares add up to the total.

The council sees the allocation per school before it confirms it; once confirmed the rows
are written and never move.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.exc import StaleDataError

from portal import audit
from portal.clock import utcnow
from portal.db import db
from portal.models import (
    FundAllocation,
    FundEligibility,
    FundStatus,
    School,
    SchoolStatus,
    SupplyFund,
    User,
)
from portal.pricing import format_pence
from portal.schools.rolls import roll_column

# The exact shares are kept in millionths of a penny.
MICRO = 1_000_000


class AllocationRefused(Exception):
    """The formula cannot be met; the message says why, for the administrator."""


@dataclass(frozen=True)
class Roll:
    """An eligible school and its pupils on roll for the fund's year."""

    school_id: int
    urn: int
    name: str
    pupils: int


@dataclass(frozen=True)
class Share:
    """One school's allocation, and how its share by pupils was rounded."""

    school_id: int
    urn: int
    name: str
    pupils: int
    lump_sum_pence: int
    # The share by pupils before rounding, in millionths of a penny (rounded half-up to the
    # nearest millionth), and the whole pence given.
    exact_pupil_share_micropence: int
    pupil_share_pence: int
    # Whether the school was given one of the pennies the rounding down left over.
    rounded_up: bool

    @property
    def amount_pence(self) -> int:
        return self.lump_sum_pence + self.pupil_share_pence

    @property
    def rounding_micropence(self) -> int:
        """Given minus exact: positive when rounded up, negative when rounded down."""
        return self.pupil_share_pence * MICRO - self.exact_pupil_share_micropence


@dataclass(frozen=True)
class Allocation:
    """The whole fund's allocation, as shown before it is confirmed."""

    total_pence: int
    lump_sum_pence: int
    shares: tuple[Share, ...]

    @property
    def pupils(self) -> int:
        return sum(share.pupils for share in self.shares)

    @property
    def lump_sums_pence(self) -> int:
        return self.lump_sum_pence * len(self.shares)

    @property
    def by_pupils_pence(self) -> int:
        """What is left of the total after the lump sums, shared by pupils."""
        return self.total_pence - self.lump_sums_pence

    @property
    def exact_shares_micropence(self) -> int:
        return sum(share.exact_pupil_share_micropence for share in self.shares)

    @property
    def allocated_pence(self) -> int:
        return sum(share.amount_pence for share in self.shares)

    @property
    def pennies_rounded_up(self) -> int:
        return sum(1 for share in self.shares if share.rounded_up)

    @property
    def fingerprint(self) -> str:
        """What the administrator saw: confirming checks the allocation is still this one."""
        text = ";".join(f"{s.school_id}:{s.pupils}:{s.amount_pence}" for s in self.shares)
        return hashlib.sha256(f"{self.total_pence}|{text}".encode()).hexdigest()[:32]


def allocate(total_pence: int, lump_sum_pence: int, rolls: Sequence[Roll]) -> Allocation:
    """Share ``total_pence``: ``lump_sum_pence`` to each school, the rest by pupils.

    Raises AllocationRefused when the formula cannot be met.
    """
    if not rolls:
        raise AllocationRefused(
            "No open school is eligible for this fund, so nothing can be shared"
        )
    if lump_sum_pence * len(rolls) > total_pence:
        raise AllocationRefused(
            f"The lump sums come to {format_pence(lump_sum_pence * len(rolls))} "
            f"({len(rolls)} schools at {format_pence(lump_sum_pence)}), more than the fund's "
            f"{format_pence(total_pence)}. Lower the lump sum or raise the total"
        )
    left = total_pence - lump_sum_pence * len(rolls)
    pupils = sum(roll.pupils for roll in rolls)
    if left and not pupils:
        raise AllocationRefused(
            f"No eligible school has pupils on roll for the year, so the "
            f"{format_pence(left)} left after the lump sums cannot be shared by pupils"
        )
    # Whole pence rounded down, and what each lost, as a fraction of ``pupils``.
    floors = {roll.school_id: left * roll.pupils // pupils if pupils else 0 for roll in rolls}
    lost = {roll.school_id: left * roll.pupils % pupils if pupils else 0 for roll in rolls}
    over = left - sum(floors.values())
    # The largest remainders first; the lower URN breaks a tie, so the answer never depends
    # on the order the schools were read in.
    by_loss = sorted(rolls, key=lambda roll: (-lost[roll.school_id], roll.urn))
    rounded_up = {roll.school_id for roll in by_loss[:over]}
    shares = tuple(
        Share(
            school_id=roll.school_id,
            urn=roll.urn,
            name=roll.name,
            pupils=roll.pupils,
            lump_sum_pence=lump_sum_pence,
            exact_pupil_share_micropence=_exact(left, roll.pupils, pupils),
            pupil_share_pence=floors[roll.school_id] + (roll.school_id in rounded_up),
            rounded_up=roll.school_id in rounded_up,
        )
        for roll in sorted(rolls, key=lambda roll: (roll.name, roll.urn))
    )
    return Allocation(total_pence=total_pence, lump_sum_pence=lump_sum_pence, shares=shares)


def _exact(left: int, school_pupils: int, pupils: int) -> int:
    """``left * school_pupils / pupils`` pence in millionths of a penny, half-up."""
    if not pupils:
        return 0
    return (2 * left * school_pupils * MICRO + pupils) // (2 * pupils)


def eligible_rolls(fund: SupplyFund) -> list[Roll]:
    """The open schools the fund is for, with their pupils on roll for its year (the figure
    recorded for the year, else the school's current one), in one query."""
    recorded = roll_column(School.id, fund.roll_year).label("recorded")
    rows = db.session.execute(
        select(School, recorded).where(School.status == SchoolStatus.OPEN).order_by(School.urn)
    ).all()
    return [
        Roll(
            school_id=school.id,
            urn=school.urn,
            name=school.name,
            pupils=school.pupils_on_roll if pupils is None else int(pupils),
        )
        for school, pupils in rows
        if fund.eligibility is FundEligibility.ALL_SCHOOLS or not school.is_academy
    ]


def preview(fund: SupplyFund) -> Allocation:
    """The allocation the fund's formula gives today (raises AllocationRefused)."""
    return allocate(fund.total_pence, fund.lump_sum_pence, eligible_rolls(fund))


def confirmed(fund: SupplyFund) -> Allocation:
    """A confirmed fund's allocation, as it was written: one statement, each row's school
    read with it (not one statement a school)."""
    rows = db.session.scalars(
        select(FundAllocation)
        .join(FundAllocation.school)
        .options(contains_eager(FundAllocation.school))
        .where(FundAllocation.fund_id == fund.id)
        .order_by(School.name, School.urn)
    ).all()
    # Rounded up: given more than the exact share (the rows keep both).
    shares = tuple(
        Share(
            school_id=row.school_id,
            urn=row.school.urn,
            name=row.school.name,
            pupils=row.pupils,
            lump_sum_pence=row.lump_sum_pence,
            exact_pupil_share_micropence=row.exact_pupil_share_micropence,
            pupil_share_pence=row.pupil_share_pence,
            rounded_up=row.pupil_share_pence * MICRO > row.exact_pupil_share_micropence,
        )
        for row in rows
    )
    return Allocation(
        total_pence=fund.total_pence, lump_sum_pence=fund.lump_sum_pence, shares=shares
    )


class Confirming(enum.Enum):
    CONFIRMED = "confirmed"
    # The formula now gives something other than what the administrator was shown (a roll
    # or a school changed meanwhile): they are shown the new one to confirm.
    CHANGED = "changed"
    # Confirmed already (by someone else, or the same form sent twice).
    ALREADY = "already"


def confirm(fund: SupplyFund, fingerprint: str, actor: User) -> Confirming:
    """Write the allocation the administrator was shown, and open the fund for claims.

    Raises AllocationRefused when the formula cannot be met.
    """
    if fund.status is not FundStatus.DRAFT:
        return Confirming.ALREADY
    allocation = preview(fund)
    if allocation.fingerprint != fingerprint:
        return Confirming.CHANGED
    for share in allocation.shares:
        db.session.add(
            FundAllocation(
                fund_id=fund.id,
                school_id=share.school_id,
                pupils=share.pupils,
                lump_sum_pence=share.lump_sum_pence,
                exact_pupil_share_micropence=share.exact_pupil_share_micropence,
                pupil_share_pence=share.pupil_share_pence,
                amount_pence=share.amount_pence,
            )
        )
    fund.status = FundStatus.ALLOCATED
    fund.allocated_at = utcnow()
    audit.record(
        "training.fund_allocated",
        actor=actor,
        subject=fund,
        schools=len(allocation.shares),
        total_pence=allocation.allocated_pence,
    )
    try:
        db.session.commit()
    except (StaleDataError, IntegrityError):
        # Another administrator changed or confirmed the fund at the same moment.
        db.session.rollback()
        return Confirming.ALREADY
    return Confirming.CONFIRMED


def exact_pounds(micropence: int) -> str:
    """An exact share to a hundredth of a penny, like ``£1,234.5678``."""
    hundredths = (micropence + 5_000) // 10_000
    pounds, rest = divmod(hundredths, 10_000)
    return f"£{pounds:,}.{rest:04d}"


def rounding_text(share: Share) -> str:
    """How the share by pupils was rounded, as the page says it."""
    hundredths = (abs(share.rounding_micropence) + 5_000) // 10_000
    pence = f"{hundredths // 100}.{hundredths % 100:02d}p"
    if share.rounding_micropence == 0:
        return "Exact"
    if share.rounded_up:
        return f"Rounded up by {pence} (given 1p of the remainder)"
    return f"Rounded down by {pence}"
