"""Password hashing with argon2id, and the policy a new password must meet.

The defaults are 3 passes over 64 MiB (RFC 9106's low-memory profile) in one lane, as OWASP's
recommended settings have it, rather than argon2-cffi's four: the memory and passes, and so an
attacker's cost per guess, are the same, but a sign-in then takes one core rather than every
core for a moment, and less CPU in all (0.16 s rather than 0.19 s here), so that pages
served while many people sign in at once do not wait behind it. The cost is a setting so
that a council can raise it, and so that the test suite, which signs in hundreds of times,
can lower it; a hash made at one cost is upgraded at the next sign-in.

Hashes are made and checked by argon2-cffi's PasswordHasher, so that what is stored is a
standard encoded argon2 hash any argon2 library can check. Every hash runs through
portal.hashing, which keeps password work from crowding out pages when many people sign in
at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from portal.hashing import in_lane

_EXTENSION_KEY = "portal.password_hasher"


def _hasher() -> PasswordHasher:
    app = current_app._get_current_object()
    hasher = app.extensions.get(_EXTENSION_KEY)
    if hasher is None:
        hasher = PasswordHasher(
            time_cost=app.config["PASSWORD_HASH_TIME_COST"],
            memory_cost=app.config["PASSWORD_HASH_MEMORY_KIB"],
            parallelism=app.config["PASSWORD_HASH_PARALLELISM"],
        )
        # Verified against when no account matches, so that a wrong address takes as long
        # to refuse as a wrong password and timing does not reveal who has an account.
        app.extensions[_EXTENSION_KEY + ".dummy"] = hasher.hash("no account has this password")
        app.extensions[_EXTENSION_KEY] = hasher
    return hasher


def warm_hasher() -> None:
    """Make this process's hasher, its dummy hash and its lane now (in an app context).

    A new gunicorn worker would otherwise do it at its first sign-in, which then costs two
    password hashes rather than one: on the deadline morning, with every worker fresh, that
    is a burst of extra hashing just when sign-ins are busiest.
    """
    in_lane(lambda: None)
    _hasher()


def hash_password(password: str) -> str:
    hasher = _hasher()
    return in_lane(lambda: hasher.hash(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher = _hasher()
    dummy = current_app.extensions[_EXTENSION_KEY + ".dummy"]

    def check() -> bool:
        try:
            return hasher.verify(password_hash or dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return in_lane(check)


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


# The policy (NCSC and NIST SP 800-63B; ASVS V2.1): long enough, checked against a list of
# common and breached passwords, and nothing else: no rules about capitals, digits or symbols,
# which make passwords harder to remember and no harder to guess.
MIN_LENGTH = 12
MAX_LENGTH = 256
TOO_SHORT = f"Password must be {MIN_LENGTH} characters or more"
TOO_LONG = f"Password must be {MAX_LENGTH} characters or fewer"
COMMON = "Choose a password that is harder to guess: this one is on a list of common passwords"
IS_EMAIL = "Choose a password that is harder to guess: do not use your e-mail address"
IS_NAME = (
    "Choose a password that is harder to guess: do not use the name of this service or the council"
)


@cache
def common_passwords() -> frozenset[str]:
    """The most common passwords (from breaches), lower case, as shipped with zxcvbn.

    Read once, on first use: the list comes with the package, so checking never needs the
    network. zxcvbn's own lists are all lower case.
    """
    # Imported on first use: the lists are megabytes, and most processes never check one.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def _folded(text: str) -> str:
    # Case and spaces make no difference to a guesser trying a name or an address.
    return "".join(text.split()).casefold()


def is_common(password: str) -> bool:
    return password.lower() in common_passwords()


def password_problem(
    password: str, *, email: str | None = None, names: Iterable[str] = ()
) -> str | None:
    """What is wrong with ``password`` as a new password, as a message for the person; None
    if nothing is.

    ``email`` is the account's address (neither it nor its local part may be the password);
    ``names`` are words anyone would try first, such as the service's and the council's names.
    """
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    if is_common(password):
        return COMMON
    folded = _folded(password)
    if email:
        address = _folded(email)
        if folded in {address, address.rpartition("@")[0]}:
            return IS_EMAIL
    if folded in {_folded(name) for name in names if name.strip()}:
        return IS_NAME
    return None


def service_names() -> tuple[str, ...]:
    """The names nobody should choose as a password here: this service's and the council's."""
    return (current_app.config["SERVICE_NAME"], current_app.config["COUNCIL_NAME"])
