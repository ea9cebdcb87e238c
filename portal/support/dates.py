"""How many working days a request of each urgency has for its first response."""

from __future__ import annotations

from flask import current_app

from portal.models import Urgency


def response_target_days(urgency: Urgency) -> int:
    return int(current_app.config[f"SUPPORT_TARGET_{urgency.name}_DAYS"])
