"""One hearth per data directory (an flock on hearth.lock), and a process others cannot read."""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import logging
import os
from pathlib import Path

from core.errors import HearthError

log = logging.getLogger(__name__)

LOCK_NAME = "hearth.lock"
_PR_SET_DUMPABLE = 4


class AlreadyRunning(HearthError):
    """Another hearth holds this data directory."""


class DataDirLock:
    """An exclusive flock on ``$HEARTH_DATA_DIR/hearth.lock``, held while hearth runs.

    The kernel releases it when the process ends, however it ends: no stale lock files.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise AlreadyRunning naming the pid that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunning(
                f"another hearth (pid {holder}) is running on {self.path.parent}; stop it, "
                "or give this one another HEARTH_DATA_DIR"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Let go of the lock (idempotent)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def harden_process() -> bool:
    """PR_SET_DUMPABLE=0: processes of the same user cannot read our memory or environ.

    True when it took effect (Linux); elsewhere a no-op that returns False.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        ok = libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        ok = False
    if not ok:
        log.warning("could not make hearth's process non-dumpable (prctl PR_SET_DUMPABLE)")
    return ok
