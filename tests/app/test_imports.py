"""Imports sit at the top of a module. One inside a function is there for a reason, which a
comment beside or just above it gives (a module loaded only in a worker, a list too large
to load before it is needed): otherwise it hides an import circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.source import MODULES, module_id


def unexplained_imports(source: str) -> list[str]:
    """The imports inside functions of ``source`` with no comment on their line or above
    their block of imports."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if not isinstance(inner, ast.Import | ast.ImportFrom):
                continue
            above = inner.lineno - 2
            while above >= 0 and (
                not lines[above].strip()
                or lines[above].lstrip().startswith(("from ", "import "))
                or lines[above].strip() == ")"
                or lines[above].strip().endswith(",")
            ):
                above -= 1
            said = "#" in lines[inner.lineno - 1] or (
                above >= 0 and lines[above].lstrip().startswith("#")
            )
            if not said:
                found.append(f"line {inner.lineno}: {lines[inner.lineno - 1].strip()}")
    return found


@pytest.mark.parametrize("module", MODULES, ids=module_id)
def test_an_import_inside_a_function_says_why(module: Path) -> None:
    assert unexplained_imports(module.read_text()) == []


def test_the_check_sees_an_unexplained_import() -> None:
    source = (
        "def f():\n    from a import b\n\n\n"
        "def g():\n    # Why.\n    from a import b\n\n    from c import d\n"
    )
    assert unexplained_imports(source) == ["line 2: from a import b"]
