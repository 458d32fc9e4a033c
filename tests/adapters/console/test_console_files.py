"""post_file in the terminal: saved under the data directory (path shown), else printed whole."""

from __future__ import annotations

import asyncio
import io
import re
import stat
from pathlib import Path

import pytest

from adapters.console import ConsoleAdapter
from core.errors import PlatformError
from core.events import ChatRef, User
from core.redact import RedactingAdapter, Redactor

ME = User("console", "ana", "ana")
CHAT = ChatRef("console", "terminal", "main")
CODE = b"def run(params):\n    return 1\n" * 30


def _term(files_dir: Path | None) -> tuple[ConsoleAdapter, io.StringIO]:
    out = io.StringIO()
    term = ConsoleAdapter(user=ME, stdin=asyncio.StreamReader(), stdout=out, files_dir=files_dir)
    return term, out


async def test_a_file_is_saved_owner_only_and_its_path_shown(tmp_path: Path) -> None:
    term, out = _term(tmp_path / "files")
    await term.post_file(CHAT, CODE, "tool.py", "The code", "text/x-python")
    await term.post_file(CHAT, b"other", "tool.py", "Again", "text/x-python")
    paths = re.findall(r"\[file tool\.py, [^:]+: (\S+)\]", out.getvalue())
    assert len(paths) == 2 and paths[0] != paths[1]  # a second file never overwrites the first
    first = Path(paths[0])
    assert first.parent == tmp_path / "files" and first.name.endswith("-tool.py")
    assert _saved(first) == (CODE, 0o600, 0o700)
    assert "The code\n[file tool.py, 900 bytes: " in out.getvalue()


def _saved(path: Path) -> tuple[bytes, int, int]:
    """A saved file's bytes, its mode and its folder's mode."""
    mode, folder = path.stat().st_mode, path.parent.stat().st_mode
    return path.read_bytes(), stat.S_IMODE(mode), stat.S_IMODE(folder)


async def test_a_name_cannot_leave_the_folder(tmp_path: Path) -> None:
    term, _out = _term(tmp_path / "files")
    await term.post_file(CHAT, b"x", "../../escape.py", "c", "text/x-python")
    assert not (tmp_path / "escape.py").exists()
    (saved,) = (tmp_path / "files").iterdir()
    assert saved.name.endswith("-escape.py")


async def test_without_a_folder_text_is_printed_whole_and_binary_refused() -> None:
    term, out = _term(None)
    await term.post_file(CHAT, CODE, "tool.py", "The code", "text/x-python")
    # A fenced block: rich pads it by one column and keeps every indent.
    assert "\n".join(" " + line for line in CODE.decode().splitlines()) in out.getvalue()
    with pytest.raises(PlatformError):
        await term.post_file(CHAT, b"\xff\xfe\x00", "blob.bin", "b", "application/octet-stream")


async def test_a_folder_that_cannot_be_made_is_a_platform_error(tmp_path: Path) -> None:
    (tmp_path / "files").write_text("a file where the folder should be")
    term, _out = _term(tmp_path / "files")
    with pytest.raises(PlatformError, match=r"could not save tool\.py"):
        await term.post_file(CHAT, CODE, "tool.py", "The code", "text/x-python")


async def test_the_redacting_wrapper_masks_secrets_in_text_files_only(tmp_path: Path) -> None:
    term, _out = _term(tmp_path / "files")
    shown = RedactingAdapter(term, Redactor(["hunter2-very-secret"]))
    await shown.post_file(CHAT, b"pw = 'hunter2-very-secret'\n", "a.py", "c", "text/x-python")
    binary = b"\xff\x00hunter2-very-secret"
    await shown.post_file(CHAT, binary, "b.bin", "c", "application/octet-stream")
    saved = {p.name.split("-", 2)[-1]: p.read_bytes() for p in (tmp_path / "files").iterdir()}
    assert b"hunter2" not in saved["a.py"] and b"[REDACTED]" in saved["a.py"]
    assert saved["b.bin"] == binary  # not text hearth wrote: passed on unchanged
