"""File tools: every escape from the workspace is refused; large files are read in ranges."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.errors import ToolError
from core.tools.files import FileTools, confine


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    root.mkdir()
    (tmp_path / "outside.txt").write_text("TOP SECRET\n")
    (tmp_path / "outside_dir").mkdir()
    return root


@pytest.fixture
def files(ws: Path) -> FileTools:
    return FileTools(ws)


ESCAPES = [
    "../outside.txt",
    "../../etc/passwd",
    "sub/../../outside.txt",
    "/etc/passwd",
    "/etc",
    "..",
    "./../outside.txt",
    "",
    "   ",
    "a\x00b",
]


@pytest.mark.parametrize("path", ESCAPES)
async def test_read_escapes_are_refused(files: FileTools, path: str) -> None:
    with pytest.raises(ToolError, match="refused"):
        await files.read_file(path)


@pytest.mark.parametrize("path", ESCAPES)
async def test_write_escapes_are_refused(files: FileTools, ws: Path, path: str) -> None:
    with pytest.raises(ToolError, match="refused"):
        await files.write_file(path, "pwned")
    assert (ws.parent / "outside.txt").read_text() == "TOP SECRET\n"


@pytest.mark.parametrize("path", ESCAPES)
async def test_list_escapes_are_refused(files: FileTools, path: str) -> None:
    with pytest.raises(ToolError, match="refused"):
        await files.list_dir(path)


async def test_absolute_path_outside_names_the_problem(files: FileTools) -> None:
    with pytest.raises(ToolError, match="outside the workspace"):
        await files.read_file("/etc/passwd")


async def test_planted_file_symlink_is_refused(files: FileTools, ws: Path) -> None:
    (ws / "innocent.txt").symlink_to(ws.parent / "outside.txt")
    with pytest.raises(ToolError, match="symlink"):
        await files.read_file("innocent.txt")
    with pytest.raises(ToolError, match="symlink"):
        await files.write_file("innocent.txt", "pwned")
    assert (ws.parent / "outside.txt").read_text() == "TOP SECRET\n"


async def test_planted_dir_symlink_is_refused(files: FileTools, ws: Path) -> None:
    (ws / "data").symlink_to(ws.parent / "outside_dir")
    with pytest.raises(ToolError, match="symlink"):
        await files.write_file("data/new.txt", "pwned")
    with pytest.raises(ToolError, match="symlink"):
        await files.list_dir("data")
    assert not (ws.parent / "outside_dir" / "new.txt").exists()


async def test_dangling_symlink_pointing_out_is_refused(files: FileTools, ws: Path) -> None:
    (ws / "later").symlink_to(ws.parent / "not_yet_there.txt")
    with pytest.raises(ToolError, match="symlink"):
        await files.write_file("later", "pwned")
    assert not (ws.parent / "not_yet_there.txt").exists()


async def test_symlink_inside_the_workspace_is_fine(files: FileTools, ws: Path) -> None:
    (ws / "real.txt").write_text("hello\n")
    (ws / "alias.txt").symlink_to(ws / "real.txt")
    assert "hello" in await files.read_file("alias.txt")


async def test_workspace_itself_reached_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real_ws"
    real.mkdir()
    link = tmp_path / "ws_link"
    link.symlink_to(real)
    tools = FileTools(link)
    await tools.write_file("a.txt", "ok")
    assert (real / "a.txt").read_text() == "ok"
    with pytest.raises(ToolError):
        await tools.read_file("../real_ws/../outside")


async def test_write_into_git_dir_is_refused(files: FileTools) -> None:
    with pytest.raises(ToolError, match=r"\.git"):
        await files.write_file(".git/hooks/pre-commit", "#!/bin/sh\nrm -rf ~\n")


async def test_write_creates_parents_and_appends(files: FileTools, ws: Path) -> None:
    assert await files.write_file("a/b/c.txt", "hello") == "wrote 5 bytes to a/b/c.txt"
    await files.write_file("a/b/c.txt", " world", append=True)
    assert (ws / "a/b/c.txt").read_text() == "hello world"


async def test_write_size_cap(ws: Path) -> None:
    tools = FileTools(ws, max_write_bytes=10)
    with pytest.raises(ToolError, match="limit"):
        await tools.write_file("big.txt", "x" * 11)
    assert not (ws / "big.txt").exists()


async def test_large_file_is_read_in_numbered_ranges(files: FileTools, ws: Path) -> None:
    (ws / "big.txt").write_text("".join(f"line {i}\n" for i in range(1, 1001)))
    first = await files.read_file("big.txt", max_lines=10)
    assert first.splitlines()[0] == "     1\tline 1"
    assert "[showing lines 1-10 of 1000; next: offset_line=11]" in first
    middle = await files.read_file("big.txt", offset_line=500, max_lines=3)
    assert [ln.split("\t")[1] for ln in middle.splitlines()[:3]] == [
        "line 500",
        "line 501",
        "line 502",
    ]
    end = await files.read_file("big.txt", offset_line=999, max_lines=50)
    assert "[showing lines 999-1000 of 1000]" in end
    past = await files.read_file("big.txt", offset_line=5000)
    assert "only 1000 lines" in past


async def test_max_lines_is_capped(ws: Path) -> None:
    (ws / "big.txt").write_text("x\n" * 100)
    tools = FileTools(ws, max_read_lines=20)
    text = await tools.read_file("big.txt", max_lines=10_000)
    assert "[showing lines 1-20 of 100" in text


async def test_binary_and_missing_files(files: FileTools, ws: Path) -> None:
    (ws / "blob.bin").write_bytes(b"\x00\x01\x02" * 10)
    with pytest.raises(ToolError, match="binary"):
        await files.read_file("blob.bin")
    with pytest.raises(ToolError, match="no such file"):
        await files.read_file("missing.txt")
    (ws / "dir").mkdir()
    with pytest.raises(ToolError, match="directory"):
        await files.read_file("dir")


async def test_list_dir_shows_type_size_and_caps(ws: Path) -> None:
    for i in range(30):
        (ws / f"f{i:02}.txt").write_text("x" * i)
    (ws / "sub").mkdir()
    tools = FileTools(ws, max_list_entries=10)
    text = await tools.list_dir(".")
    lines = text.splitlines()
    assert lines[0] == ".: 31 entries"
    assert lines[1].split() == ["f", "0", "f00.txt"]
    assert "[21 more entries not shown]" in text


def test_confine_returns_a_path_inside(ws: Path) -> None:
    assert confine(ws, "a/../b.txt") == ws.resolve() / "b.txt"
    assert confine(ws, str(ws / "c.txt")) == ws.resolve() / "c.txt"
    assert os.path.commonpath([confine(ws, "x"), ws.resolve()]) == str(ws.resolve())
