"""CSV downloads that are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

# Characters that make a spreadsheet treat a cell as a formula (OWASP's CSV injection list).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """Text that people typed, made safe: a leading formula character is escaped with '.

    Only for text: numbers the portal writes itself stay numbers (a deficit's minus sign
    quoted would become text that no spreadsheet can add up).
    """
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def to_csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
