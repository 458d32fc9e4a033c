"""End to end against Synapse's DEFAULT message rate limit (burst 10, then 1 per 5 s).

The one slow test of the Matrix suite: it waits for real 429 back-offs (about 5 s each).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.errors import RateLimited
from core.events import ChatRef
from core.metrics import Metrics
from core.ports import Capabilities
from core.render import StreamRenderer
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.synapse


async def test_streamed_answer_completes_under_default_rate_limits(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    human = await make_human("ana")
    reg = await synapse.aregister("hearth", exempt=False)  # the bot keeps the default limit
    # A short edit interval makes the renderer run into the homeserver's limit quickly.
    caps = Capabilities(max_message_chars=16_000, min_edit_interval=0.05, buttons=False)
    bot = await make_bot(
        reg, tmp_path / "m", capabilities=caps, allowed=frozenset({f"matrix:{human.user_id}"})
    )
    room = await human.create_room(invite=[reg.user_id], direct=True)
    await human.wait_joined(room, reg.user_id)
    root = await human.say(room, "write me a long answer")

    words: list[str] = []
    metrics = Metrics()
    async with StreamRenderer(bot.adapter, ChatRef("matrix", room, root), metrics=metrics) as out:
        # Stream until the homeserver has pushed back at least once (a slow, loaded server
        # needs more words to exhaust the burst), plus a few words that arrive while throttled.
        for i in range(400):
            if metrics.total("hearth_chat_rate_limited_total") and len(words) >= 40:
                break
            words.append(f"word{i} ")
            out.append(words[-1])
            await asyncio.sleep(0.03)
    answer = out.messages[0].message_id

    expected = "".join(words).strip()
    await human.wait_until(
        lambda: human.content_of(answer).get("body", "").strip() == expected, timeout=60
    )
    assert metrics.total("hearth_chat_rate_limited_total") >= 1  # the limit was really hit
    assert len(out.messages) == 1  # throttling never produced a duplicate message
    assert len(human.bot_messages(room, reg.user_id)) == 1


async def test_a_throttled_edit_raises_rate_limited_at_once(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    """nio must not sleep inside edit(): the renderer decides what to do with the wait."""
    human = await make_human("ana")
    reg = await synapse.aregister("hearth", exempt=False)
    bot = await make_bot(reg, tmp_path / "m", allowed=frozenset({f"matrix:{human.user_id}"}))
    room = await human.create_room(invite=[reg.user_id], direct=True)
    await human.wait_joined(room, reg.user_id)
    ref = await bot.adapter.post(ChatRef("matrix", room), "v0")
    with pytest.raises(RateLimited) as caught:
        for i in range(1, 20):  # the burst is 10 events; the post used one
            await bot.adapter.edit(ref, f"v{i}")
    assert 0 < caught.value.retry_after <= 6


async def test_a_final_answer_is_paced_at_most_a_second_behind_its_draft(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    """The adapter's own pace (the homeserver's limit is kept by its 429s, above)."""
    human = await make_human("ana")
    reg = await synapse.aregister("hearth")  # exempt, as docs/matrix.md recommends for bots
    bot = await make_bot(reg, tmp_path / "m", allowed=frozenset({f"matrix:{human.user_id}"}))
    room = await human.create_room(invite=[reg.user_id], direct=True)
    await human.wait_joined(room, reg.user_id)
    root = await human.say(room, "how are the disks?")
    clock = FakeClock(auto_advance=False)  # the pacer's time moves only when told
    out = StreamRenderer(bot.adapter, ChatRef("matrix", room, root), clock=clock)
    out.append("All good")
    draft = await human.wait_for(
        lambda e: e.get("sender") == reg.user_id and e["content"].get("body") == "All good ▍"
    )
    finishing = asyncio.create_task(out.finish())
    clock.advance(1.0)
    await human.wait_until(lambda: human.content_of(draft["event_id"]).get("body") == "All good")
    await finishing
