"""Device cookies: a browser that has signed in to an account is known to it afterwards.

After OWASP's "Slow Down Online Guessing Attacks with Device Cookies": a browser that
completes a full sign-in to an account (the password, and the second factor where one is
needed), or opens the account's e-mailed unlock link, is given a long-lived cookie for the
account. portal/auth/lockout.py counts such a browser's failures apart from everyone
else's, so that a stranger's guesses do not lock the owner's own browsers out.

The cookie holds one entry for each account signed in from the browser (the latest
MAX_ACCOUNTS, newest first): a random nonce and the time it was given, signed with the
app's secret key and the account's id (itsdangerous). It holds no personal data: neither the
id nor the address is in it, and without the key no entry can be tied to an account, made
up, or moved from one account to another. Each full sign-in gives the browser a new nonce
for the account. HttpOnly, SameSite=Lax, Secure wherever the session cookie is.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from flask import Response, after_this_request, current_app, request
from itsdangerous import BadSignature, TimestampSigner

from portal.models import User

COOKIE_NAME = "portal_device"
# Browsers shared by a school office sign several people in.
MAX_ACCOUNTS = 5
_ENTRY_SEPARATOR = "~"
# Room for MAX_ACCOUNTS entries and to spare: a longer cookie is not one of ours.
_LONGEST_COOKIE = 1024


@dataclass(frozen=True)
class Device:
    """A browser known to an account, by the hash of its nonce for the account (what the
    database keeps of it)."""

    key: str


def _signer() -> TimestampSigner:
    return TimestampSigner(str(current_app.secret_key), salt="portal.device-cookie")


def _max_age_seconds() -> int:
    return int(current_app.config["DEVICE_COOKIE_DAYS"]) * 24 * 3600


def _entries() -> list[str]:
    raw = request.cookies.get(COOKIE_NAME, "")
    if len(raw) > _LONGEST_COOKIE:
        return []
    return [entry for entry in raw.split(_ENTRY_SEPARATOR) if entry][:MAX_ACCOUNTS]


def _nonce(user: User, entry: str, *, max_age: int | None) -> str | None:
    """The nonce of ``entry`` if it was given to this browser for ``user``'s account (and,
    with ``max_age``, no longer ago than that)."""
    try:
        _signer().unsign(f"{user.id}:{entry}", max_age=max_age)
    except BadSignature:  # a forged or altered entry, another account's, or too old
        return None
    return entry.partition(".")[0]


def known_device(user: User) -> Device | None:
    """This browser, if it holds a current device cookie for ``user``'s account."""
    max_age = _max_age_seconds()
    for entry in _entries():
        nonce = _nonce(user, entry, max_age=max_age)
        if nonce is not None:
            return Device(hashlib.sha256(nonce.encode()).hexdigest())
    return None


def remember_browser(user: User) -> None:
    """Make this browser known to ``user``'s account, with a new nonce, on the response to
    this request. The entries for other accounts stay, behind it."""
    # token_urlsafe's alphabet has no ".", ":" or "~", which separate the cookie's parts.
    signed = _signer().sign(f"{user.id}:{secrets.token_urlsafe(16)}").decode()
    entry = signed.partition(":")[2]  # the nonce, the time and the signature; not the id
    others = [old for old in _entries() if _nonce(user, old, max_age=None) is None]
    value = _ENTRY_SEPARATOR.join([entry, *others][:MAX_ACCOUNTS])
    config = current_app.config

    @after_this_request
    def set_cookie(response: Response) -> Response:
        response.set_cookie(
            COOKIE_NAME,
            value,
            max_age=_max_age_seconds(),
            secure=config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
        return response
