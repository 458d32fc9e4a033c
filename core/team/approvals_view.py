"""The approval audit in view: `approvals` in chat (the JSONL export is core.storage.audit)."""

from __future__ import annotations

from core.clock import SystemClock
from core.commands import Command, CommandContext
from core.ports import Clock
from core.storage.approval_history import ApprovalHistory

RECENT = 20


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def approvals_command(history: ApprovalHistory, *, clock: Clock | None = None) -> Command:
    """`approvals` (pending here, with ids and ages) and `approvals recent` (last 20 here)."""
    clock = clock or SystemClock()

    async def handler(ctx: CommandContext) -> str:
        arg = ctx.args.strip().lower()
        now = clock.now()
        where = (ctx.chat.platform, ctx.chat.channel_id)
        if arg in {"", "pending"}:
            records = await history.pending_in(*where)
            if not records:
                return "No approvals are waiting in this channel."
            lines = [f"{len(records)} approval(s) waiting here:"]
            for r in records:
                lines.append(
                    f"• `{r.id}` {_age(now - r.created_at)} ago · "
                    f"{r.requester_name or r.requester}: `{_short(r.command)}`"
                )
            return "\n".join(lines)
        if arg == "recent":
            records = await history.decided_in(*where, limit=RECENT)
            if not records:
                return "No approvals were decided in this channel yet."
            lines = [f"Last {len(records)} decision(s) here, newest first:"]
            for r in records:
                who = r.decided_by_name or r.decided_by or "hearth"
                when = _age(now - (r.decided_at or r.created_at))
                lines.append(f"• `{r.id}` {r.status} by {who} {when} ago · `{_short(r.command)}`")
            return "\n".join(lines)
        return "Usage: `approvals` (waiting here) or `approvals recent` (last 20 decisions here)."

    return Command(
        name="approvals",
        usage="approvals [recent]",
        help="approvals waiting in this channel, or the last 20 decisions here",
        handler=handler,
    )
