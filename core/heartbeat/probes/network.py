"""Probes over the network: Ollama's models, HTTP endpoints and TCP ports."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from core.heartbeat.checks import HttpCheck, OllamaCheck, TcpCheck
from core.heartbeat.values import ProbeResult
from core.ports import Clock

if TYPE_CHECKING:  # imported when a tick runs: the process starts without them
    import httpx


def short(exc: BaseException) -> str:
    """The first line of an error, at most 160 characters."""
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:160]


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
            summary=f"unreachable at {base}: {short(exc)}",
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
            summary=f"{check.url}: {short(exc)}",
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
