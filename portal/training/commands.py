"""``flask --app portal training ...``: training's daily and frequent tasks.

The group only; each task is a module of its own that attaches to it (offer_commands).
"""

from __future__ import annotations

from flask.cli import AppGroup

training_cli = AppGroup("training", help="Training: offers from waiting lists, reminders.")

# Each attaches its command to training_cli when imported.
from portal.training import offer_commands  # noqa: E402, F401
