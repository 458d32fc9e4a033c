"""File tools confined to the workspace: read_file (in line ranges), write_file, list_dir."""

from __future__ import annotations

import asyncio
import errno
import os
import posixpath
import stat
from pathlib import Path

from core.errors import ToolError
from core.tools.beneath import walk

MAX_READ_LINES = 400
MAX_LINE_CHARS = 2000
MAX_WRITE_BYTES = 2_000_000
MAX_LIST_ENTRIES = 200
_BINARY_PROBE = 8192
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def confine_lexically(workspace: Path, path: str) -> Path:
    """``path`` inside ``workspace`` by its text alone (``..`` and absolute paths checked).

    No I/O: symlinks are dealt with while opening, one component at a time (core.tools.beneath).
    """
    if not isinstance(path, str) or not path.strip():
        raise ToolError("refused: empty path; give a path relative to the workspace")
    if "\x00" in path:
        raise ToolError("refused: the path contains a NUL byte")
    root = workspace.resolve()
    lexical = Path(posixpath.normpath(str(root / path.strip())))
    if not lexical.is_relative_to(root):
        raise ToolError(
            f"refused: {path!r} is outside the workspace; use a path inside it, e.g. 'notes.txt'"
        )
    return lexical


def confine(workspace: Path, path: str) -> Path:
    """``path`` resolved inside ``workspace``; raises ToolError for anything that escapes.

    For showing and planning only: the file tools never open what this returns by name.
    """
    lexical = confine_lexically(workspace, path)
    resolved = lexical.resolve(strict=False)
    if not resolved.is_relative_to(workspace.resolve()):
        raise ToolError(
            f"refused: {path!r} goes through a symlink that points outside the workspace"
        )
    return resolved


class FileTools:
    """read_file, write_file and list_dir bound to one workspace directory."""

    def __init__(
        self,
        workspace: Path,
        *,
        max_read_lines: int = MAX_READ_LINES,
        max_write_bytes: int = MAX_WRITE_BYTES,
        max_list_entries: int = MAX_LIST_ENTRIES,
    ) -> None:
        self.workspace = workspace
        self._root = str(workspace.resolve())
        self._max_lines = max_read_lines
        self._max_write = max_write_bytes
        self._max_list = max_list_entries

    async def read_file(self, path: str, offset_line: int = 1, max_lines: int = 200) -> str:
        """Read a text file from the workspace, with line numbers, in a range of lines.

        Args:
            path: file path relative to the workspace.
            offset_line: first line to show (1 = the start of the file).
            max_lines: how many lines to show at most.
        """
        parts = self._parts(path)
        first = max(1, int(offset_line))
        count = max(1, min(int(max_lines), self._max_lines))
        return await asyncio.to_thread(self._read, parts, path, first, count)

    def _parts(self, path: str) -> list[str]:
        """The path's components below the workspace, checked lexically (no I/O)."""
        target = confine_lexically(self.workspace, path)
        rel = target.relative_to(self.workspace.resolve())
        return [] if str(rel) == "." else list(rel.parts)

    def _read(self, parts: list[str], shown: str, first: int, count: int) -> str:
        with walk(self._root, parts, shown) as where:
            if not where.name:
                raise ToolError(f"{shown!r} is a directory; use list_dir")
            try:
                fd = os.open(where.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=where.parent_fd)
            except FileNotFoundError:
                raise ToolError(f"no such file: {shown!r} (list_dir shows what exists)") from None
            except IsADirectoryError:
                raise ToolError(f"{shown!r} is a directory; use list_dir") from None
            except OSError as exc:
                if exc.errno == errno.ELOOP:  # swapped for a symlink since the walk read it
                    raise ToolError(f"refused: {shown!r} became a symlink") from None
                raise ToolError(f"cannot read {shown!r}: {exc.strerror}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ToolError(f"{shown!r} is a directory or special file; use list_dir")
        with os.fdopen(fd, "rb") as fh:
            probe = fh.read(_BINARY_PROBE)
            if b"\x00" in probe:
                size = os.fstat(fh.fileno()).st_size
                raise ToolError(f"{shown!r} is a binary file ({size} bytes); not shown")
            fh.seek(0)
            lines: list[str] = []
            total = 0
            for number, raw in enumerate(fh, start=1):
                total = number
                if first <= number < first + count:
                    line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                    if len(line) > MAX_LINE_CHARS:
                        line = line[:MAX_LINE_CHARS] + f" […{len(line) - MAX_LINE_CHARS} chars]"
                    lines.append(f"{number:>6}\t{line}")
        if total == 0:
            return f"{shown}: (empty file)"
        if first > total:
            return f"{shown} has only {total} lines; offset_line={first} is past the end"
        last = first + len(lines) - 1
        body = "\n".join(lines)
        if first > 1 or last < total:
            more = f"; next: offset_line={last + 1}" if last < total else ""
            body += f"\n[showing lines {first}-{last} of {total}{more}]"
        return body

    async def write_file(self, path: str, content: str, append: bool = False) -> str:
        """Write text to a file in the workspace (parent directories are created).

        Args:
            path: file path relative to the workspace.
            content: the full text to write.
            append: add to the end of the file instead of replacing it.
        """
        parts = self._parts(path)
        if ".git" in parts:
            raise ToolError("refused: writing inside .git/ can make git run commands")
        data = content.encode("utf-8")
        if len(data) > self._max_write:
            raise ToolError(
                f"refused: {len(data)} bytes is more than the {self._max_write} byte limit"
            )
        rel = await asyncio.to_thread(self._write, parts, data, append, path)
        verb = "appended" if append else "wrote"
        return f"{verb} {len(data)} bytes to {rel}"

    def _write(self, parts: list[str], data: bytes, append: bool, shown: str) -> str:
        # Parents are created and entered one at a time, never through a symlink that leaves.
        with walk(self._root, parts, shown, make_dirs=True) as where:
            if not where.name:
                raise ToolError(f"{shown!r} is a directory")
            if ".git" in where.parts:
                raise ToolError("refused: writing inside .git/ can make git run commands")
            flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            flags |= os.O_APPEND if append else os.O_TRUNC
            try:
                fd = os.open(where.name, flags, 0o644, dir_fd=where.parent_fd)
            except IsADirectoryError:
                raise ToolError(f"{shown!r} is a directory") from None
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise ToolError(f"refused: {shown!r} became a symlink") from None
                raise ToolError(f"cannot write {shown!r}: {exc.strerror}") from None
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            return where.relative

    async def list_dir(self, path: str = ".") -> str:
        """List a workspace directory: type, size and name of each entry.

        Args:
            path: directory relative to the workspace ("." is the workspace itself).
        """
        parts = self._parts(path)
        return await asyncio.to_thread(self._list, parts, path)

    def _list(self, parts: list[str], shown: str) -> str:
        with walk(self._root, parts, shown) as where:
            if where.name:
                try:
                    fd = os.open(where.name, _DIR_FLAGS, dir_fd=where.parent_fd)
                except FileNotFoundError:
                    raise ToolError(f"no such directory: {shown!r}") from None
                except NotADirectoryError:
                    raise ToolError(f"{shown!r} is a file; use read_file") from None
                except OSError as exc:
                    raise ToolError(f"cannot list {shown!r}: {exc.strerror}") from None
            else:
                fd = os.dup(where.parent_fd)
            try:
                return self._entries(fd, where.relative)
            finally:
                os.close(fd)

    def _entries(self, fd: int, shown: str) -> str:
        entries = sorted(os.scandir(fd), key=lambda e: e.name)
        lines = []
        for entry in entries[: self._max_list]:
            if entry.is_symlink():
                target = os.readlink(entry.name, dir_fd=fd)
                lines.append(f"l {'':>10}  {entry.name} -> {target}")
            elif entry.is_dir(follow_symlinks=False):
                lines.append(f"d {'':>10}  {entry.name}/")
            else:
                size = entry.stat(follow_symlinks=False).st_size
                lines.append(f"f {size:>10}  {entry.name}")
        header = f"{shown}: {len(entries)} entries"
        if len(entries) > self._max_list:
            lines.append(f"[{len(entries) - self._max_list} more entries not shown]")
        return "\n".join([header, *lines]) if lines else f"{header} (empty)"
