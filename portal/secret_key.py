"""Outside production, the key that signs sessions when SECRET_KEY is not set: random, made
once on this machine, and kept in ``instance/secret_key`` where only its owner can read it.

A key written in the source would let anyone who has read the source sign a session cookie
for any person (a council administrator, second factor and all) on every copy of the portal
started without SECRET_KEY. A key made here is known to this machine alone, and kept so that
sessions outlive a restart of `make run`.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import tempfile
from pathlib import Path

from portal.config import ConfigurationError

log = logging.getLogger(__name__)

FILE_NAME = "secret_key"
# Any bit of these in a file's mode lets someone other than its owner read or change it.
OTHERS = stat.S_IRWXG | stat.S_IRWXO
# secrets.token_urlsafe(48) is 64 characters; anything much shorter was not made here.
SHORTEST = 32


def instance_secret_key(instance_path: str) -> str:
    """The key kept in ``instance_path``, made now if there is none yet.

    Several processes may start at once (gunicorn's workers, `make run`'s worker): each
    makes its key in a file of its own and links it into place, which never replaces a key
    already there, so all of them end with the one key that was linked first.
    """
    path = Path(instance_path) / FILE_NAME
    key = _read(path)
    if key is not None:
        return key
    try:
        _make(path)
    except OSError as error:
        raise ConfigurationError(
            f"No SECRET_KEY is set, and a session key cannot be kept in {path}"
            f" ({error.strerror}): set SECRET_KEY, or let the portal write to {path.parent}"
        ) from error
    key = _read(path)
    if key is None:
        raise ConfigurationError(f"The session key just made in {path} has gone")
    return key


def _read(path: Path) -> str | None:
    """The key in ``path``, None if there is no such file; refused if the file is not the
    owner's alone or holds no key."""
    remedy = (
        "Delete it, and a new key is made at the next start (everyone then signs in again),"
        " or set SECRET_KEY."
    )
    try:
        # Not through a symbolic link: the key is this file, not whatever it points at.
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigurationError(
            f"The session key in {path} cannot be read ({error.strerror}). {remedy}"
        ) from error
    with os.fdopen(descriptor) as file:
        mode = os.fstat(file.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise ConfigurationError(f"{path} is not a file. {remedy}")
        if mode & OTHERS:
            # Whoever could read it could have signed sessions with it: it is no secret now.
            raise ConfigurationError(
                f"The session key in {path} can be read or changed by other users of this"
                f" machine (mode {stat.S_IMODE(mode):o}, not 600): anyone of them could sign"
                f" themselves in as anyone. {remedy}"
            )
        key = file.read().strip()
    if len(key) < SHORTEST:
        raise ConfigurationError(f"{path} holds no usable session key. {remedy}")
    return key


def _make(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file for its owner alone, whatever the umask; fchmod says so again
    # in case an odd umask took the owner's own bits away.
    descriptor, made = tempfile.mkstemp(dir=path.parent, prefix=f".{FILE_NAME}.")
    try:
        os.fchmod(descriptor, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(made, path)
        except FileExistsError:
            return  # another process made one first: theirs is the key
        log.info("No SECRET_KEY set: made a session key for this machine in %s", path)
    finally:
        os.unlink(made)
