"""The seed package's data files (``portal_seed/data/``), read with importlib.resources so
that they are found however the package is installed."""

from __future__ import annotations

import csv
import json
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

DATA: Traversable = files("portal_seed") / "data"


def read_json(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def read_csv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))
