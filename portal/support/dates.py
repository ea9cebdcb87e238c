"""The dates of support requests: today in London, and how many working days a request of
each urgency has for its first response."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from portal.db import utcnow
from portal.models import Urgency

LONDON = ZoneInfo("Europe/London")


def today_in_london(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(LONDON).date()


def response_target_days(urgency: Urgency) -> int:
    return int(current_app.config[f"SUPPORT_TARGET_{urgency.name}_DAYS"])
