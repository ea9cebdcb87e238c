"""The access matrix's cases for training: booking routes (see test_access_matrix.py)."""

from __future__ import annotations

from tests.access.cases import Case

BOOKING_CASES: list[Case] = []
