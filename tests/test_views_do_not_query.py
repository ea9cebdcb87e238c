"""A view reads its request, calls one function of its capability, and renders or redirects
(issue 19): it never queries the database itself. Checked in the code of the capabilities
done so far; each one's view modules join the list as it is."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parent.parent / "portal"
VIEW_MODULES = [
    "contacts/routes.py",
    "accounts/routes.py",
    "accounts/users_routes.py",
]


def database_use(path: Path) -> list[str]:
    """Where the module at ``path`` reaches the database: the session, SQLAlchemy's
    statements, or ``db`` itself imported."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            names = {alias.name for alias in node.names}
            if node.module.split(".")[0] == "sqlalchemy" or (
                node.module == "portal.db" and "db" in names
            ):
                found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Attribute) and node.attr == "session":
            found.append(f"line {node.lineno}: .session")
    return found


@pytest.mark.parametrize("module", VIEW_MODULES)
def test_the_views_do_not_query(module: str) -> None:
    assert database_use(PORTAL / module) == []


def test_the_check_finds_a_query() -> None:
    """The check itself: a module that queries is caught."""
    assert database_use(PORTAL / "contacts/keeping.py")
