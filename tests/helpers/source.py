"""The portal's own Python source, for the tests that read it as text (its imports, its
modules' sizes): every module of portal/ and portal_seed/ but the migrations."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(
    path
    for package in ("portal", "portal_seed")
    for path in (ROOT / package).rglob("*.py")
    if "migrations" not in path.parts
)


def module_id(path: Path) -> str:
    return str(path.relative_to(ROOT))
