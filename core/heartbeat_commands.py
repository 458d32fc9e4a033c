"""The `heartbeat` chat command: run a tick now and answer with its report in the thread."""

from __future__ import annotations

import asyncio
import logging

from core.commands import Command, CommandContext
from core.heartbeat.service import Heartbeat

log = logging.getLogger(__name__)


def heartbeat_command(heartbeat: Heartbeat) -> Command:
    """A ``Command`` that runs one heartbeat tick and replies with the report."""

    async def handle(ctx: CommandContext) -> str:
        try:
            result = await heartbeat.tick(trigger=f"chat:{ctx.user.qualified}")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Command boundary: the user gets one clear line, the log gets the traceback.
            log.exception("heartbeat tick requested by %s failed", ctx.user.qualified)
            return f"Heartbeat failed: {exc}"
        where = ""
        if result.posted is not None and result.posted.chat != ctx.chat:
            where = "\n(Also posted to the heartbeat channel.)"
        return result.report + where

    return Command(
        name="heartbeat",
        usage="heartbeat",
        help="Run the health checks now and show the report.",
        handler=handle,
    )
