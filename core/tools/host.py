"""What the sandbox's mounts and limits depend on in the host: paths that exist now, hearth's
own runtime under folders the sandbox makes private, and the user's running task count.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Sequence
from pathlib import Path

_PRIVATE_DIRS = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))


@functools.lru_cache(maxsize=1)
def runtime_under_private_dirs() -> tuple[Path, ...]:
    """The Python install and hearth's own code, when they live where the sandbox mounts a
    private, empty folder (e.g. a checkout in /tmp): without them a skill's child process,
    which runs this very interpreter and ``core.skills.child``, could not start."""
    source = Path(__file__).resolve().parents[2]
    candidates = {Path(os.path.realpath(p)) for p in (sys.prefix, sys.base_prefix, source)}
    candidates.add(Path(os.path.realpath(sys.executable)).parent)
    return tuple(
        sorted(
            p
            for p in candidates
            if p.exists() and any(within(p, d) and p != d for d in _PRIVATE_DIRS)
        )
    )


def within(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def existing(paths: Sequence[Path]) -> tuple[Path, ...]:
    """Real paths of what exists (bwrap cannot mount over nothing on a read-only root)."""
    seen: dict[Path, None] = {}
    for p in paths:
        real = Path(os.path.realpath(p))
        if real.exists() and real != Path("/"):
            seen[real] = None
    return tuple(seen)


def hide_args(paths: Sequence[Path]) -> list[str]:
    args: list[str] = []
    for p in paths:
        if p.is_dir():
            args += ["--tmpfs", str(p)]
        else:
            args += ["--ro-bind", "/dev/null", str(p)]
    return args


@functools.lru_cache(maxsize=1)
def user_tasks(_epoch: int) -> int:
    """Threads the user runs now: RLIMIT_NPROC counts every thread of the real uid."""
    uid, count = os.getuid(), 0
    try:
        entries = list(os.scandir("/proc"))
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid:
                count += len(os.listdir(f"/proc/{entry.name}/task"))
        except OSError:
            continue
    return count
