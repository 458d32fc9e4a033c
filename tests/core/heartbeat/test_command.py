"""The `heartbeat` chat command runs a tick now and answers with the report."""

from __future__ import annotations

from core.commands import CommandContext
from core.events import ChatRef, IncomingMessage, MessageRef, User
from core.heartbeat.service import Heartbeat
from core.heartbeat_commands import heartbeat_command
from tests.core.heartbeat.conftest import ScriptedProber
from tests.fakes.adapter import FakeAdapter

THREAD = ChatRef("fake", "C-dev", "t1")
CHANNEL = ChatRef("fake", "C-ops")


def context(adapter: FakeAdapter) -> CommandContext:
    message = IncomingMessage(
        ref=MessageRef(THREAD, "t1"), author=User("fake", "U1", "Ana"), text="heartbeat"
    )
    return CommandContext(
        name="heartbeat", args="", message=message, chat=THREAD, adapter=adapter, is_admin=False
    )


async def test_heartbeat_command_answers_with_the_report(store, clock, adapter, tmp_path) -> None:
    prober = ScriptedProber(clock, {"disk:root": "critical"})
    hb = Heartbeat(
        prober=prober,
        decider=None,
        store=store,
        clock=clock,
        workspace=tmp_path,
        adapters={"fake": adapter},
        channel=CHANNEL,
    )
    command = heartbeat_command(hb)
    assert command.name == "heartbeat" and not command.admin_only
    reply = await command.handler(context(adapter))
    assert reply is not None
    assert reply.startswith("🔴 **Heartbeat: CRITICAL**")
    assert "🔴 disk:root: critical" in reply
    assert reply.endswith("(Also posted to the heartbeat channel.)")
    assert "React 👍" not in reply  # reactions on the chat reply would not label anything
    assert adapter.texts(CHANNEL)[0].endswith("👎 if not.")
    (row,) = await store.history()
    assert row.severity == "critical" and row.reported
    assert prober.calls == 1


async def test_heartbeat_command_reports_a_failure_in_one_line(store, clock, adapter, tmp_path):
    class Broken:
        async def perceive(self):
            raise OSError("no /proc here")

    hb = Heartbeat(prober=Broken(), decider=None, store=store, clock=clock, workspace=tmp_path)
    reply = await heartbeat_command(hb).handler(context(adapter))
    assert reply == "Heartbeat failed: no /proc here"
