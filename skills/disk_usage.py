"""Disk usage by mount point."""

from __future__ import annotations

import psutil

from core.skills.api import SkillResult, fail, human_bytes, ok, table

NAME = "disk_usage"
DESCRIPTION = "Disk usage by mount point (size, used, free, percent), or for one path."
PARAMS = {
    "type": "object",
    "properties": {
        "path": {
            "type": "string",
            "description": "only the file system holding this path",
            "pattern": "^[/~.]",
        },
        "warn_percent": {"type": "number", "default": 90},
    },
}
EXAMPLES = [
    "disk usage",
    "how full is the disk",
    "how much disk space is left",
    "show disk usage by mount",
    "check free disk space",
    "disk usage of {path}",
    "how full is {path}",
]
_SKIP_FS = {"squashfs", "overlay", "tmpfs", "devtmpfs", "proc", "sysfs", "nsfs", "tracefs"}


def run(params: dict) -> SkillResult:
    warn = float(params.get("warn_percent", 90))
    if params.get("path"):
        try:
            mounts = [(params["path"], psutil.disk_usage(params["path"]))]
        except OSError as exc:
            return fail(f"cannot read disk usage of {params['path']}: {exc.strerror or exc}")
    else:
        mounts = []
        seen: set[int] = set()
        for part in psutil.disk_partitions(all=False):
            if part.fstype in _SKIP_FS:
                continue
            try:
                usage = psutil.disk_usage(part.mountpoint)
            except OSError:
                continue
            key = hash((usage.total, usage.used))
            if key in seen:  # bind mounts of the same file system
                continue
            seen.add(key)
            mounts.append((part.mountpoint, usage))
        if not mounts:
            mounts = [("/", psutil.disk_usage("/"))]
    rows = []
    full = []
    for mount, u in mounts:
        flag = " ⚠️" if u.percent >= warn else ""
        if flag:
            full.append(mount)
        rows.append(
            [
                mount,
                human_bytes(u.total),
                human_bytes(u.used),
                human_bytes(u.free),
                f"{u.percent:.0f}%{flag}",
            ]
        )
    head = (
        f"⚠️ {', '.join(full)} at or above {warn:g}% full."
        if full
        else f"All {len(rows)} file system(s) below {warn:g}% full."
    )
    return ok(head + "\n" + table(rows, ["mount", "size", "used", "free", "use"]))
