"""The tool registry is built once by the wiring and shared by every task; the task that calls
a tool comes with the call (its context), never with a registry built for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.tools.base import ToolContext
from core.tools.registry import ToolRegistry
from core.tools.sandbox import Sandbox
from tests.bot.test_wiring_e2e import CHANNEL, _thread, running, until


async def test_a_second_task_reuses_the_same_tool_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[ToolRegistry, ToolContext]] = []
    real_run = ToolRegistry.run

    async def seen_run(self: ToolRegistry, call, ctx: ToolContext):  # type: ignore[no-untyped-def]
        calls.append((self, ctx))
        return await real_run(self, call, ctx)  # type: ignore[arg-type]

    monkeypatch.setattr(ToolRegistry, "run", seen_run)
    # About the environment, not the sandbox: without bwrap every command would ask.
    sandbox = "auto" if Sandbox("auto", workspace=tmp_path).confines else "off"
    async with running(tmp_path, TOOL_SANDBOX=sandbox) as (slack, ollama, _):
        roots = []
        for word in ("first", "second"):
            ollama.queue_json({"subtasks": [f"say {word}"]})
            ollama.queue_tool_calls([("shell", {"command": f"echo {word}-ran"})])
            ollama.queue_text(f"Said {word}.\nCONFIDENCE: 0.9")
            event = slack.mention(CHANNEL, "UANA", f"say {word}")
            await slack.send_envelope(event)
            root = event["event"]["ts"]
            roots.append(root)
            done = f"Said {word}."
            await until(lambda r=root, d=done: any(d in m.text for m in _thread(slack, r)))
    outputs = [m["content"] for r in ollama.requests for m in r["messages"] if m["role"] == "tool"]
    assert any("first-ran" in o for o in outputs) and any("second-ran" in o for o in outputs)
    assert len(calls) == 2
    (first, first_ctx), (second, second_ctx) = calls
    assert first is second  # one registry: its tools' models and schemas built once
    assert first.get("shell") is second.get("shell")
    assert first_ctx.task_id != second_ctx.task_id  # each call knows its own task
    assert [first_ctx.chat.thread_id, second_ctx.chat.thread_id] == roots
