"""A view reads its form, calls one function of its capability and renders or redirects: no
``routes.py`` reaches the database itself (``db.session``, or a statement of its own)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parents[2] / "portal"
# Capabilities whose views still query, until their workflows move out of them (issue 19).
NOT_YET: set[str] = set()
# Each capability's views: its routes.py, and any other *routes.py it splits them into.
ROUTES = sorted(path for path in PORTAL.glob("*/*routes.py") if path.parent.name not in NOT_YET)


def reaches_the_database(source: str) -> list[str]:
    """What in ``source`` reaches the database: imports of the session or of SQLAlchemy, and
    uses of ``db``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            names = {alias.name for alias in node.names}
            if node.module.split(".")[0] == "sqlalchemy" or (
                node.module == "portal.db" and "db" in names
            ):
                found.append(f"line {node.lineno}: from {node.module} import {', '.join(names)}")
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "session"
            and isinstance(node.value, ast.Name)
            and node.value.id == "db"
        ):
            found.append(f"line {node.lineno}: db.session")
    return found


@pytest.mark.parametrize("routes", ROUTES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_views_do_not_query(routes: Path) -> None:
    assert reaches_the_database(routes.read_text()) == []


def test_the_check_sees_a_query() -> None:
    source = "from sqlalchemy import select\nfrom portal.db import db\nx = db.session.get(1)\n"
    assert len(reaches_the_database(source)) == 3
