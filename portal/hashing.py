"""Where and when password hashes run, so that sign-ins do not crowd out pages.

On the deadline morning dozens of people sign in at once, and each password check holds a
core for a sixth of a second and 64 MiB of memory. Two things keep the pages fast meanwhile;
neither changes the hash itself.

* **A lane at lower priority.** Each process hashes in a thread of its own whose CPU
  priority is PASSWORD_HASH_NICE steps lower (Linux keeps niceness per thread). At equal
  priority a page that lands among the checks waits its turn behind every one in progress;
  lower, the scheduler gives the pages the CPU first and the checks what is left.
* **Slots, as many as the machine has cores** (PASSWORD_HASH_SLOTS). More checks than cores
  at once only share the cores and the memory bus, so that all of them finish late, each
  holding its gunicorn worker, until no worker is left for a page. A check first takes a
  slot (an exclusive lock on one of a few files, shared by every process on the machine and
  let go by the kernel if its process dies); the rest wait their turn, in no one's way.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from flask import current_app

try:
    import fcntl
except ImportError:  # Windows: no slots, each check runs as soon as it is asked for
    fcntl = None

T = TypeVar("T")

# The lane: made on first use in each process, and forgotten in a forked child (a thread
# does not survive fork, so a gunicorn worker forked from a master that hashed makes its own).
_lane: ThreadPoolExecutor | None = None
_lane_lock = threading.Lock()


def _forget_lane() -> None:
    global _lane
    _lane = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_lane)


def default_slots() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def default_slot_directory() -> str:
    # One per user: another user's files in a shared /tmp could not be locked by this one.
    user = os.getuid() if hasattr(os, "getuid") else os.getpid()
    return str(Path(tempfile.gettempdir()) / f"portal-password-slots-{user}")


def _lower_priority(nice: int) -> None:
    """Lower the calling thread's CPU priority by ``nice`` (Linux keeps it per thread)."""
    try:
        thread = threading.get_native_id()
        # Relative to the process's own, which a service manager may have set; 19 is the least.
        lowered = min(19, os.getpriority(os.PRIO_PROCESS, thread) + nice)
        os.setpriority(os.PRIO_PROCESS, thread, lowered)
    except (AttributeError, OSError):
        # Not Linux, or not allowed: the check runs at the usual priority, as it did.
        pass


@contextmanager
def slot(directory: str, slots: int) -> Iterator[int | None]:
    """Hold one of the machine's ``slots`` hashing slots; which one (None if none could be had).

    A free slot if there is one; else the wait is for the slot this process would try first,
    so that waiting processes spread over the slots. A slot that cannot be had at all (the
    directory cannot be written) is not worth refusing a sign-in over: the check runs anyway.
    """
    held: int | None = None
    descriptor = -1

    def open_slot(number: int) -> int:
        return os.open(Path(directory) / f"slot-{number}", os.O_RDWR | os.O_CREAT, 0o600)

    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        first = os.getpid() % slots
        for number in [(first + step) % slots for step in range(slots)]:
            descriptor = open_slot(number)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                descriptor = -1
                continue
            held = number
            break
        if held is None:
            descriptor = open_slot(first)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            held = first
    except OSError:
        if descriptor >= 0:
            os.close(descriptor)
        descriptor, held = -1, None
    try:
        yield held
    finally:
        if descriptor >= 0:
            os.close(descriptor)  # closing the file lets the lock go


def in_lane(work: Callable[[], T]) -> T:
    """``work()`` (a password hash or check) run in a slot, in this process's lane.

    argon2 releases the GIL while it hashes, so the request thread simply waits. One lane a
    process is enough: a gunicorn sync worker serves one request at a time. Where threads'
    priorities cannot differ (not Linux), or PASSWORD_HASH_NICE is 0, it runs in the
    request's thread; with PASSWORD_HASH_SLOTS 0, without a slot.
    """
    config = current_app.config
    slots, directory = config["PASSWORD_HASH_SLOTS"], config["PASSWORD_HASH_SLOT_DIRECTORY"]

    def in_slot() -> T:
        if slots <= 0 or fcntl is None:
            return work()
        with slot(directory, slots):
            return work()

    nice = config["PASSWORD_HASH_NICE"]
    if nice <= 0 or not sys.platform.startswith("linux"):
        return in_slot()
    global _lane
    with _lane_lock:
        if _lane is None:
            _lane = ThreadPoolExecutor(
                max_workers=1,
                thread_name_prefix="password-lane",
                initializer=_lower_priority,
                initargs=(nice,),
            )
        lane = _lane
    return lane.submit(in_slot).result()
