"""The approvals audit trail as JSONL: each approval with every click and note on it."""

from __future__ import annotations

import json
from typing import TextIO

from core.clock import utc
from core.storage.db import Database


def _iso(ts: float | None) -> str | None:
    return utc(ts).isoformat(timespec="seconds") if ts is not None else None


async def export_approvals(db: Database, out: TextIO, *, since: float | None = None) -> int:
    """Write one JSON object per approval (oldest first) to ``out``; returns how many."""
    rows = await db.fetchall(
        "SELECT id, task_id, kind, tool_name, command, cwd, reasons, requester, chat_key, "
        "status, decided_by, reason, created_at, expires_at, decided_at FROM approvals "
        "WHERE created_at >= ? ORDER BY created_at, id",
        (since if since is not None else float("-inf"),),
    )
    count = 0
    for row in rows:
        events = await db.fetchall(
            "SELECT at, actor, action, detail FROM approval_events "
            "WHERE approval_id = ? ORDER BY at, id",
            (row["id"],),
        )
        line = {
            "id": row["id"],
            "task_id": row["task_id"],
            "kind": row["kind"],
            "tool": row["tool_name"],
            "command": row["command"],
            "cwd": row["cwd"],
            "reasons": json.loads(row["reasons"] or "[]"),
            "requester": row["requester"],
            "chat": row["chat_key"],
            "status": row["status"],
            "decided_by": row["decided_by"],
            "reason": row["reason"],
            "created_at": _iso(row["created_at"]),
            "expires_at": _iso(row["expires_at"]),
            "decided_at": _iso(row["decided_at"]),
            "events": [
                {
                    "at": _iso(e["at"]),
                    "actor": e["actor"],
                    "action": e["action"],
                    "detail": e["detail"],
                }
                for e in events
            ],
        }
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        count += 1
    return count
