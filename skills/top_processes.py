"""Top processes by CPU and memory."""

from __future__ import annotations

import time

import psutil

from core.skills.api import SkillResult, human_bytes, ok, table

NAME = "top_processes"
DESCRIPTION = "The processes using the most CPU and memory right now."
PARAMS = {
    "type": "object",
    "properties": {
        "count": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
        "sort": {"type": "string", "enum": ["cpu", "memory"], "default": "cpu"},
    },
}
EXAMPLES = [
    "top processes",
    "what is using the cpu",
    "which processes use the most memory",
    "what is eating the cpu",
    "show the top {count} processes",
    "top processes by {sort}",
]
_SAMPLE_S = 0.5  # CPU percent needs two readings


def run(params: dict) -> SkillResult:
    count = int(params.get("count", 10))
    sort = params.get("sort", "cpu")
    procs = []
    for p in psutil.process_iter(["pid", "name", "username"]):
        try:
            p.cpu_percent(None)
            procs.append(p)
        except psutil.Error:
            continue
    time.sleep(_SAMPLE_S)
    rows = []
    for p in procs:
        try:
            with p.oneshot():
                rows.append((p.cpu_percent(None), p.memory_info().rss, p.info))
        except psutil.Error:
            continue
    key = 0 if sort == "cpu" else 1
    rows.sort(key=lambda r: r[key], reverse=True)
    cores = psutil.cpu_count() or 1
    mem = psutil.virtual_memory()
    head = (
        f"CPU {psutil.cpu_percent(None):.0f}% of {cores} core(s), memory "
        f"{human_bytes(mem.used)} of {human_bytes(mem.total)} ({mem.percent:.0f}%). "
        f"Top {min(count, len(rows))} of {len(rows)} processes by {sort}:"
    )
    body = [
        [
            info["pid"],
            (info["name"] or "?")[:28],
            info.get("username") or "?",
            f"{cpu:.1f}",
            human_bytes(rss),
        ]
        for cpu, rss, info in rows[:count]
    ]
    return ok(head + "\n" + table(body, ["pid", "name", "user", "cpu%", "rss"]))
