"""Extensions created once at module level and attached to each app in ``create_app``.

Flask-Talisman and Flask-Limiter keep their settings on the extension object rather than on
the app, so each app gets its own instance of those (see ``security`` and ``limits``).
"""

from flask_htmx import HTMX
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
htmx = HTMX()
login_manager = LoginManager()
