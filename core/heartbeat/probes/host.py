"""Probes of this host: load and memory, disk use, running processes, shell checks."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path

from core.heartbeat.checks import DiskCheck, ProcessCheck, ShellCheck, SystemCheck
from core.heartbeat.shell import run_shell
from core.heartbeat.values import ProbeResult, worst
from core.tools.sandbox import SandboxRunner


def _level(value: float, warning: float, critical: float) -> str:
    if value >= critical:
        return "critical"
    return "warning" if value >= warning else "ok"


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
