"""The access matrix's cases for training: fund routes (see test_access_matrix.py)."""

from __future__ import annotations

from tests.access.cases import Case

FUND_CASES: list[Case] = []
