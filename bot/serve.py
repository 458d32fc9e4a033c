"""`hearth run` and `hearth chat`: the process, served until it is stopped.

In the terminal chat the prompt comes first: the core is built behind it (its imports in a
thread, so keys are still taken), and what is typed meanwhile waits for it, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import sys
from collections.abc import Callable

from bot.config import Settings
from bot.logging import configure_logging
from bot.platforms import terminal_adapter

EXIT_OK, EXIT_INTERRUPTED = 0, 130
PROMPT_WAIT = 2.0  # the build waits at most this long for the terminal's prompt to be drawn

log = logging.getLogger("hearth")


async def serve(
    settings: Settings,
    *,
    console: bool,
    platforms: bool,
    on_built: Callable[[], None] = lambda: None,
) -> int:
    """Run until stopped (SIGTERM, Ctrl-C) or the terminal's input ends; the exit code."""
    configure_logging(settings, console=console)
    term = terminal_adapter(settings) if console else None
    if term is not None:
        term.open()  # the prompt, before the rest: typing may start while hearth is built
        with contextlib.suppress(TimeoutError):
            # Not sooner: the build's thread holding the GIL would delay the first drawing.
            await asyncio.wait_for(term.shown(), PROMPT_WAIT)
    checked = asyncio.create_task(_say_if_ollama_is_down(settings, console), name="ollama:check")
    stop = asyncio.Event()
    app = None
    interrupts: list[int] = []

    def interrupted() -> None:
        # The first Ctrl-C stops gracefully (tasks get their grace period); a second one
        # cancels what still runs, so the process ends now.
        interrupts.append(1)
        if not stop.is_set():
            log.info("interrupted: stopping (again: cancel tasks now)")
        elif app is not None:
            for task in app.pool.active():
                app.pool.cancel(task.task_id, "hearth was interrupted; this task was stopped.")
        stop.set()

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, interrupted)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        try:
            # Most of the startup's CPU; in a thread, so the prompt keeps echoing keys.
            wiring = await asyncio.to_thread(importlib.import_module, "bot.wiring")
            app = wiring.build_app(settings, console=console, platforms=platforms, terminal=term)
        except BaseException:
            if term is not None:
                await term.close()  # the terminal as it was, before the error is printed
            raise
        on_built()
        await app.run(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        checked.cancel()  # only a check that hangs is still running (it gives up after 3 s)
    return EXIT_INTERRUPTED if interrupts else EXIT_OK


async def _say_if_ollama_is_down(settings: Settings, console: bool) -> None:
    from bot.doctor import ollama_warning

    warning = await ollama_warning(settings)
    if warning:
        log.warning("%s", warning)
        if console:  # the log is a file here: say it on the terminal too, once
            print(f"hearth: warning: {warning}", file=sys.stderr)
