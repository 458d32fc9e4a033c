"""The `usage` and `local-only` text commands."""

from __future__ import annotations

from core.agent_commands import agent_commands
from core.channel_settings import ChannelSettings
from core.commands import CommandContext
from core.events import ChatRef, IncomingMessage, MessageRef, User
from core.llm.base import Usage
from core.storage import Database
from core.storage.kv import KVStore
from core.storage.usage import UsageStore
from core.usage import UsageRecorder, UsageReporter
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock

CHAT = ChatRef("slack", "C1", "T1")


def ctx(name: str, args: str, *, admin: bool, user: str = "U1") -> CommandContext:
    msg = IncomingMessage(ref=MessageRef(CHAT, "m1"), author=User("slack", user), text=name)
    return CommandContext(
        name=name, args=args, message=msg, chat=CHAT, adapter=FakeAdapter(), is_admin=admin
    )


async def test_local_only_on_off_and_status(db: Database, clock: FakeClock) -> None:
    channels = ChannelSettings(KVStore(db), clock=clock)
    cmds = {c.name: c for c in agent_commands(UsageReporter(UsageStore(db)), channels)}
    local = cmds["local-only"].handler
    assert await local(ctx("local-only", "", admin=False)) == "local-only is off in this channel."
    assert "never call Claude" in (await local(ctx("local-only", "on", admin=False)) or "")
    assert await channels.is_local_only(ChatRef("slack", "C1", "other-thread"))
    assert not await channels.is_local_only(ChatRef("slack", "C2"))
    refused = await local(ctx("local-only", "off", admin=False))
    assert refused and "Only an admin" in refused
    assert await channels.is_local_only(CHAT)
    await local(ctx("local-only", "off", admin=True))
    assert not await channels.is_local_only(CHAT)
    assert "Usage" in (await local(ctx("local-only", "maybe", admin=True)) or "")


async def test_usage_command_reports_spend(db: Database, clock: FakeClock) -> None:
    store = UsageStore(db)
    rec = UsageRecorder(store, cloud_model="claude-opus-4-6", clock=clock)
    await rec.record(
        provider="anthropic",
        model="claude-opus-4-6",
        purpose="escalate",
        usage=Usage(1000, 100),
        user="slack:U1",
    )
    await rec.record(
        provider="ollama",
        model="qwen2.5:3b",
        purpose="execute",
        usage=Usage(1000, 100),
        user="slack:U2",
    )
    cmds = {
        c.name: c
        for c in agent_commands(UsageReporter(store, clock=clock), ChannelSettings(KVStore(db)))
    }
    admin_view = await cmds["usage"].handler(ctx("usage", "", admin=True))
    assert admin_view and "today: 2 calls" in admin_view
    assert "user slack:U1" in admin_view and "user slack:U2" in admin_view
    assert "$0.0075 spent" in admin_view
    own = await cmds["usage"].handler(ctx("usage", "", admin=False, user="U2"))
    assert own and "user slack:U2" in own and "user slack:U1" not in own
