"""Probes: each check measured concurrently, each under its own timeout, into a ProbeResult.

A probe never raises: a timeout, a refused connection or a missing path is a failing result
that says so. Shell checks run through ``core.heartbeat.shell.run_shell``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from core.heartbeat.shell import run_shell
from core.heartbeat.values import OwnHealth, Perception, ProbeResult, worst
from core.ports import Clock
from core.tools.sandbox import SandboxRunner

if TYPE_CHECKING:  # imported when a tick runs: the process starts without them
    import httpx

log = logging.getLogger(__name__)


def _level(value: float, warning: float, critical: float) -> str:
    if value >= critical:
        return "critical"
    return "warning" if value >= warning else "ok"


# -- one probe per kind ---------------------------------------------------------------------------


def _model_present(model: str, names: set[str]) -> bool:
    # Ollama lists "llama3:latest" for a model configured as "llama3".
    return model in names or (":" not in model and f"{model}:latest" in names)


async def probe_ollama(check: OllamaCheck, client: httpx.AsyncClient) -> ProbeResult:
    """Ollama reachable; configured models pulled (/api/tags); loaded ones (/api/ps)."""
    import httpx

    base = check.host.rstrip("/")
    name = f"ollama:{check.name}" if check.name != "ollama" else "ollama"
    try:
        tags = await client.get(f"{base}/api/tags", timeout=check.timeout)
        tags.raise_for_status()
        available = sorted(m.get("name", "") for m in tags.json().get("models") or [])
        ps = await client.get(f"{base}/api/ps", timeout=check.timeout)
        loaded = (
            sorted(m.get("name", "") for m in ps.json().get("models") or [])
            if ps.is_success
            else []
        )
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        return ProbeResult(
            check=name,
            kind="ollama",
            status=check.severity,
            summary=f"unreachable at {base}: {_short(exc)}",
            values={"reachable": False},
            action=check.action,
        )
    missing = [m for m in check.models if not _model_present(m, set(available))]
    values = {"reachable": True, "available": available, "loaded": loaded, "missing": missing}
    if missing:
        summary = f"models not pulled: {', '.join(missing)} (ollama pull {missing[0]})"
        return ProbeResult(
            check=name,
            kind="ollama",
            status="warning",
            summary=summary,
            values=values,
            action=check.action or f"ollama pull {missing[0]}",
        )
    summary = f"up, {len(available)} models, loaded: {', '.join(loaded) or 'none'}"
    return ProbeResult(check=name, kind="ollama", status="ok", summary=summary, values=values)


async def probe_system(check: SystemCheck) -> ProbeResult:
    """Load average per CPU and memory use against thresholds."""
    import psutil

    load1, load5, _ = await asyncio.to_thread(psutil.getloadavg)
    memory = await asyncio.to_thread(psutil.virtual_memory)
    cpus = psutil.cpu_count() or 1
    per_cpu = load1 / cpus
    load_status = _level(per_cpu, check.load_warning, check.load_critical)
    mem_status = _level(memory.percent, check.memory_warning, check.memory_critical)
    status = worst((load_status, mem_status))
    summary = (
        f"load {load1:.2f} on {cpus} CPUs ({per_cpu:.2f}/CPU, warning at "
        f"{check.load_warning:g}), memory {memory.percent:.0f}% used "
        f"(warning at {check.memory_warning:g}%)"
    )
    return ProbeResult(
        check=f"system:{check.name}" if check.name != "system" else "system",
        kind="system",
        status=status,
        summary=summary,
        values={
            "load1": round(load1, 2),
            "load5": round(load5, 2),
            "cpus": cpus,
            "memory_percent": round(memory.percent, 1),
            "memory_available_mb": memory.available // 2**20,
        },
        action=check.action,
    )


async def probe_disk(check: DiskCheck) -> ProbeResult:
    """Percent used of the filesystem holding the path."""
    try:
        usage = await asyncio.to_thread(shutil.disk_usage, check.path)
    except OSError as exc:
        return ProbeResult(
            check=f"disk:{check.name}",
            kind="disk",
            status="critical",
            summary=f"{check.path}: {exc.strerror or exc}",
            values={"path": check.path},
            action=check.action,
        )
    percent = 100.0 * usage.used / usage.total if usage.total else 0.0
    status = _level(percent, check.warning, check.critical)
    limit = check.critical if status == "critical" else check.warning
    return ProbeResult(
        check=f"disk:{check.name}",
        kind="disk",
        status=status,
        summary=(
            f"{check.path} {percent:.0f}% used, {usage.free / 2**30:.1f} GiB free "
            f"({'critical' if status == 'critical' else 'warning'} at {limit:g}%)"
        ),
        values={
            "path": check.path,
            "percent": round(percent, 1),
            "free_gb": round(usage.free / 2**30, 2),
        },
        action=check.action,
    )


async def probe_http(check: HttpCheck, client: httpx.AsyncClient, clock: Clock) -> ProbeResult:
    """GET the URL: status, latency, expected text."""
    import httpx

    name = f"http:{check.name}"
    started = clock.monotonic()
    try:
        response = await client.get(check.url, timeout=check.timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        return ProbeResult(
            check=name,
            kind="http",
            status=check.severity,
            summary=f"{check.url}: {_short(exc)}",
            values={"url": check.url},
            action=check.action,
        )
    latency_ms = round((clock.monotonic() - started) * 1000, 1)
    values: dict[str, Any] = {
        "url": check.url,
        "status": response.status_code,
        "latency_ms": latency_ms,
    }
    problems = []
    if check.expect_status is not None and response.status_code != check.expect_status:
        problems.append(f"status {response.status_code}, expected {check.expect_status}")
    elif check.expect_status is None and response.status_code >= 400:
        problems.append(f"status {response.status_code}")
    if check.expect_text and check.expect_text not in response.text:
        problems.append(f"{check.expect_text!r} not in the response")
    if problems:
        status = check.severity
    elif check.latency_warning_ms is not None and latency_ms > check.latency_warning_ms:
        status = "warning"
        problems.append(f"slow: {latency_ms:.0f} ms (warning at {check.latency_warning_ms:g} ms)")
    else:
        status = "ok"
    summary = "; ".join(problems) or f"{response.status_code} in {latency_ms:.0f} ms"
    return ProbeResult(
        check=name, kind="http", status=status, summary=summary, values=values, action=check.action
    )


async def probe_tcp(check: TcpCheck) -> ProbeResult:
    """The port accepts a TCP connection."""
    name = f"tcp:{check.name}"
    target = f"{check.host}:{check.port}"
    try:
        async with asyncio.timeout(check.timeout):
            _, writer = await asyncio.open_connection(check.host, check.port)
    except (OSError, TimeoutError) as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        return ProbeResult(
            check=name,
            kind="tcp",
            status=check.severity,
            summary=f"{target} not accepting connections: {reason}",
            values={"target": target, "open": False},
            action=check.action,
        )
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return ProbeResult(
        check=name,
        kind="tcp",
        status="ok",
        summary=f"{target} open",
        values={"target": target, "open": True},
    )


def _count_processes(process: str) -> int:
    import psutil

    count = 0
    for proc in psutil.process_iter(["name"]):
        with contextlib.suppress(psutil.Error):
            if proc.info["name"] == process:
                count += 1
    return count


async def probe_process(check: ProcessCheck) -> ProbeResult:
    """At least ``min_count`` processes with this exact name are running."""
    count = await asyncio.to_thread(_count_processes, check.process)
    ok = count >= check.min_count
    return ProbeResult(
        check=f"process:{check.name}",
        kind="process",
        status="ok" if ok else check.severity,
        summary=f"{count} {check.process} process(es) running"
        + ("" if ok else f", expected at least {check.min_count}"),
        values={"process": check.process, "count": count},
        action="" if ok else check.action,
    )


async def probe_shell(
    check: ShellCheck, workspace: Path, sandbox: SandboxRunner | None = None
) -> ProbeResult:
    """Run the (low-risk) command, confined by the sandbox; exit code 0 is ok."""
    outcome = await run_shell(check.command, cwd=workspace, timeout=check.timeout, sandbox=sandbox)
    ok = outcome.exit_code == 0
    if outcome.timed_out:
        summary = f"timed out after {check.timeout:g}s"
    else:
        last = outcome.output.splitlines()[-1] if outcome.output else ""
        summary = f"exit {outcome.exit_code}" + (f": {last[:160]}" if last else "")
    return ProbeResult(
        check=f"shell:{check.name}",
        kind="shell",
        status="ok" if ok else check.severity,
        summary=summary,
        values={"exit_code": outcome.exit_code, "output_tail": outcome.output},
        action=check.action,
    )


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


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:160]


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


# -- all probes of a tick -------------------------------------------------------------------------


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
                summary=f"probe failed: {_short(exc)}",
                action=check.action,
            )
        return replace(result, duration_s=round(self._clock.monotonic() - started, 3))
