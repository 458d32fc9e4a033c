"""Finding host processes by a unique word in their command line (pids inside a sandbox's PID
namespace mean nothing outside it)."""

from __future__ import annotations

import asyncio
import secrets
import time

import psutil


def unique_sleep(seconds: int = 60) -> str:
    """A ``sleep`` argument no other process uses, e.g. ``60.4817``."""
    return f"{seconds}.{secrets.randbelow(9000) + 1000}"


def running(word: str) -> list[int]:
    """Pids of live (not zombie) processes with ``word`` as an argument."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if word in (proc.info["cmdline"] or []) and proc.info["status"] != "zombie":
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


async def wait_running(word: str, deadline: float = 5.0) -> list[int]:
    """Pids once at least one process with ``word`` runs; [] after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if pids := running(word):
            return pids
        await asyncio.sleep(0.02)
    return []


async def wait_gone(word: str, deadline: float = 2.0) -> bool:
    """True once no process with ``word`` runs; False after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if not running(word):
            return True
        await asyncio.sleep(0.02)
    return False
