"""Passwords are hashed and checked as standard argon2 hashes (portal.passwords, through
argon2-cffi's PasswordHasher), and the checks take turns for the machine's cores
(portal.hashing's slots)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from flask import Flask

from portal.hashing import slot
from portal.passwords import hash_password, needs_rehash, verify_password
from tests.conftest import sign_in

PASSWORD = "correct horse battery staple"


def test_a_hash_the_portal_makes_is_checked_by_plain_argon2_cffi(app: Flask) -> None:
    with app.app_context():
        stored = hash_password(PASSWORD)
    # The encoded form, with the parameters from the settings (the suite's cheap ones).
    assert stored.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert PasswordHasher().verify(stored, PASSWORD) is True
    with pytest.raises(VerifyMismatchError):
        PasswordHasher().verify(stored, PASSWORD + "!")


def test_a_hash_plain_argon2_cffi_makes_is_checked_by_the_portal(app: Flask) -> None:
    # argon2-cffi's own defaults (three passes over 64 MiB in four lanes), not the portal's.
    stored = PasswordHasher().hash(PASSWORD)
    with app.app_context():
        assert verify_password(stored, PASSWORD) is True
        assert verify_password(stored, PASSWORD.upper()) is False


@pytest.mark.parametrize(
    "attempt",
    ["", PASSWORD + " ", PASSWORD[:-1], PASSWORD.title(), "no account has this password"],
)
def test_a_wrong_password_is_refused(app: Flask, attempt: str) -> None:
    with app.app_context():
        stored = hash_password(PASSWORD)
        assert verify_password(stored, attempt) is False
        assert verify_password(stored, PASSWORD) is True


def test_with_no_account_every_password_is_refused_even_the_dummys(app: Flask) -> None:
    # An unknown address is checked against a dummy hash, for the time it takes; its
    # password must not sign anyone in.
    with app.app_context():
        assert verify_password(None, "no account has this password") is False
        assert verify_password(None, PASSWORD) is False


@pytest.mark.parametrize("stored", ["", "not a hash", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBk"])
def test_what_is_not_an_argon2_hash_refuses_every_password(app: Flask, stored: str) -> None:
    with app.app_context():
        assert verify_password(stored, PASSWORD) is False


@pytest.mark.parametrize(
    "changed",
    [
        {"PASSWORD_HASH_TIME_COST": 2},
        {"PASSWORD_HASH_MEMORY_KIB": 2048},
        {"PASSWORD_HASH_PARALLELISM": 2},
    ],
)
def test_a_hash_needs_remaking_once_its_parameters_change(
    make_app: Any, changed: dict[str, int]
) -> None:
    with make_app().app_context():
        stored = hash_password(PASSWORD)
        assert needs_rehash(stored) is False
    with make_app(**changed).app_context():
        assert needs_rehash(stored) is True
        remade = hash_password(PASSWORD)
        assert needs_rehash(remade) is False
        # The old hash still signs its owner in until it is remade.
        assert verify_password(stored, PASSWORD) is True


@contextmanager
def held_by_another_process(directory: Path, number: int) -> Iterator[None]:
    """Slot ``number`` taken as another worker would (its own open file, so its own lock)."""
    directory.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(directory / f"slot-{number}", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield
    finally:
        os.close(descriptor)


def test_a_sign_in_waits_for_a_slot_while_every_one_is_taken(make_app: Any, tmp_path: Path) -> None:
    app = make_app(PASSWORD_HASH_SLOTS=1, PASSWORD_HASH_SLOT_DIRECTORY=str(tmp_path))
    outcome: list[int] = []

    def signs_in() -> None:
        outcome.append(sign_in(app.test_client(), "head@oakfield.example").status_code)

    person = threading.Thread(target=signs_in)
    with held_by_another_process(tmp_path, 0):
        person.start()
        person.join(timeout=1.0)
        assert person.is_alive() and outcome == []  # still waiting for the only slot
    person.join(timeout=30)
    assert outcome == [303]  # signed in once the slot was let go


def test_a_check_takes_whichever_slot_is_free(tmp_path: Path) -> None:
    taken = os.getpid() % 3  # the slot this process would try first
    with (
        held_by_another_process(tmp_path, taken),
        slot(str(tmp_path), 3) as first,
        slot(str(tmp_path), 3) as second,
    ):
        assert {first, second} == {0, 1, 2} - {taken}
    # Let go when done: every slot can be had again at once.
    with slot(str(tmp_path), 1) as only:
        assert only == 0


def test_without_a_writable_slot_directory_the_check_runs_anyway(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    with slot(str(not_a_directory), 2) as held:
        assert held is None


def test_with_no_slots_set_a_sign_in_takes_none(make_app: Any, tmp_path: Path) -> None:
    app = make_app(PASSWORD_HASH_SLOTS=0, PASSWORD_HASH_SLOT_DIRECTORY=str(tmp_path))
    with held_by_another_process(tmp_path, 0):
        assert sign_in(app.test_client(), "head@oakfield.example").status_code == 303


def test_there_are_as_many_slots_as_cores_this_process_may_use(make_app: Any) -> None:
    # A process held to one core (as a container or a service manager may hold it) gets one
    # slot, however many cores the machine has.
    one_core = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "from portal.hashing import default_slots; print(default_slots())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert one_core.stdout.strip() == "1"
    assert make_app().config["PASSWORD_HASH_SLOTS"] == len(os.sched_getaffinity(0))
