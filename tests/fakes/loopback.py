"""Serve an aiohttp app on 127.0.0.1 with a free port: the one way every fake server binds."""

from __future__ import annotations

import asyncio
from typing import Self

from aiohttp import web


async def serve(app: web.Application, **runner_options: object) -> tuple[web.AppRunner, int]:
    """Start ``app`` on 127.0.0.1:0; returns the runner (to clean up) and the bound port."""
    runner = web.AppRunner(app, **runner_options)  # type: ignore[arg-type]
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, int(runner.addresses[0][1])


class LoopbackServer:
    """Lifecycle of a scripted HTTP fake: ``async with Fake() as fake:`` → ``fake.url``.

    Subclasses add their routes in ``routes``; handlers that hang wait on ``_closing`` so
    ``stop`` releases them.
    """

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self.url = ""

    def routes(self, app: web.Application) -> None:
        """Register the fake's endpoints."""
        raise NotImplementedError

    async def start(self) -> Self:
        """Bind to 127.0.0.1 on a free port."""
        app = web.Application()
        self.routes(app)
        self._runner, port = await serve(app, shutdown_timeout=0.5)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        """Release hanging requests and shut the server down."""
        self._closing.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
