"""The access matrix's cases for training: manage routes (see test_access_matrix.py)."""

from __future__ import annotations

from tests.access.cases import Case

MANAGE_CASES: list[Case] = []
