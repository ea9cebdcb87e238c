"""The session cookie: Flask's signed cookie, signed again at most once a minute.

The cookie carries the time it was signed, and one signed longer ago than the idle limit
(PERMANENT_SESSION_LIFETIME, from SESSION_IDLE_MINUTES) is not accepted: whoever keeps using
the portal has theirs signed again as they go (SESSION_REFRESH_EACH_REQUEST). Flask signs
and sends it again on every response; here a cookie signed less than a minute ago is sent
again only if the session has changed. Signing it again would move the idle limit by less
than a minute, for work on every page drawn for a signed-in person (the session
serialised, signed, and sent in a Set-Cookie header). The idle limit counts from the last
signing: a session can end up to a minute before SESSION_IDLE_MINUTES without use, never
after.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature

# The portal's clock, under a name of this module's own, so that a test can move it here.
from portal.clock import utcnow as now

# How old a cookie may be before a request that changes nothing signs it again.
SIGN_AGAIN_AFTER = timedelta(minutes=1)


class SignedSession(SecureCookieSession):
    # When the cookie it came from was signed (None: it came from no cookie).
    signed_at: datetime | None = None


class SessionCookie(SecureCookieSessionInterface):
    session_class = SignedSession

    def open_session(self, app: Flask, request: Request) -> SignedSession | None:
        # Flask's own, keeping the time the cookie was signed.
        signer = self.get_signing_serializer(app)
        if signer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = signer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at
        return session

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if not super().should_set_cookie(app, session):
            return False
        signed_at = getattr(session, "signed_at", None)
        return session.modified or signed_at is None or now() - signed_at >= SIGN_AGAIN_AFTER
