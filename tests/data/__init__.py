"""Reference files from outside the project that the tests read: see SOURCES.md beside this.

A package so that a test finds them by import (``from tests.data import DATA``) wherever the
test itself lives.
"""

from pathlib import Path

DATA = Path(__file__).resolve().parent
