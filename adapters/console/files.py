"""Files and images posted to the terminal: saved under the data directory, or printed."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
from pathlib import Path

from core.errors import PlatformError

_UNSAFE_NAME = re.compile(r"[^\w.-]")  # a posted file's name keeps letters, digits, . _ -


def image_text(data: bytes, filename: str, caption: str) -> str:
    """A terminal shows no pictures: the caption and what the image was."""
    return f"{caption}\n[image {filename}, {_size(data)}]"


async def file_text(
    folder: Path | None, prefix: str, data: bytes, filename: str, caption: str
) -> str:
    """What the terminal prints for a posted file: its saved path, or its text when there is no
    ``folder``. A file that is not text and has no folder to go to is refused (PlatformError).
    """
    if folder is not None:
        try:
            path = await asyncio.to_thread(_save_file, folder, prefix, filename, data)
        except OSError as exc:
            raise PlatformError(f"could not save {filename}: {exc}") from exc
        return f"{caption}\n[file {filename}, {_size(data)}: {path}]"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PlatformError(f"{filename} is not text and there is no folder for it") from None
    # Fenced (longer than any backtick run inside) so Markdown keeps it verbatim.
    fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", text)), default=0))
    return f"{caption}\n{fence}{Path(filename).suffix[1:]}\n{text}\n{fence}"


def _size(data: bytes) -> str:
    return f"{len(data) / 1024:.0f} KiB" if len(data) >= 1024 else f"{len(data)} bytes"


def _save_file(folder: Path, prefix: str, filename: str, data: bytes) -> Path:
    """Write ``data`` to a new file in ``folder`` (owner-only), named after ``filename``."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    safe = _UNSAFE_NAME.sub("_", Path(filename).name).lstrip(".") or "file"
    for n in itertools.count(1):
        path = folder / f"{prefix}{n}-{safe}"
        try:  # never follows a link or overwrites: a new file or the next number
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return path
    raise AssertionError("unreachable")  # pragma: no cover
