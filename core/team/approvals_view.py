"""The approval audit in view: `approvals` in chat and `hearth export approvals` as JSONL."""

from __future__ import annotations

import json
from typing import TextIO

from core.clock import SystemClock, utc
from core.commands import Command, CommandContext
from core.ports import Clock
from core.storage.approval_history import ApprovalHistory
from core.storage.approvals import ApprovalRecord

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


def _iso(ts: float | None) -> str | None:
    return utc(ts).isoformat() if ts is not None else None


def approval_line(record: ApprovalRecord, events: list) -> dict[str, object]:
    """One approval as an export object: request, command, who asked, who decided, times."""
    return {
        "id": record.id,
        "task_id": record.task_id,
        "kind": record.kind,
        "tool": record.tool_name,
        "command": record.command,
        "cwd": record.cwd,
        "reasons": list(record.reasons),
        "requester": record.requester,
        "requester_name": record.requester_name,
        "chat": record.chat.key,
        "outcome": record.status,
        "decided_by": record.decided_by,
        "decided_by_name": record.decided_by_name,
        "reason": record.reason,
        "requested_at": _iso(record.created_at),
        "decided_at": _iso(record.decided_at),
        "expires_at": _iso(record.expires_at),
        "events": [
            {"at": _iso(e.at), "actor": e.actor, "action": e.action, "detail": e.detail}
            for e in events
        ],
    }


async def export_approvals(history: ApprovalHistory, out: TextIO, *, since: float | None) -> int:
    """Write every approval since ``since`` as JSONL, in request order; returns the count."""
    records = await history.since(since)
    events = await history.events_of([r.id for r in records])
    for record in records:
        out.write(json.dumps(approval_line(record, events[record.id]), ensure_ascii=False))
        out.write("\n")
    return len(records)
