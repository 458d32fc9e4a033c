"""A 100 KB answer, streamed in small chunks, stands in its Slack thread exactly as written.

The whole process as `hearth run` builds it (Socket Mode, agent, live answer, pacer, the real
Slack adapter) against the loopback Slack and Ollama fakes.
"""

from __future__ import annotations

from pathlib import Path

from bench.longanswer.answers import chunked, long_answer, server_parts
from core.render import CURSOR
from tests.bot.test_wiring_e2e import CHANNEL, running, until
from tests.fakes.ollama import ScriptedReply
from tests.fakes.slack import FakeSlack


def answer_parts(slack: FakeSlack, root: str, opening: str) -> list[str]:
    messages = slack.in_thread(CHANNEL, root)
    first = next((i for i, m in enumerate(messages) if m.text.startswith(opening)), None)
    return [] if first is None else [m.text for m in messages[first:]]


async def test_a_100_kb_answer_stands_in_its_thread_split_and_whole(tmp_path: Path) -> None:
    answer = long_answer(100_000)
    body = answer + "\nCONFIDENCE: 0.9"
    want = server_parts(answer)  # split at Slack's limit, each part as mrkdwn
    async with running(tmp_path) as (slack, ollama, _):
        ollama.queue_json({"subtasks": ["write the long report"]})
        ollama.replies.append(ScriptedReply("text", text=body, chunks=chunked(body)))
        event = slack.mention(CHANNEL, "UANA", "write the long report")
        root = event["event"]["ts"]
        await slack.send_envelope(event)
        await until(lambda: answer_parts(slack, root, want[0][:20]) == want, timeout=60)
        await until(lambda: "✅ Done" in slack.in_thread(CHANNEL, root)[0].text, timeout=30)
        thread = slack.in_thread(CHANNEL, root)
    assert len(want) > 30
    # The card, then every part once, in order: nothing lost, nothing posted twice.
    assert [m.text for m in thread[1:]] == want
    assert all(len(m.text) <= 3000 and CURSOR not in m.text for m in thread[1:])
    assert not any("CONFIDENCE" in text for m in thread for text in m.history)
