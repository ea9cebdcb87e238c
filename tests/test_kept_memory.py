"""Password checks in kept memory (portal/kept_memory.py) answer as argon2-cffi's do, and
stop paying for fresh pages after a thread's first check."""

from __future__ import annotations

import resource
import sys
import threading
from collections.abc import Callable

import pytest
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from portal import kept_memory
from portal.auth.routes import SIGN_IN_FAILED
from portal.demo import DEMO_PASSWORD
from tests.conftest import ROLE_ACCOUNTS, sign_in

pytestmark = pytest.mark.skipif(not kept_memory.available, reason="no cffi callbacks here")

passwords = st.text(min_size=0, max_size=80)


@settings(max_examples=60, deadline=None)
@given(
    password=passwords,
    other=passwords,
    kind=st.sampled_from([Type.ID, Type.I, Type.D]),
    memory_kib=st.sampled_from([8, 64, 256]),
    time_cost=st.integers(1, 3),
    parallelism=st.integers(1, 2),
)
def test_a_check_answers_as_argon2_cffi_does(
    password: str, other: str, kind: Type, memory_kib: int, time_cost: int, parallelism: int
) -> None:
    hasher = PasswordHasher(
        time_cost=time_cost,
        memory_cost=max(memory_kib, 8 * parallelism),
        parallelism=parallelism,
        type=kind,
    )
    encoded = hasher.hash(password)

    assert kept_memory.verify(encoded, password) is True
    if other != password:
        with pytest.raises(VerifyMismatchError):
            hasher.verify(encoded, other)
        with pytest.raises(VerifyMismatchError):
            kept_memory.verify(encoded, other)


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "not a hash",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  # bcrypt
        "$argon2id$v=19$m=65536,t=3,p=1$!!!!$aGFzaA",  # a salt that is not base64
    ],
)
def test_what_is_not_an_argon2_hash_is_refused_as_argon2_cffi_refuses_it(encoded: str) -> None:
    with pytest.raises(InvalidHashError):
        kept_memory.verify(encoded, "a password")


def _page_faults_of(check: Callable[[], object]) -> int:
    """Minor page faults while ``check`` runs, in a thread of its own (as the lane is)."""
    faults: list[int] = []

    def run() -> None:
        check()  # the thread's first check
        before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
        check()
        faults.append(resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return faults[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread counts are Linux's")
def test_a_threads_later_checks_touch_no_new_memory() -> None:
    # Production's memory (64 MiB, 16,384 pages), one pass to keep the test quick.
    hasher = PasswordHasher(time_cost=1, memory_cost=65_536, parallelism=1)
    encoded = hasher.hash("a long enough password")

    mapped_afresh = _page_faults_of(lambda: hasher.verify(encoded, "a long enough password"))
    kept = _page_faults_of(lambda: kept_memory.verify(encoded, "a long enough password"))

    assert mapped_afresh > 16_000  # every check faults in its 64 MiB again
    assert kept < 500


def test_the_kept_memory_holds_nothing_after_a_check() -> None:
    encoded = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash("secret words here")
    holder: list[bytes] = []

    def run() -> None:
        kept_memory.verify(encoded, "secret words here")
        holder.append(bytes(kept_memory._kept.buffer))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert len(holder[0]) == 64 * 1024
    assert holder[0].count(0) == len(holder[0])  # libargon2 wiped it before letting go


@pytest.mark.parametrize("keep", [True, False])
def test_sign_in_checks_passwords_either_way(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, keep: bool
) -> None:
    monkeypatch.setitem(client.application.config, "PASSWORD_HASH_KEEP_MEMORY", keep)
    email = ROLE_ACCOUNTS["school_staff"]

    refused = sign_in(client, email, DEMO_PASSWORD + "x")
    assert refused.status_code == 200
    assert SIGN_IN_FAILED in refused.get_data(as_text=True)
    assert sign_in(client, "nobody@oakfield.example").status_code == 200  # the dummy, refused
    assert sign_in(client, email).status_code == 303
