"""Training: the views of attendee_routes (see the package's docstring)."""

from __future__ import annotations

from portal.training import bp  # noqa: F401
