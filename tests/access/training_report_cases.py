"""The access matrix's cases for training: report routes (see test_access_matrix.py)."""

from __future__ import annotations

from tests.access.cases import Case

REPORT_CASES: list[Case] = []
