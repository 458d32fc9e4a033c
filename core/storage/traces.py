"""TraceStore: agent tasks that went well, with their tool calls (the factory learns from them)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.storage.db import Database


@dataclass(frozen=True, slots=True, kw_only=True)
class Trace:
    """One successful agent task: its goal, answer and tool calls."""

    task_id: str
    at: float
    chat_key: str
    requester: str
    goal: str
    answer: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list, hash=False)
    embedding: list[float] | None = field(default=None, hash=False)
    learned: str | None = None


class TraceStore:
    """Rows of ``skill_traces``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, trace: Trace) -> None:
        """Store (or replace) a task's trace."""
        await self._db.execute(
            "INSERT OR REPLACE INTO skill_traces(task_id, at, chat_key, requester, goal, answer, "
            "calls, embedding, learned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                trace.task_id,
                trace.at,
                trace.chat_key,
                trace.requester,
                trace.goal,
                trace.answer,
                json.dumps(trace.calls, ensure_ascii=False),
                None if trace.embedding is None else json.dumps(trace.embedding),
                trace.learned,
            ),
        )

    async def unlearned(self, limit: int = 500) -> list[Trace]:
        """The most recent traces not yet turned into a skill."""
        rows = await self._db.fetchall(
            "SELECT * FROM skill_traces WHERE learned IS NULL ORDER BY at DESC LIMIT ?", (limit,)
        )
        return [_trace(r) for r in rows]

    async def learned_since(self, since: float, limit: int = 500) -> list[Trace]:
        """The most recent traces since ``since`` that a skill was drafted from."""
        rows = await self._db.fetchall(
            "SELECT * FROM skill_traces WHERE learned IS NOT NULL AND at >= ?"
            " ORDER BY at DESC LIMIT ?",
            (since, limit),
        )
        return [_trace(r) for r in rows]

    async def in_chat(self, chat_key: str) -> Trace | None:
        """The latest trace of a task that lived in this thread."""
        row = await self._db.fetchone(
            "SELECT * FROM skill_traces WHERE chat_key = ? ORDER BY at DESC LIMIT 1", (chat_key,)
        )
        return None if row is None else _trace(row)

    async def mark_learned(self, task_ids: list[str], name: str) -> None:
        """Remember that these tasks became skill ``name`` (they never trigger again)."""
        for task_id in task_ids:
            await self._db.execute(
                "UPDATE skill_traces SET learned = ? WHERE task_id = ?", (name, task_id)
            )


def _trace(row: Any) -> Trace:
    return Trace(
        task_id=str(row["task_id"]),
        at=float(row["at"]),
        chat_key=str(row["chat_key"]),
        requester=str(row["requester"]),
        goal=str(row["goal"]),
        answer=str(row["answer"]),
        calls=json.loads(row["calls"] or "[]"),
        embedding=json.loads(row["embedding"]) if row["embedding"] else None,
        learned=row["learned"],
    )
