"""A supply-cover fund's formula, for the seeds: a lump sum per school, and what is left of
the total shared by pupils on roll in whole pence that add up to the total exactly.

The seeds write allocations as the fund's own confirmation would. When the portal's
``portal/training/allocation.py`` is there, :func:`fund_shares` should call it instead of
repeating it: it is kept as this one small function so that the change is one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# The exact pupils' share is kept in millionths of a penny (FundAllocation).
MICROPENCE = 1_000_000


@dataclass(frozen=True)
class Share:
    """One school's allocation, with the rounding the fund's page shows."""

    pupils: int
    lump_sum_pence: int
    exact_pupil_share_micropence: int
    pupil_share_pence: int

    @property
    def amount_pence(self) -> int:
        return self.lump_sum_pence + self.pupil_share_pence


def fund_shares(
    total_pence: int, lump_sum_pence: int, pupils: Mapping[int, int]
) -> dict[int, Share]:
    """Each school's share (keyed as ``pupils`` is, by school id), by the largest remainder:
    every school's pupils' share is rounded down to whole pence, and the pence left over go
    one each to the schools whose shares lost most in rounding (ties to the lower key), so
    the shares add up to ``total_pence`` exactly.

    Raises ValueError if the lump sums alone come to more than the total.
    """
    pool = total_pence - lump_sum_pence * len(pupils)
    if pool < 0:
        raise ValueError("the lump sums come to more than the fund's total")
    all_pupils = sum(pupils.values())
    if all_pupils == 0:
        if pool:
            raise ValueError("no pupils to share the rest of the fund by")
        return {key: Share(0, lump_sum_pence, 0, 0) for key in pupils}
    floors = {key: pool * count // all_pupils for key, count in pupils.items()}
    left_over = pool - sum(floors.values())
    by_remainder = sorted(pupils, key=lambda key: (-(pool * pupils[key] % all_pupils), key))
    rounded_up = set(by_remainder[:left_over])
    return {
        key: Share(
            pupils=count,
            lump_sum_pence=lump_sum_pence,
            exact_pupil_share_micropence=pool * count * MICROPENCE // all_pupils,
            pupil_share_pence=floors[key] + (key in rounded_up),
        )
        for key, count in pupils.items()
    }
