"""The dispatcher's own commands: `help` and `status`."""

from __future__ import annotations

from collections.abc import Callable

from core.commands import Command, CommandContext
from core.storage.tasks import TaskStore
from core.taskpool import TaskPool


def builtin_commands(
    command_list: Callable[[], list[Command]], pool: TaskPool, tasks: TaskStore
) -> list[Command]:
    """`help` lists every command; `status` shows what is running and queued."""

    async def help_(ctx: CommandContext) -> str:
        lines = ["**hearth** — mention me (or DM me) with a task, in plain words. Commands:"]
        for command in sorted(command_list(), key=lambda c: c.name):
            if command.admin_only and not ctx.is_admin:
                continue
            lines.append(f"• `{command.usage}` — {command.help}")
        lines.append("• `stop` (in a task's thread) — cancel that task")
        lines.append("Anything else you write in a running task's thread steers it.")
        return "\n".join(lines)

    async def status(ctx: CommandContext) -> str:
        active = pool.active()
        counts = await tasks.counts()
        lines = [
            f"Running {pool.running_count()}/{pool.limits.max_concurrent}, "
            f"queued {pool.queue_depth()}. All time: "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            if counts
            else f"Running {pool.running_count()}/{pool.limits.max_concurrent}, nothing yet."
        ]
        for task in active[:10]:
            lines.append(
                f"• `{task.task_id}` {task.requester.display_name or task.requester.id}: "
                f"{_short(task.goal)}"
            )
        return "\n".join(lines)

    return [
        Command("help", "help", "what I can do and how to ask", help_),
        Command("status", "status", "tasks running and queued", status),
    ]


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
