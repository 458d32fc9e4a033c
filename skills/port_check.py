"""A port and service check."""

from __future__ import annotations

import re
import socket
import time

import psutil

from core.skills.api import SkillResult, ok, table

NAME = "port_check"
DESCRIPTION = (
    "Check TCP ports on a host (open or closed, connect latency) and, on this machine, "
    "which process listens."
)
PARAMS = {
    "type": "object",
    "properties": {
        "ports": {
            "type": "string",
            "description": "one or more ports: 22, 80,443 or 8000-8010",
            "pattern": r"^\d+([,-]\d+)*$",
        },
        "host": {"type": "string", "default": "127.0.0.1", "pattern": r"^[\w.:-]+$"},
        "timeout": {"type": "number", "default": 3},
    },
    "required": ["ports"],
}
EXAMPLES = [
    "is port {ports} open",
    "check port {ports}",
    "check port {ports} on {host}",
    "is port {ports} open on {host}",
    "what is listening on port {ports}",
    "port check {ports}",
]
_LOCAL = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
_MAX_PORTS = 64


def _ports(spec: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"[,\s]+", spec.strip()):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        first, last = int(lo), int(hi or lo)
        if not (0 < first <= last < 65536):
            raise ValueError(f"bad port {part!r}")
        out.extend(range(first, last + 1))
    if not out or len(out) > _MAX_PORTS:
        raise ValueError(f"give 1 to {_MAX_PORTS} ports")
    return out


def _listeners() -> dict[int, str]:
    names: dict[int, str] = {}
    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.Error, OSError):
        return names
    for c in conns:
        if c.status == psutil.CONN_LISTEN and c.laddr:
            name = "?"
            if c.pid:
                try:
                    name = f"{psutil.Process(c.pid).name()} (pid {c.pid})"
                except psutil.Error:
                    name = f"pid {c.pid}"
            names.setdefault(c.laddr.port, name)
    return names


def run(params: dict) -> SkillResult:
    host = str(params.get("host") or "127.0.0.1")
    timeout = float(params.get("timeout", 3))
    try:
        ports = _ports(str(params["ports"]))
    except ValueError as exc:
        return SkillResult(f"❌ {exc}", False)
    listeners = _listeners() if host in _LOCAL else {}
    rows = []
    open_count = 0
    for port in ports:
        started = time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=timeout):
                state = f"open ({(time.monotonic() - started) * 1000:.1f} ms)"
                open_count += 1
        except TimeoutError:
            state = f"no answer in {timeout:g}s (filtered?)"
        except OSError as exc:
            state = "closed" if isinstance(exc, ConnectionRefusedError) else f"error: {exc}"
        rows.append([port, state, listeners.get(port, "")])
    head = f"{host}: {open_count} of {len(ports)} port(s) open."
    header = ["port", "state", "listener"] if listeners else ["port", "state"]
    body = [r if listeners else r[:2] for r in rows]
    return ok(head + "\n" + table(body, header))
