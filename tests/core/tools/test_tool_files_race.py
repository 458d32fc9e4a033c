"""File tools under a race: a directory swapped for a symlink after the check, or in a loop."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from core.errors import ToolError
from core.tools.files import FileTools

OUTSIDE_SECRET = "OUTSIDE SECRET"

# Swaps DIR and LINK atomically (renameat2 RENAME_EXCHANGE) until killed; prints "go" first.
SWAPPER = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = (p.encode() for p in sys.argv[1:3])
AT_FDCWD, RENAME_EXCHANGE = -100, 2
print("go", flush=True)
while True:
    if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
        sys.exit("renameat2: " + os.strerror(ctypes.get_errno()))
"""


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    (root / "d").mkdir(parents=True)
    (root / "d" / "secret.txt").write_text("inside\n")
    outside = tmp_path / "outside_dir"
    outside.mkdir()
    (outside / "secret.txt").write_text(OUTSIDE_SECRET + "\n")
    return root


async def test_parent_swapped_for_a_symlink_after_the_check_is_refused(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = ws.parent / "outside_dir"
    checked = FileTools._parts

    def check_then_swap(self: FileTools, path: str) -> list[str]:
        parts = checked(self, path)  # the path is fine when checked…
        (ws / "d").rename(ws / "d.old")  # …and then its parent becomes a symlink out
        (ws / "d").symlink_to(outside)
        return parts

    monkeypatch.setattr(FileTools, "_parts", check_then_swap)
    files = FileTools(ws)
    with pytest.raises(ToolError, match="symlink"):
        await files.write_file("d/new.txt", "pwned")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    (ws / "d").unlink()
    (ws / "d.old").rename(ws / "d")
    with pytest.raises(ToolError, match="symlink"):
        await files.read_file("d/secret.txt")
    (ws / "d").unlink()
    (ws / "d.old").rename(ws / "d")
    with pytest.raises(ToolError, match="symlink"):
        await files.list_dir("d")


async def test_no_read_or_write_escapes_while_a_directory_is_swapped_in_a_loop(ws: Path) -> None:
    outside = ws.parent / "outside_dir"
    (ws / "d.swap").symlink_to(outside)
    swapper = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SWAPPER,
        str(ws / "d"),
        str(ws / "d.swap"),
        stdout=asyncio.subprocess.PIPE,
    )
    files = FileTools(ws)
    reads = writes = refused = 0
    try:
        assert swapper.stdout is not None
        assert await asyncio.wait_for(swapper.stdout.readline(), 30) == b"go\n"
        end = asyncio.get_running_loop().time() + 3.0
        while asyncio.get_running_loop().time() < end:
            try:
                text = await files.read_file("d/secret.txt")
                assert OUTSIDE_SECRET not in text, "a read escaped through the symlink"
                reads += 1
            except ToolError:
                refused += 1
            try:
                await files.write_file("d/written.txt", "pwned")
                writes += 1
            except ToolError:
                refused += 1
            try:
                listing = await files.list_dir("d")
                assert "secret.txt" in listing
            except ToolError:
                refused += 1
    finally:
        swapper.kill()
        await swapper.wait()
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"], "a write escaped"
    assert (outside / "secret.txt").read_text() == OUTSIDE_SECRET + "\n"
    # The race was real: both outcomes happened many times.
    assert reads > 10 and writes > 10 and refused > 10, (reads, writes, refused)
