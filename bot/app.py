"""App: the process lifecycle — start order, supervised adapters, reverse-order shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol

from core.clock import SystemClock
from core.dispatch import Dispatcher
from core.llm.ollama import close_clients
from core.ports import ChatAdapter, Clock
from core.storage import Database
from core.taskpool import TaskPool
from core.thread import Threads

log = logging.getLogger(__name__)

BACKOFF_START = 1.0
BACKOFF_MAX = 60.0
HEALTHY_RUN = 60.0  # an adapter that ran this long before crashing restarts from the start
# Shutdown stays within 5 s (systemd and Docker kill later): tasks get SHUTDOWN_GRACE to end,
# then are cancelled and given CANCEL_WAIT to tell their threads; queued edits get EDIT_DRAIN;
# adapters get ADAPTER_CLOSE to close their sessions properly (Discord close code 1000).
SHUTDOWN_GRACE = 0.5
CANCEL_WAIT = 1.0
EDIT_DRAIN = 0.7
ADAPTER_CLOSE = 1.5
SETTLE_MAX = 2.0  # the warm-up waits at most this long for the terminal's prompt


class Service(Protocol):
    """Something the app starts after the database and stops before it."""

    async def start(self) -> None:
        """Begin working."""
        ...

    async def stop(self) -> None:
        """Stop and release everything."""
        ...


class App:
    """Owns the running process: database, services, adapters, tasks."""

    def __init__(
        self,
        *,
        db: Database,
        adapters: Mapping[str, ChatAdapter],
        dispatcher: Dispatcher,
        pool: TaskPool,
        services: Sequence[Service] = (),
        recoveries: Sequence[Callable[[], Awaitable[int]]] = (),
        warmups: Sequence[Callable[[], object]] = (),
        settle: Callable[[], Awaitable[object]] | None = None,
        finite: frozenset[str] = frozenset(),
        shutdown_grace: float = SHUTDOWN_GRACE,
        threads: Threads | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.adapters = adapters
        self.dispatcher = dispatcher
        self.pool = pool
        self._services = list(services)
        self._recoveries = list(recoveries)
        self._warmups = list(warmups)  # what the first task needs, prepared once ready
        self._settle = settle  # what the warm-up waits for first (the terminal settled)
        self._finite = finite  # adapters whose normal end (EOF) ends the app
        self._grace = shutdown_grace
        self._threads = threads
        self._clock = clock or SystemClock()
        self.ready = asyncio.Event()
        self.restarts: dict[str, int] = dict.fromkeys(adapters, 0)

    @property
    def services(self) -> list[Service]:
        """The services, in start order."""
        return list(self._services)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run until ``stop`` is set or a finite adapter (the terminal) reaches its end."""
        stop = stop or asyncio.Event()
        started: list[Service] = []
        adapter_tasks: list[asyncio.Task[None]] = []
        await self.db.start()
        try:
            for recover in self._recoveries:
                await recover()
            for service in self._services:
                await service.start()
                started.append(service)
            for name, adapter in self.adapters.items():
                adapter_tasks.append(
                    asyncio.create_task(self._supervise(name, adapter), name=f"adapter:{name}")
                )
            self.ready.set()
            if self._warmups:
                adapter_tasks.append(asyncio.create_task(self._warm(), name="app:warm"))
            announce = asyncio.create_task(self._announce_up(), name="app:up")
            adapter_tasks.append(announce)  # cancelled with the adapters
            await self._wait(stop, adapter_tasks)
        finally:
            # Reverse order: tasks first (their threads are told while adapters are still up),
            # then adapters, services, and the database last.
            await self.pool.shutdown(self._grace, cancel_wait=CANCEL_WAIT)
            if self._threads is not None:
                await self._threads.drain(EDIT_DRAIN)
            for task in adapter_tasks:
                task.cancel()
            if adapter_tasks:
                _, stuck = await asyncio.wait(adapter_tasks, timeout=ADAPTER_CLOSE)
                for task in stuck:
                    log.warning("%s did not stop in %.1fs", task.get_name(), ADAPTER_CLOSE)
            for service in reversed(started):
                try:
                    await service.stop()
                except Exception:
                    log.exception("stopping %s failed", type(service).__name__)
            await self.db.close()
            await close_clients()
            log.info("hearth stopped")

    async def _warm(self) -> None:
        """Imports and builds the first task would wait for, in a thread (the loop stays free)."""
        if self._settle is not None:
            # Not before the prompt is drawn: a thread holding the GIL would delay it.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settle(), SETTLE_MAX)
        for warm in self._warmups:
            try:
                await asyncio.to_thread(warm)
            except Exception:  # the first task does it again, and says what failed
                log.warning("warming up failed", exc_info=True)

    async def _announce_up(self) -> None:
        """Log "up" once every adapter is connected, not before."""
        while not all(a.connected for a in self.adapters.values()):
            await asyncio.sleep(0.1)
        log.info("hearth is up: %s", ", ".join(self.adapters) or "no adapters")

    async def _wait(self, stop: asyncio.Event, adapter_tasks: list[asyncio.Task[None]]) -> None:
        stopper = asyncio.create_task(stop.wait(), name="app:stop")
        finite = [
            t for t in adapter_tasks if t.get_name().removeprefix("adapter:") in self._finite
        ]
        try:
            waiting = {stopper, *finite}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if stopper not in done:
                log.info("input ended; finishing running tasks")
                await self._drain(stop)
        finally:
            stopper.cancel()

    async def _drain(self, stop: asyncio.Event) -> None:
        """Wait for queued and running tasks (or a stop signal) before shutting down."""
        while self.pool.active() and not stop.is_set():
            await asyncio.sleep(0.05)

    async def _supervise(self, name: str, adapter: ChatAdapter) -> None:
        backoff = BACKOFF_START
        while True:
            began = self._clock.monotonic()
            try:
                await adapter.run(self.dispatcher.handle)
                log.info("adapter %s finished", name)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.restarts[name] += 1
                if self._clock.monotonic() - began > HEALTHY_RUN:
                    backoff = BACKOFF_START
                # One line per retry; the traceback only when debugging.
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                log.warning("adapter %s failed (%s); retrying in %.0fs", name, reason, backoff)
                log.debug("adapter %s failure", name, exc_info=True)
                await self._clock.sleep(backoff)
                backoff = min(BACKOFF_MAX, backoff * 2)
