"""The /hearth application command: registered at startup, acknowledged at once, answered in
a thread started from the acknowledgement, routed through the core like a mention."""

from __future__ import annotations

from pathlib import Path

from tests.adapters.discord.conftest import APPROVERS, make_adapter, running
from tests.fakes.discord import ALICE, BOB, GENERAL_ID, FakeDiscord
from tests.support.harness import StreamingRunner, core_harness

USERS = frozenset({f"discord:{ALICE['id']}", f"discord:{BOB['id']}"})


async def test_slash_command_is_registered_acked_and_answered_in_a_thread(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    adapter = make_adapter()
    runner = StreamingRunner(["The disk is 42% full."])
    harness = core_harness(
        {"discord": adapter},
        runner,
        db_path=tmp_path / "hearth.db",
        allowed_users=USERS,
        approvers=APPROVERS,
    )
    async with harness as h, running(adapter, h.dispatcher.handle):
        await fake.wait_for(lambda: fake.app_commands)
        [command] = fake.app_commands
        assert command["name"] == "hearth" and command["options"][0]["name"] == "text"
        used = await fake.slash(GENERAL_ID, "hearth", "how full is the disk?")
        await fake.wait_for(lambda: used.response_id and fake.messages_in(used.response_id))
        await fake.wait_for(lambda: h.pool.running_count() == 0)
        helped = await fake.slash(GENERAL_ID, "hearth", "help")
        await fake.wait_for(lambda: helped.response_id and fake.messages_in(helped.response_id))
    # Acknowledged with a visible message (the fake refuses callbacks after 3 s).
    assert used.callbacks[0]["type"] == 4
    root = fake.messages[used.response_id]
    assert root.channel_id == GENERAL_ID
    assert root.content == "**Alice** asked: `/hearth how full is the disk?`"
    assert fake.threads[root.id]["parent_id"] == GENERAL_ID
    [answer] = fake.messages_in(root.id)
    assert answer.content.strip() == "The disk is 42% full."
    [task] = runner.seen
    assert task.goal == "how full is the disk?" and task.chat.thread_id == root.id
    assert task.requester.id == ALICE["id"]
    help_text = fake.messages_in(helped.response_id)[0].content
    assert "Commands:" in help_text
