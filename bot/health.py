"""The HEALTH_ADDR endpoint: ``/healthz`` (200 or 503 with the reason) and ``/metrics``.

``/metrics`` is Prometheus text exposition produced by prometheus-client from a registry
holding ``MetricsCollector`` (which exports the counters of ``core.metrics.Metrics``) and the
process collector (RSS, CPU, open fds). The server is aiohttp, on the event loop hearth
already runs; access logging is off so scrapes do not flood the log.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Protocol

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from core.metrics import Metrics
from core.ports import ChatAdapter

log = logging.getLogger(__name__)

HealthResult = tuple[bool, str]
HealthSource = Callable[[], Awaitable[HealthResult]] | Callable[[], HealthResult]

TERMINAL = "console"  # the terminal chat
HEALTH_TIMEOUT = 5.0  # seconds; a health source that hangs is itself unhealthy

# Help text of the counters core/metrics.py documents; they are exported even before the
# first increment so dashboards and alerts see the family from the start.
KNOWN_COUNTERS: dict[str, str] = {
    "hearth_tasks_total": "Tasks by status (queued, running, done, failed, ...).",
    "hearth_llm_calls_total": "LLM calls by provider.",
    "hearth_llm_tokens_total": "LLM tokens by provider and kind (prompt, completion).",
    "hearth_escalations_total": "Escalations to the cloud model by trigger.",
    "hearth_approvals_total": "Approval requests by outcome.",
    "hearth_heartbeat_ticks_total": "Heartbeat ticks by severity and decision source.",
    "hearth_chat_posts_total": "Messages posted by platform.",
    "hearth_chat_edits_total": "Message edits sent by platform.",
    "hearth_chat_rate_limited_total": "Rate-limit answers (429) received by platform.",
}

_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class MetricsCollector(Collector):
    """Exports every counter of a ``core.metrics.Metrics`` as a Prometheus counter family."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._warned: set[str] = set()

    def describe(self) -> list[Metric]:
        """Nothing up front: families are discovered at collect time (no registry clash check)."""
        return []

    def collect(self) -> Iterator[Metric]:
        """One counter family per metric name, one sample per label combination."""
        snapshot = self._metrics.snapshot()
        for name in sorted(set(KNOWN_COUNTERS) | set(snapshot)):
            if not _NAME.match(name) or not all(
                _LABEL.match(k) for key in snapshot.get(name, {}) for k, _ in key
            ):
                self._warn_once(name)
                continue
            base = name.removesuffix("_total")
            family = CounterMetricFamily(base, KNOWN_COUNTERS.get(name, f"hearth counter {base}"))
            for key, value in sorted(snapshot.get(name, {}).items()):
                # add_sample, not add_metric: tolerates series of one name with different labels.
                family.add_sample(f"{base}_total", dict(key), value)
            yield family

    def _warn_once(self, name: str) -> None:
        if name not in self._warned:
            self._warned.add(name)
            log.warning("metric %r has an invalid name or label; not exported", name)


def build_registry(metrics: Metrics, *, process: bool = True) -> CollectorRegistry:
    """A private registry (not prometheus-client's global one) with hearth's collectors."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MetricsCollector(metrics))
    if process:
        ProcessCollector(registry=registry)
    return registry


class _HasIsOpen(Protocol):
    @property
    def is_open(self) -> bool: ...


def make_health_check(
    *, db: _HasIsOpen, adapters: Mapping[str, ChatAdapter]
) -> Callable[[], HealthResult]:
    """The standard health source: database open, a chat platform configured, all connected."""

    def check() -> HealthResult:
        problems: list[str] = []
        if not db.is_open:
            problems.append("database is not open")
        down = sorted(name for name, a in adapters.items() if not a.connected)
        if down:
            problems.append("not connected: " + ", ".join(down))
        # The terminal is not a service: a process without a chat platform is not healthy.
        if not any(name != TERMINAL for name in adapters):
            problems.append("no chat platform is configured")
        if problems:
            return False, "; ".join(problems)
        names = ", ".join(sorted(adapters)) or "no adapters"
        return True, f"ok ({names})"

    return check


def parse_addr(addr: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8080`` for IPv6) as a (host, port) pair."""
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"invalid address {addr!r}: expected host:port, e.g. 127.0.0.1:8080")
    return host.strip("[]"), int(port)


class HealthServer:
    """Serves /healthz and /metrics on ``addr``; ``start()``/``stop()``; ``port`` once bound."""

    def __init__(
        self,
        addr: str,
        *,
        metrics: Metrics,
        health: HealthSource,
        registry: CollectorRegistry | None = None,
        timeout: float = HEALTH_TIMEOUT,
    ) -> None:
        self._host, self._port = parse_addr(addr)
        self._health = health
        self._registry = registry or build_registry(metrics)
        self._timeout = timeout
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None

    @property
    def port(self) -> int:
        """The bound port (useful with port 0); raises before ``start()``."""
        if self._bound_port is None:
            raise RuntimeError("HealthServer is not started")
        return self._bound_port

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind and serve."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self._bound_port = int(runner.addresses[0][1])
        log.info("health and metrics on %s (/healthz, /metrics)", self.url)

    async def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
            self._bound_port = None

    async def __aenter__(self) -> HealthServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def check(self) -> HealthResult:
        """Run the health source; a timeout or an exception counts as unhealthy."""
        try:
            async with asyncio.timeout(self._timeout):
                result = self._health()
                if inspect.isawaitable(result):
                    result = await result
        except TimeoutError:
            return False, f"health check timed out after {self._timeout:g}s"
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("health check failed")
            return False, f"health check failed: {type(exc).__name__}"
        ok, reason = result
        return bool(ok), str(reason)

    async def _healthz(self, request: web.Request) -> web.Response:
        ok, reason = await self.check()
        return web.Response(status=200 if ok else 503, text=(reason or "ok") + "\n")

    async def _metrics(self, request: web.Request) -> web.Response:
        # prometheus-client's own negotiation: OpenMetrics when the scraper asks, else text.
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encoder(self._registry), headers={"Content-Type": content_type})
