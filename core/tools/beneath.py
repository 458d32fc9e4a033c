"""Opening paths beneath a directory without a race: one component at a time, from a dir fd.

Every step is an ``openat`` with ``O_NOFOLLOW`` relative to the directory reached so far, so a
directory swapped for a symlink between any two steps makes the open fail instead of leading
outside. Symlinks are followed only by reading them and walking their target again from the
workspace, and only while the target stays inside it. Nothing is checked and then reopened by name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field

from core.errors import ToolError

MAX_SYMLINKS = 40  # as the kernel's own resolver
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass
class Beneath:
    """Where a walk ended: the open parent directory and the last name, relative to the root."""

    parent_fd: int
    name: str  # "" when the path is the root itself
    parts: list[str] = field(default_factory=list)  # the real path below the root

    @property
    def relative(self) -> str:
        """The path below the root, as shown to the model."""
        return "/".join(self.parts) or "."


def _refuse_link(shown: str) -> ToolError:
    return ToolError(
        f"refused: {shown!r} goes through a symlink that points outside the workspace"
    )


@contextlib.contextmanager
def walk(root: str, parts: list[str], shown: str, *, make_dirs: bool = False) -> Iterator[Beneath]:
    """Walk ``parts`` below ``root``; yields the parent fd (closed after) and the last name."""
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    fds = [root_fd]
    here: list[str] = []
    pending = [p for p in parts if p not in ("", ".")]
    hops = 0
    try:
        while pending:
            name = pending.pop(0)
            if name in ("", "."):
                continue
            if name == "..":
                if not here:
                    raise _refuse_link(shown)
                here.pop()
                os.close(fds.pop())
                continue
            if not pending:  # the last component: the caller opens it (O_NOFOLLOW)
                target = _link_target(fds[-1], name)
                if target is None:
                    yield Beneath(fds[-1], name, [*here, name])
                    return
            else:
                try:
                    fds.append(os.open(name, _DIR_FLAGS, dir_fd=fds[-1]))
                    here.append(name)
                    continue
                except FileNotFoundError:
                    if not make_dirs:
                        raise ToolError(
                            f"no such directory: {'/'.join([*here, name])!r}"
                        ) from None
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(name, 0o755, dir_fd=fds[-1])
                    pending.insert(0, name)  # open it now, still without following a link
                    continue
                except OSError as exc:
                    if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                        raise ToolError(f"cannot open {shown!r}: {exc.strerror}") from None
                    target = _link_target(fds[-1], name)
                    if target is None:
                        raise ToolError(
                            f"{'/'.join([*here, name])!r} is not a directory"
                        ) from None
            hops += 1
            if hops > MAX_SYMLINKS:
                raise ToolError(f"refused: {shown!r} has too many levels of symlinks")
            if target.startswith("/"):
                inside = _below(root, target)
                if inside is None:
                    raise _refuse_link(shown)
                while len(fds) > 1:
                    os.close(fds.pop())
                here = []
                pending = inside + pending
            else:
                pending = target.split("/") + pending
        yield Beneath(fds[-1], "", list(here))
    finally:
        for fd in fds:
            os.close(fd)


def _link_target(dir_fd: int, name: str) -> str | None:
    """The symlink's target, or None when ``name`` is not a symlink (or does not exist)."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ToolError(f"cannot open {name!r}: {exc.strerror}") from None
    if not stat.S_ISLNK(st.st_mode):
        return None
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError:  # it stopped being a symlink since the stat: someone is swapping it
        raise ToolError(f"refused: {name!r} changed while it was being opened") from None


def _below(root: str, absolute: str) -> list[str] | None:
    """Components of ``absolute`` below ``root`` (lexically), or None when it is outside."""
    norm = posixpath.normpath(absolute)
    if norm == root:
        return []
    if not norm.startswith(root.rstrip("/") + "/"):
        return None
    return norm[len(root.rstrip("/")) + 1 :].split("/")
