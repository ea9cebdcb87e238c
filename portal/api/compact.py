"""Open Referral wants an optional field with no value left out, never sent as null or "".

Records are built with every field they might have, and passed through ``compact`` once, so
that no builder has to remember which of its fields may be empty.
"""

from __future__ import annotations

from typing import Any


def is_empty(value: Any) -> bool:
    # 0 and False are values (a free service costs 0; a page is not empty): only nothing is.
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, dict | list | tuple):
        return not value
    return False


def compact(value: Any) -> Any:
    """``value`` with every None, blank string, empty list and empty object removed, at
    every depth (an object or list left empty by that is removed too)."""
    if isinstance(value, dict):
        kept = {key: compact(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if not is_empty(item)}
    if isinstance(value, list | tuple):
        return [item for item in map(compact, value) if not is_empty(item)]
    return value
