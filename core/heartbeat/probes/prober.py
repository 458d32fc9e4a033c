"""Prober: every check of a tick run concurrently, each under its own timeout.

A probe never raises: a timeout, a refused connection or a missing path is a failing result
that says so. Shell checks run through ``core.heartbeat.shell.run_shell``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from core.clock import SystemClock
from core.heartbeat.checks import (
    Check,
    Checks,
    DiskCheck,
    HttpCheck,
    OllamaCheck,
    OwnCheck,
    ProcessCheck,
    ShellCheck,
    SystemCheck,
    TcpCheck,
)
from core.heartbeat.probes.host import probe_disk, probe_process, probe_shell, probe_system
from core.heartbeat.probes.network import probe_http, probe_ollama, probe_tcp, short
from core.heartbeat.values import OwnHealth, Perception, ProbeResult
from core.ports import Clock
from core.tools.sandbox import SandboxRunner

if TYPE_CHECKING:  # imported when a tick runs: the process starts without them
    import httpx

log = logging.getLogger(__name__)


def probe_own(check: OwnCheck, health: OwnHealth) -> ProbeResult:
    """Adapters connected, queue depth and recent task failures against limits."""
    down = sorted(p for p, up in health.adapters.items() if not up)
    problems = []
    if down:
        problems.append(f"disconnected: {', '.join(down)}")
    if health.queue_depth > check.max_queue_depth:
        problems.append(f"{health.queue_depth} tasks queued (limit {check.max_queue_depth})")
    if health.failures_last_hour > check.max_failures_last_hour:
        problems.append(
            f"{health.failures_last_hour} task failures in the last hour "
            f"(limit {check.max_failures_last_hour})"
        )
    up = sorted(p for p, ok in health.adapters.items() if ok)
    summary = "; ".join(problems) or (
        f"connected: {', '.join(up) or 'no platforms'}, {health.queue_depth} queued, "
        f"{health.failures_last_hour} failures in the last hour"
    )
    return ProbeResult(
        check=f"hearth:{check.name}" if check.name != "hearth" else "hearth",
        kind="hearth",
        status="warning" if problems else "ok",
        summary=summary,
        values={
            "adapters": dict(health.adapters),
            "queue_depth": health.queue_depth,
            "failures_last_hour": health.failures_last_hour,
        },
        action=check.action,
    )


def _check_id(check: Check | OwnCheck) -> tuple[str, str]:
    kinds = {
        OllamaCheck: "ollama",
        SystemCheck: "system",
        DiskCheck: "disk",
        HttpCheck: "http",
        TcpCheck: "tcp",
        ProcessCheck: "process",
        ShellCheck: "shell",
        OwnCheck: "hearth",
    }
    kind = kinds[type(check)]
    single = kind in {"ollama", "system", "hearth"} and check.name == kind
    return kind, kind if single else f"{kind}:{check.name}"


def _failure_severity(check: Check | OwnCheck) -> str:
    return getattr(check, "severity", "warning")


class Prober:
    """Runs every configured check concurrently, each under its own timeout."""

    def __init__(
        self,
        checks: Checks,
        *,
        workspace: Path | str,
        own_health: Callable[[], OwnHealth] | None = None,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sandbox: SandboxRunner | None = None,
    ) -> None:
        self.checks = checks
        self._sandbox = sandbox
        self._workspace = Path(workspace)
        self._own_health = own_health
        self._clock = clock or SystemClock()
        self._transport = transport  # tests may pass httpx.MockTransport; None = real network

    async def perceive(self) -> Perception:
        """Run every probe; the results keep the order of the checks file."""
        import httpx

        async with httpx.AsyncClient(transport=self._transport, trust_env=False) as client:
            results = await asyncio.gather(
                *(self._guarded(check, client) for check in self.checks)
            )
        return Perception(self._clock.now(), tuple(results))

    def _probe(self, check: Check | OwnCheck, client: httpx.AsyncClient) -> Awaitable[ProbeResult]:
        match check:
            case OllamaCheck():
                return probe_ollama(check, client)
            case SystemCheck():
                return probe_system(check)
            case DiskCheck():
                return probe_disk(check)
            case HttpCheck():
                return probe_http(check, client, self._clock)
            case TcpCheck():
                return probe_tcp(check)
            case ProcessCheck():
                return probe_process(check)
            case ShellCheck():
                return probe_shell(check, self._workspace, self._sandbox)
            case OwnCheck():
                return self._own(check)
        raise TypeError(f"unknown check {check!r}")

    async def _own(self, check: OwnCheck) -> ProbeResult:
        health = self._own_health() if self._own_health else OwnHealth(adapters={})
        return probe_own(check, health)

    async def _guarded(self, check: Check | OwnCheck, client: httpx.AsyncClient) -> ProbeResult:
        kind, name = _check_id(check)
        started = self._clock.monotonic()
        try:
            # A little slack over the check's own timeout: the probe reports it itself first.
            async with asyncio.timeout(check.timeout + 1.0):
                result = await self._probe(check, client)
        except TimeoutError:
            result = ProbeResult(
                check=name,
                kind=kind,
                status=_failure_severity(check),
                summary=f"probe timed out after {check.timeout:g}s",
                action=check.action,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The boundary of one probe: a bug in one check must not hide the others.
            log.exception("heartbeat probe %s failed", name)
            result = ProbeResult(
                check=name,
                kind=kind,
                status=_failure_severity(check),
                summary=f"probe failed: {short(exc)}",
                action=check.action,
            )
        return replace(result, duration_s=round(self._clock.monotonic() - started, 3))
