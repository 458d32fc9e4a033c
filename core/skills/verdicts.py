"""Verdicts: what checking a skill's text concluded, by a hash of the text, kept on disk.

Checking skill files (``ast``, PARAMS against JSON Schema's meta-schema, a SKILL.md's YAML front
matter) imports jsonschema and yaml, about 0.1 s on every start of `hearth chat`. A verdict is a
pure function of the text and of the checking code, so it is kept in a JSON file and reused while
the text, ``loader.py``, ``api.py``, jsonschema and yaml are all unchanged. A missing, stale or
unreadable file is ignored and written again: a kept verdict never differs from checking anew.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the file's layout changes
# The checking code: the loader and the contract's NAME_PATTERN.
_CHECKERS = (Path(__file__).with_name("loader.py"), Path(__file__).with_name("api.py"))


class Verdicts:
    """Kept verdicts: ``("ok", value)`` or ``("error", message)`` by (kind, text)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path  # None: nothing is kept (every text is checked)
        self._kept: dict[str, list[Any]] | None = None  # read on first use
        self._used: dict[str, list[Any]] = {}  # what this scan looked up or found
        self._stamp = ""

    def get(self, kind: str, text: str) -> tuple[str, Any] | None:
        """The kept verdict on ``text``, or None when it must be checked."""
        if self._path is None:
            return None
        key = _key(kind, text)
        found = self._load().get(key)
        if not (isinstance(found, list) and len(found) == 2 and found[0] in ("ok", "error")):
            return None
        self._used[key] = found
        return found[0], json.loads(json.dumps(found[1]))  # a copy, as fresh as a new check

    def put(self, kind: str, text: str, verdict: str, value: Any) -> None:
        """Keep a verdict; only values that JSON gives back unchanged (no tuples, str keys)."""
        if self._path is None:
            return
        with contextlib.suppress(TypeError, ValueError):
            if json.loads(json.dumps(value)) == value:
                self._used[_key(kind, text)] = [verdict, value]

    def save(self) -> None:
        """Write the verdicts used since the last save (atomically); drop the rest."""
        if self._path is None or self._used == self._load():
            self._used = {}
            return
        data = {"format": FORMAT, "stamp": self._stamp, "verdicts": self._used}
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".skills-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out)
            os.replace(tmp, self._path)
        except OSError as exc:  # next start checks again; nothing is lost
            log.debug("could not keep skill verdicts in %s: %s", self._path, exc)
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)
        self._kept, self._used = dict(self._used), {}

    def _load(self) -> dict[str, list[Any]]:
        if self._kept is None:
            self._stamp = _stamp()
            self._kept = {}
            try:
                assert self._path is not None
                data = json.loads(self._path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return self._kept
            if (
                isinstance(data, dict)
                and data.get("format") == FORMAT
                and data.get("stamp") == self._stamp
                and isinstance(data.get("verdicts"), dict)
            ):
                self._kept = data["verdicts"]
        return self._kept


def _key(kind: str, text: str) -> str:
    return hashlib.sha256(f"{kind}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()


def _stamp() -> str:
    """The checking code's identity: its text and the installed jsonschema and yaml."""
    parts = [hashlib.sha256(b"".join(p.read_bytes() for p in _CHECKERS)).hexdigest()]
    for name in ("jsonschema", "yaml"):
        try:
            spec = importlib.util.find_spec(name)  # found, not imported
            origin = spec.origin if spec is not None else None
            stat = os.stat(origin) if origin else None
        except (ImportError, ValueError, OSError):
            stat, origin = None, None
        parts.append(f"{name}={origin}:{stat.st_mtime_ns if stat else ''}")
    return "|".join(parts)
