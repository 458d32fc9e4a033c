"""Text commands of the agent part: `usage` and `local-only on|off`."""

from __future__ import annotations

from core.channel_settings import ChannelSettings
from core.commands import Command, CommandContext
from core.usage import UsageReporter


def agent_commands(usage: UsageReporter, channels: ChannelSettings) -> list[Command]:
    """The `usage` and `local-only` commands, ready for the dispatcher's command table."""

    async def usage_cmd(ctx: CommandContext) -> str:
        # Admins see everyone; others see the totals plus their own line.
        return await usage.report(user=None if ctx.is_admin else ctx.user.qualified)

    async def local_only_cmd(ctx: CommandContext) -> str:
        arg = ctx.args.strip().lower()
        current = await channels.is_local_only(ctx.chat)
        if arg in {"", "status"}:
            state = "on" if current else "off"
            return f"local-only is {state} in this channel."
        if arg not in {"on", "off"}:
            return "Usage: `local-only on|off` (or `local-only` to see the current state)."
        if arg == "off" and not ctx.is_admin:
            return "Only an admin can turn local-only off (it allows paid cloud calls)."
        await channels.set_local_only(ctx.chat, arg == "on")
        if arg == "on":
            return "local-only is on: tasks in this channel never call Claude."
        return "local-only is off: tasks here may escalate to Claude when needed."

    return [
        Command(
            name="usage",
            usage="usage",
            help="LLM calls, tokens, spend and savings: today, 7 days, all time",
            handler=usage_cmd,
        ),
        Command(
            name="local-only",
            usage="local-only on|off",
            help="keep this channel's tasks on the local model (never call Claude)",
            handler=local_only_cmd,
        ),
    ]
