"""End to end through the real core: dispatcher, approval broker, usage; a recording adapter."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from core.commands import Command, CommandContext
from core.events import (
    ApprovalResponse,
    ChatRef,
    Decision,
    IncomingMessage,
    MessageRef,
    Reaction,
    User,
)
from core.heartbeat.decide import ModelDecider
from core.heartbeat.service import Heartbeat
from core.heartbeat_commands import heartbeat_command
from core.storage.ticks import TickStore
from core.storage.usage import UsageStore
from core.usage import UsageRecorder
from tests.core.heartbeat.conftest import ScriptedLLM, ScriptedProber
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock
from tests.support.harness import core_harness

CHANNEL = ChatRef("fake", "C-ops")
ANA = User("fake", "U1", "Ana")
EVE = User("fake", "U666", "Eve")


async def until(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_report_approval_label_and_chat_command(tmp_path: Path) -> None:
    adapter = FakeAdapter()
    clock = FakeClock()
    holder: dict[str, Heartbeat] = {}

    async def run_heartbeat(ctx: CommandContext) -> str | None:
        return await heartbeat_command(holder["hb"]).handler(ctx)

    command = Command("heartbeat", "heartbeat", "Run the health checks now.", run_heartbeat)
    async with core_harness(
        {"fake": adapter},
        db_path=tmp_path / "hearth.db",
        allowed_users=frozenset({"fake:U1"}),
        approvers=frozenset({"fake:U1"}),
        commands=[command],
    ) as h:
        adapter.bind(h.dispatcher.handle)
        answer = {"actions": ["pwd"], "severity": "warning", "reasoning": "Disk root is filling."}
        llm = ScriptedLLM(json.dumps(answer), json.dumps(answer))
        usage = UsageStore(h.db)
        hb = holder["hb"] = Heartbeat(
            prober=ScriptedProber(clock, {"disk:root": "warning"}),
            decider=ModelDecider(llm, clock=clock),
            store=TickStore(h.db),
            clock=clock,
            workspace=tmp_path,
            adapters={"fake": adapter},
            channel=CHANNEL,
            broker=h.broker,
            labelers=frozenset({"fake:U1"}),
            usage=UsageRecorder(usage, cloud_model="claude-opus-4-6", clock=clock),
        )
        h.dispatcher.add_reaction_handler(hb.on_reaction)

        tick = await hb.tick()
        assert tick.posted is not None and tick.source == "model"
        # The suggested action becomes a real approval prompt in the report's thread.
        await until(lambda: len(adapter.approval_requests) == 1)
        (request,) = adapter.approval_requests
        assert request.command == "pwd" and request.kind == "heartbeat-action"
        assert request.chat == CHANNEL.in_thread(tick.posted.message_id)
        assert not any(t.startswith("▶️") for t in adapter.texts())  # nothing runs unapproved

        # A non-approver's click does nothing; the approver's click runs it once.
        await adapter.receive(
            ApprovalResponse(approval_id=request.id, decision=Decision.APPROVE, user=EVE)
        )
        assert not any(t.startswith("▶️") for t in adapter.texts())
        await adapter.receive(
            ApprovalResponse(approval_id=request.id, decision=Decision.APPROVE, user=ANA)
        )
        await hb.drain(timeout=5)
        ran = [t for t in adapter.texts() if t.startswith("▶️ Ran `pwd` (approved by Ana): exit 0")]
        assert len(ran) == 1 and str(tmp_path) in ran[0]

        # 👍 from an allowed user labels the tick; Eve's 👎 does not count.
        report = tick.posted
        await adapter.receive(Reaction(target=report, key="👎", user=EVE, event_id="r0"))
        await adapter.receive(Reaction(target=report, key="👍", user=ANA, event_id="r1"))
        row = await TickStore(h.db).get(tick.tick_id)
        assert row is not None and row.label == "chosen"

        # The model call was accounted as heartbeat usage (local: cost 0).
        (call,) = await usage.rows()
        assert call.purpose == "heartbeat" and call.prompt_tokens == 120 and call.cost_usd == 0

        # `heartbeat` in chat runs a tick now and answers in the thread.
        thread = ChatRef("fake", "C-dev", "m100")
        await adapter.receive(
            IncomingMessage(
                ref=MessageRef(thread, "m100"),
                author=ANA,
                text="heartbeat",
                mentions_bot=True,
                event_id="e1",
            )
        )
        await until(lambda: any("Heartbeat: WARNING" in t for t in adapter.texts(thread)))
        assert len(llm.calls) == 2
        await hb.close()
