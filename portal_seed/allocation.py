"""A supply-cover fund's formula, for the seeds: the portal's own (portal/training/
allocation.py), given the pupils each school has as the seeds know them."""

from __future__ import annotations

from collections.abc import Mapping

from portal.training.allocation import Roll, Share, allocate


def fund_shares(
    total_pence: int, lump_sum_pence: int, pupils: Mapping[int, int]
) -> dict[int, Share]:
    """Each school's share, keyed as ``pupils`` is (by school id): a lump sum each, the rest
    by pupils, in whole pence that add up to ``total_pence`` exactly (ties in the rounding to
    the lower id). Raises AllocationRefused when the formula cannot be met."""
    rolls = [Roll(school_id=key, urn=key, name="", pupils=count) for key, count in pupils.items()]
    return {share.school_id: share for share in allocate(total_pence, lump_sum_pence, rolls).shares}
