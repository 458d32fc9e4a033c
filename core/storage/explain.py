"""SQLite failures as one line that names the file and the fix."""

from __future__ import annotations

import sqlite3

from core.errors import StorageError

_CORRUPT = ("not a database", "malformed", "file is encrypted", "disk image")
_READ_ONLY = ("readonly", "read-only", "unable to open", "permission denied", "access permission")
_LOCKED = ("locked", "busy")


def explain(path: str, exc: BaseException) -> StorageError | None:
    """A StorageError that says what is wrong with ``path`` and what to do; None if unknown."""
    text = str(exc).lower() or type(exc).__name__.lower()
    if isinstance(exc, OSError) and not isinstance(exc, sqlite3.Error):
        return StorageError(
            f"cannot create the database {path} ({exc.strerror or exc}): make its folder "
            "writable for the user running hearth, or set HEARTH_DATA_DIR elsewhere"
        )
    if any(word in text for word in _CORRUPT):
        return StorageError(
            f"the database {path} is damaged (corrupt or truncated): restore it from a "
            "backup, or move it aside and hearth starts with an empty one"
        )
    if any(word in text for word in _LOCKED):
        return StorageError(
            f"the database {path} is locked by another process: stop the other hearth "
            "(or the tool holding it open) and try again"
        )
    if any(word in text for word in _READ_ONLY):
        return StorageError(
            f"cannot write the database {path} (read-only): make the file and its folder "
            "writable for the user running hearth, or set HEARTH_DATA_DIR elsewhere"
        )
    return None
