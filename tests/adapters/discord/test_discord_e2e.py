"""Discord through the real core (dispatcher, task pool, broker): what a user would see."""

from __future__ import annotations

from pathlib import Path

from core.render import CURSOR
from tests.adapters.discord.conftest import APPROVERS, make_adapter, running
from tests.fakes.discord import ALICE, BOB, GENERAL_ID, FakeDiscord
from tests.support.harness import ApprovalRunner, StreamingRunner, core_harness

USERS = frozenset({f"discord:{ALICE['id']}", f"discord:{BOB['id']}"})
CHUNKS = [f"step {i} done\n" for i in range(25)]


def _harness(adapter, tmp_path: Path, runner=None):
    return core_harness(
        {"discord": adapter},
        runner,
        db_path=tmp_path / "hearth.db",
        allowed_users=USERS,
        approvers=APPROVERS,
    )


async def test_mention_becomes_a_streamed_answer_in_a_thread(fake: FakeDiscord, tmp_path) -> None:
    adapter = make_adapter()
    runner = StreamingRunner(CHUNKS)
    async with _harness(adapter, tmp_path, runner) as h, running(adapter, h.dispatcher.handle):
        asked = await fake.user_message(GENERAL_ID, "run the checklist")
        final = "".join(CHUNKS).strip()
        [answer] = await fake.wait_for(
            lambda: [m for m in fake.messages_in(asked.id) if m.content.strip() == final]
        )
        await fake.wait_for(lambda: h.pool.running_count() == 0)
        [task] = runner.seen
        assert task.chat.thread_id == asked.id and task.requester.id == ALICE["id"]

    assert fake.threads[asked.id]["parent_id"] == GENERAL_ID
    assert CURSOR not in answer.content
    assert 1 <= answer.edits <= len(CHUNKS)  # coalesced, never one edit per delta and more
    # Nothing went to the channel itself, nothing was posted twice.
    assert fake.messages_in(GENERAL_ID) == []
    assert sum(final in m.content for m in fake.messages.values()) == 1


async def test_replayed_delivery_runs_once(fake: FakeDiscord, tmp_path) -> None:
    adapter = make_adapter()
    runner = StreamingRunner(["once"])
    async with _harness(adapter, tmp_path, runner) as h, running(adapter, h.dispatcher.handle):
        asked = await fake.user_message(GENERAL_ID, "do it")
        await fake.wait_for(lambda: fake.messages_in(asked.id))
        # The same MESSAGE_CREATE again, as a gateway replay would deliver it.
        await fake.dispatch("MESSAGE_CREATE", fake._message_event(asked))
        # A later request, delivered after the replay: once it ran, the replay was handled.
        later = await fake.user_message(GENERAL_ID, "and this")
        await fake.wait_for(lambda: fake.messages_in(later.id))
        await fake.wait_for(lambda: h.pool.running_count() == 0)
    assert [t.goal for t in runner.seen] == ["do it", "and this"]
    assert [m.content for m in fake.messages_in(asked.id)] == ["once"]


async def test_dm_task_answers_in_the_dm(fake: FakeDiscord, tmp_path) -> None:
    adapter = make_adapter()
    runner = StreamingRunner(["It is ", "fine."])
    dm = fake.dm_channel(BOB)
    async with _harness(adapter, tmp_path, runner) as h, running(adapter, h.dispatcher.handle):
        asked = await fake.user_message(dm, "is the disk ok?", author=BOB, mention=False)
        [answer] = await fake.wait_for(
            lambda: [m for m in fake.messages_in(dm) if m.content == "It is fine."]
        )
        await fake.wait_for(lambda: h.pool.running_count() == 0)
    assert answer.reference == asked.id
    assert not fake.threads


async def test_approval_buttons_decide_a_real_request(fake: FakeDiscord, tmp_path) -> None:
    adapter = make_adapter()
    made: list[ApprovalRunner] = []

    def runner(broker) -> ApprovalRunner:
        made.append(ApprovalRunner(broker, "systemctl restart nginx"))
        return made[-1]

    async with _harness(adapter, tmp_path, runner) as h, running(adapter, h.dispatcher.handle):
        asked = await fake.user_message(GENERAL_ID, "restart nginx", author=BOB)
        [prompt] = await fake.wait_for(
            lambda: [m for m in fake.messages_in(asked.id) if m.has_buttons]
        )
        approve = next(c for c in prompt.custom_ids() if c.endswith(":approve"))

        refused = await fake.click(prompt.id, approve, user=BOB)  # the requester, no approver
        approval_id = approve.split(":")[1]
        note = "@Bob, only approvers can decide this approval."
        await fake.wait_for(lambda: [m for m in fake.messages_in(asked.id) if m.content == note])
        assert prompt.has_buttons

        await fake.click(prompt.id, approve, user=ALICE)
        await fake.wait_for(lambda: made[0].outcomes and h.pool.running_count() == 0)
        record = await h.approvals.get(approve.split(":")[1])
        assert record is not None and record.status == "approved"

        trail = [(e.actor, e.action) for e in await h.approvals.events(approval_id)]

    # The adapter forwarded the non-approver's click; the broker refused and recorded it.
    assert refused.callbacks == [{"type": 6}]
    assert (f"discord:{BOB['id']}", "refused") in trail
    assert trail[-1] == (f"discord:{ALICE['id']}", "approved")
    assert not prompt.has_buttons
    assert prompt.content.endswith("✅ Approved by Alice")
    assert fake.messages_in(asked.id)[-1].content == "`systemctl restart nginx`: approved"
