"""The access matrix's cases for training: attendee routes (see test_access_matrix.py)."""

from __future__ import annotations

from tests.access.cases import Case

ATTENDEE_CASES: list[Case] = []
