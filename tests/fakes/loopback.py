"""Serve an aiohttp app on 127.0.0.1 with a free port: the one way every fake server binds."""

from __future__ import annotations

from aiohttp import web


async def serve(app: web.Application, **runner_options: object) -> tuple[web.AppRunner, int]:
    """Start ``app`` on 127.0.0.1:0; returns the runner (to clean up) and the bound port."""
    runner = web.AppRunner(app, **runner_options)  # type: ignore[arg-type]
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, int(runner.addresses[0][1])
