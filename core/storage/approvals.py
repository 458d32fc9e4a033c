"""ApprovalStore: approval requests, decisions and the click-by-click audit trail."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from core.events import ApprovalRequest, ChatRef, MessageRef
from core.storage.db import Database

STATUSES = ("pending", "approved", "denied", "expired", "cancelled", "failed")


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalRecord:
    """One stored approval as the audit trail shows it."""

    id: str
    task_id: str
    kind: str
    tool_name: str
    command: str
    cwd: str
    reasons: tuple[str, ...]
    requester: str  # platform:user id
    requester_name: str
    chat: ChatRef
    prompt: MessageRef | None
    status: str
    decided_by: str | None
    decided_by_name: str
    reason: str
    created_at: float
    expires_at: float
    decided_at: float | None

    @property
    def pending(self) -> bool:
        """True until someone (or expiry) decided it."""
        return self.status == "pending"


@dataclass(frozen=True, slots=True)
class ApprovalEvent:
    """One line of the audit trail: who did what to an approval, when."""

    approval_id: str
    at: float
    actor: str | None
    action: str
    detail: str


def _record(row: aiosqlite.Row) -> ApprovalRecord:
    chat = ChatRef(row["platform"], row["channel_id"], row["thread_id"])
    prompt = None
    if row["prompt_id"]:
        prompt_chat = ChatRef(row["platform"], row["prompt_channel"], row["prompt_thread"])
        prompt = MessageRef(prompt_chat, row["prompt_id"])
    return ApprovalRecord(
        id=row["id"],
        task_id=row["task_id"],
        kind=row["kind"],
        tool_name=row["tool_name"],
        command=row["command"],
        cwd=row["cwd"],
        reasons=tuple(json.loads(row["reasons"] or "[]")),
        requester=row["requester"],
        requester_name=row["requester_name"],
        chat=chat,
        prompt=prompt,
        status=row["status"],
        decided_by=row["decided_by"],
        decided_by_name=row["decided_by_name"],
        reason=row["reason"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        decided_at=row["decided_at"],
    )


class ApprovalStore:
    """Approvals in SQLite; the first decision wins, later ones change nothing."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, request: ApprovalRequest, *, created_at: float, expires_at: float) -> None:
        """Store a new pending request (before its prompt is posted)."""
        chat = request.chat
        # Single autocommit statements: the connection is shared by concurrent tasks, and an
        # explicit transaction here could collide with another task's BEGIN.
        await self._db.execute(
            """INSERT INTO approvals (id, task_id, kind, tool_name, command, cwd, reasons,
               requester, requester_name, chat_key, platform, channel_id, thread_id, status,
               created_at, expires_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)""",
            (
                request.id,
                request.task_id,
                request.kind,
                request.tool_name,
                request.command,
                request.cwd,
                json.dumps(list(request.reasons)),
                request.requester.qualified,
                request.requester.display_name,
                chat.key,
                chat.platform,
                chat.channel_id,
                chat.thread_id,
                created_at,
                expires_at,
            ),
        )
        await self.log(
            request.id,
            at=created_at,
            actor=request.requester.qualified,
            action="requested",
            detail=request.command,
        )

    async def set_prompt(self, approval_id: str, prompt: MessageRef, *, at: float) -> None:
        """Remember which message shows the prompt (reactions and restarts need it)."""
        await self._db.execute(
            "UPDATE approvals SET prompt_id = ?, prompt_channel = ?, prompt_thread = ? "
            "WHERE id = ?",
            (prompt.message_id, prompt.chat.channel_id, prompt.chat.thread_id, approval_id),
        )
        await self.log(approval_id, at=at, actor=None, action="posted", detail=prompt.message_id)

    async def decide(
        self,
        approval_id: str,
        *,
        status: str,
        decided_by: str | None,
        decided_by_name: str = "",
        reason: str = "",
        at: float,
    ) -> bool:
        """Close a pending approval; False when it was already closed (first decision wins)."""
        if status not in STATUSES or status == "pending":
            raise ValueError(f"not a final approval status: {status!r}")
        # One UPDATE guarded by status = 'pending' is atomic: of two racing decisions, exactly
        # one changes the row.
        changed = (
            await self._db.execute(
                "UPDATE approvals SET status = ?, decided_by = ?, decided_by_name = ?, "
                "reason = ?, decided_at = ? WHERE id = ? AND status = 'pending'",
                (status, decided_by, decided_by_name, reason, at, approval_id),
            )
            == 1
        )
        if changed:
            await self.log(approval_id, at=at, actor=decided_by, action=status, detail=reason)
        return changed

    async def log(
        self, approval_id: str, *, at: float, actor: str | None, action: str, detail: str = ""
    ) -> None:
        """Add a line to the audit trail (refused clicks, notes, failures)."""
        await self._db.insert(
            "INSERT INTO approval_events (approval_id, at, actor, action, detail) "
            "VALUES (?, ?, ?, ?, ?)",
            (approval_id, at, actor, action, detail),
        )

    async def get(self, approval_id: str) -> ApprovalRecord | None:
        """One approval by id."""
        row = await self._db.fetchone("SELECT * FROM approvals WHERE id = ?", (approval_id,))
        return _record(row) if row else None

    async def find_by_prompt(self, platform: str, message_id: str) -> ApprovalRecord | None:
        """The approval whose prompt is ``message_id`` on ``platform``."""
        row = await self._db.fetchone(
            "SELECT * FROM approvals WHERE platform = ? AND prompt_id = ?", (platform, message_id)
        )
        return _record(row) if row else None

    async def pending(self) -> list[ApprovalRecord]:
        """Approvals still waiting for a decision, oldest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM approvals WHERE status = 'pending' ORDER BY created_at"
        )
        return [_record(r) for r in rows]

    async def recent(self, limit: int = 50) -> list[ApprovalRecord]:
        """The newest approvals, newest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM approvals ORDER BY created_at DESC LIMIT ?", (limit,)
        )
        return [_record(r) for r in rows]

    async def events(self, approval_id: str) -> Sequence[ApprovalEvent]:
        """The audit trail of one approval, in order."""
        rows = await self._db.fetchall(
            "SELECT approval_id, at, actor, action, detail FROM approval_events "
            "WHERE approval_id = ? ORDER BY at, id",
            (approval_id,),
        )
        return [ApprovalEvent(r[0], r[1], r[2], r[3], r[4]) for r in rows]
