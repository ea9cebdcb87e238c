"""Password checks in memory each thread keeps, rather than memory mapped afresh each time.

argon2id fills 64 MiB for every check. glibc gives an allocation that large a mapping of its
own and hands it back to the kernel when it is freed, so each check starts on untouched
pages: 16,385 page faults and 25-50 ms of kernel time zeroing them, about a fifth of the
check, on every sign-in. Here libargon2 is given the thread's own buffer instead (its
allocation callbacks, through argon2-cffi's documented low-level ``core``), faulted in once
and used again by every later check in the thread: the same hash, the same result, about
150 → 120 ms a check on the benchmark's machine. The price is that memory, kept for as long
as the thread lives (each gunicorn worker's one password lane: PASSWORD_HASH_MEMORY_KIB each).
libargon2 wipes its memory before it lets go, so the kept buffer holds no secret between
checks.

:func:`verify` answers as argon2-cffi's ``PasswordHasher.verify`` does: True, or
``VerifyMismatchError``; ``InvalidHashError`` for what is not an argon2 hash it can read.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
from typing import Any

from argon2 import extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import core, error_to_str, ffi, lib

_kept = threading.local()


def _allocate(memory: Any, size: int) -> int:
    buffer = getattr(_kept, "buffer", None)
    if buffer is None or len(buffer) != size:
        # A hash of another cost (one made before the cost changed): its size from now on.
        buffer = _kept.buffer = ffi.new("uint8_t[]", size)
    memory[0] = buffer
    return int(lib.ARGON2_OK)


def _free(_memory: Any, _size: int) -> None:
    """Kept for the next check (libargon2 has wiped it)."""


try:
    _ALLOCATE = ffi.callback("int(uint8_t **, size_t)", _allocate)
    _FREE = ffi.callback("void(uint8_t *, size_t)", _free)
except (MemoryError, SystemError):  # a system that forbids writable code pages: not here
    _ALLOCATE = _FREE = None

available = _ALLOCATE is not None


def _decode(text: str) -> bytes:
    # The PHC format's base64 has its padding left off.
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidHashError(str(error)) from error


def verify(encoded: str, password: str) -> bool:
    """Whether ``password`` is the one ``encoded`` (an argon2 PHC string) was made from."""
    parameters = extract_parameters(encoded)  # InvalidHashError if it cannot be read
    salt, expected = (_decode(part) for part in encoded.split("$")[-2:])
    secret = password.encode()
    # Named, not made inside the context below: the context only points at them, and an
    # array nothing holds would be freed while libargon2 still reads it.
    out = ffi.new("uint8_t[]", len(expected))
    pwd = ffi.new("uint8_t[]", secret)
    salt_array = ffi.new("uint8_t[]", salt)
    context = ffi.new(
        "argon2_context *",
        {
            "out": out,
            "outlen": len(expected),
            "pwd": pwd,
            "pwdlen": len(secret),
            "salt": salt_array,
            "saltlen": len(salt),
            "secret": ffi.NULL,
            "secretlen": 0,
            "ad": ffi.NULL,
            "adlen": 0,
            "t_cost": parameters.time_cost,
            "m_cost": parameters.memory_cost,
            "lanes": parameters.parallelism,
            "threads": parameters.parallelism,
            "version": parameters.version,
            "allocate_cbk": _ALLOCATE,
            "free_cbk": _FREE,
            "flags": lib.ARGON2_DEFAULT_FLAGS,
        },
    )
    # argon2-cffi's Type members are libargon2's own numbers for the variants.
    result = core(context, parameters.type.value)
    if result != lib.ARGON2_OK:
        raise VerificationError(error_to_str(result))
    if not hmac.compare_digest(bytes(ffi.buffer(out, len(expected))), expected):
        raise VerifyMismatchError()
    return True
