"""Heartbeat test doubles: a scripted LLM, a scripted prober, a recording approval broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from core.errors import LLMUnavailable
from core.events import ApprovalOutcome, ChatRef, Decision, User
from core.heartbeat.values import Perception, ProbeResult
from core.llm.base import Message, StreamEvent, TextDelta, ToolSpec, TurnEnd, Usage
from core.storage.ticks import TickStore
from tests.fakes.clock import FakeClock


class ScriptedLLM:
    """An LLMClient replaying scripted answers: text, "raise", or "hang"."""

    provider = "scripted"
    model = "scripted-3b"
    num_ctx = 4096

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        system: str = "",
        tools: Sequence[ToolSpec] = (),
        format: dict[str, Any] | None = None,
    ) -> AsyncIterator[StreamEvent]:
        self.calls.append({"messages": list(messages), "system": system, "format": format})
        answer = self.answers.pop(0) if self.answers else "{}"
        if answer == "raise":
            raise LLMUnavailable("Ollama is not reachable at http://127.0.0.1:9")
        if answer == "hang":
            await asyncio.Event().wait()
        half = len(answer) // 2
        for piece in (answer[:half], answer[half:]):
            if piece:
                yield TextDelta(piece)
        yield TurnEnd(
            "end_turn", usage=Usage(prompt_tokens=120, completion_tokens=30), text=answer
        )


def result(check: str, status: str = "ok", summary: str = "", action: str = "") -> ProbeResult:
    """A probe result for scripted perceptions."""
    return ProbeResult(
        check=check,
        kind=check.partition(":")[0],
        status=status,
        summary=summary or status,
        action=action,
    )


class ScriptedProber:
    """Returns the next scripted set of statuses as a perception, stamped with the fake clock."""

    def __init__(self, clock: FakeClock, *ticks: dict[str, str] | list[ProbeResult]) -> None:
        self._clock = clock
        self.ticks = list(ticks)
        self.calls = 0

    def then(self, *ticks: dict[str, str] | list[ProbeResult]) -> None:
        self.ticks.extend(ticks)

    async def perceive(self) -> Perception:
        self.calls += 1
        tick = self.ticks.pop(0) if len(self.ticks) > 1 else self.ticks[0]
        if isinstance(tick, dict):
            results = tuple(result(check, status) for check, status in tick.items())
        else:
            results = tuple(tick)
        return Perception(self._clock.now(), results)


@dataclass
class RecordedRequest:
    chat: ChatRef
    command: str
    cwd: str
    task_id: str
    requester: User
    kind: str


class RecordingBroker:
    """Records approval requests; a test decides them with ``decide``."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._waiting: dict[str, asyncio.Future[ApprovalOutcome]] = {}

    async def request(
        self,
        *,
        chat: ChatRef,
        command: str,
        cwd: str,
        task_id: str,
        requester: User,
        tool_name: str = "shell",
        reasons: tuple[str, ...] = (),
        kind: str = "command",
    ) -> ApprovalOutcome:
        self.requests.append(RecordedRequest(chat, command, cwd, task_id, requester, kind))
        future: asyncio.Future[ApprovalOutcome] = asyncio.get_running_loop().create_future()
        self._waiting[command] = future
        return await future

    def decide(self, command: str, decision: Decision, by: User | None = None) -> None:
        self._waiting.pop(command).set_result(
            ApprovalOutcome(
                decision=decision,
                decided_by=by,
                decided_at=datetime(2026, 1, 1),
                reason=decision.value,
            )
        )

    @property
    def pending(self) -> list[str]:
        return list(self._waiting)


@pytest.fixture
def store(db) -> TickStore:
    """A TickStore on the migrated test database."""
    return TickStore(db)
