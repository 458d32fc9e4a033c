"""SlackAdapter end to end against FakeSlack: the unmodified bolt/slack_sdk on loopback."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from adapters.slack import SlackAdapter
from core.errors import MessageTooLong, PlatformError, RateLimited
from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalResponse,
    ChatRef,
    Decision,
    IncomingMessage,
    MessageRef,
    Reaction,
    User,
)
from core.render import StreamRenderer
from tests.adapters.slack.conftest import FAST, Recorder, RunningSlack, Starter
from tests.fakes.slack import FakeSlack

WORDS = [f"word{i} " for i in range(40)]


async def stream(adapter: SlackAdapter, chat: ChatRef, parts: list[str], pause: float) -> None:
    """Stream ``parts`` through the real renderer, like a task answering in its thread."""
    async with StreamRenderer(adapter, chat) as out:
        for part in parts:
            out.append(part)
            await asyncio.sleep(pause)


def edit_gaps(fake: FakeSlack, ts: str) -> list[float]:
    times = [c.at for c in fake.calls_of("chat.update") if c.params.get("ts") == ts]
    return [b - a for a, b in itertools.pairwise(times)]


async def test_mention_streams_an_answer_into_its_thread(
    mode: str, start_slack: Starter, fake: FakeSlack
) -> None:
    sink = Recorder()
    slack = await start_slack(mode, sink)
    await slack.deliver(fake.mention("C1", "U1", "summarise **the** logs"))
    (event,) = await sink.wait_for(1)
    assert isinstance(event, IncomingMessage)
    assert event.text == "summarise **the** logs" and event.mentions_bot
    assert event.ref.chat.thread_id == event.ref.message_id  # the task's thread

    await stream(slack.adapter, event.ref.chat, ["**Answer:** ", *WORDS], pause=0.005)

    (answer,) = fake.in_thread("C1", event.ref.message_id)
    assert answer.text == "*Answer:* " + "".join(WORDS).strip()
    assert "▍" not in answer.text
    assert len(fake.calls_of("chat.postMessage")) == 1
    assert 1 <= answer.edits < len(WORDS)  # coalesced, not one edit per delta
    # the renderer never edited faster than the capability allows (lower bound only)
    assert all(gap >= FAST.min_edit_interval * 0.9 for gap in edit_gaps(fake, answer.ts))


async def test_dm_is_answered_in_the_dm(mode: str, start_slack: Starter, fake: FakeSlack) -> None:
    sink = Recorder()
    slack = await start_slack(mode, sink)
    await slack.deliver(fake.dm("D1", "U1", "uptime?"))
    (event,) = await sink.wait_for(1)
    assert isinstance(event, IncomingMessage) and event.is_direct and event.text == "uptime?"
    ref = await slack.adapter.post(event.ref.chat, "up 3 days")
    assert fake.messages[ref.message_id].channel == "D1"
    assert fake.messages[ref.message_id].thread_ts == event.ref.message_id


async def test_redelivered_event_reaches_the_sink_once(
    mode: str, start_slack: Starter, fake: FakeSlack
) -> None:
    """A Slack retry carries the same event_id; it is acked again but not delivered again."""
    sink = Recorder()
    slack = await start_slack(mode, sink)
    payload = fake.mention("C1", "U1", "deploy")
    await slack.deliver(payload)
    await slack.deliver(payload)
    await slack.deliver(fake.mention("C1", "U1", "next"))
    await slack.deliver(fake.mention("C1", "U1", "sentinel"))
    # the sentinel arriving proves the retry before it was handled (and dropped)
    events = await sink.wait_for(3)
    texts = sorted(e.text for e in events if isinstance(e, IncomingMessage))
    assert texts == ["deploy", "next", "sentinel"]
    assert len(events) == 3
    assert (
        next(e for e in events if e.text == "deploy").dedup_key == f"slack:{payload['event_id']}"
    )


async def test_noise_never_reaches_the_core(
    mode: str, start_slack: Starter, fake: FakeSlack
) -> None:
    sink = Recorder()
    slack = await start_slack(mode, sink)
    top = fake.user_message("C1", "U2", "lunch?")
    await slack.deliver(
        fake.event_callback(
            {
                "type": "message",
                "channel_type": "channel",
                "user": "U2",
                "text": "lunch?",
                "ts": top.ts,
                "channel": "C1",
            }
        )
    )
    # a reply in a thread hearth has nothing to do with
    await slack.deliver(fake.thread_reply("C1", "U2", "me!", top.ts))
    # the bot's own echo
    await slack.deliver(
        fake.event_callback(
            {
                "type": "message",
                "channel_type": "channel",
                "user": fake.bot_user_id,
                "bot_id": fake.bot_id,
                "text": "hi",
                "ts": fake.new_ts(),
                "channel": "C1",
            }
        )
    )
    # an edit of a mention
    await slack.deliver(
        fake.event_callback(
            {
                "type": "message",
                "subtype": "message_changed",
                "channel": "C1",
                "message": {"type": "message", "user": "U2", "text": "<@UBOT> x", "ts": top.ts},
                "ts": fake.new_ts(),
                "channel_type": "channel",
            }
        )
    )
    # then one real mention: it must be the only event
    await slack.deliver(fake.mention("C1", "U2", "real"))
    await slack.deliver(fake.mention("C1", "U2", "sentinel"))
    # the sentinel arriving proves everything before it was handled
    events = await sink.wait_for(2)
    assert [e.text for e in events if isinstance(e, IncomingMessage)] == ["real", "sentinel"]
    assert len(events) == 2


async def test_reply_in_a_task_thread_is_forwarded_as_steering(
    mode: str, start_slack: Starter, fake: FakeSlack
) -> None:
    sink = Recorder()
    slack = await start_slack(mode, sink)
    await slack.deliver(fake.mention("C1", "U1", "long job"))
    (start,) = await sink.wait_for(1)
    await slack.adapter.post(start.ref.chat, "working…")
    await slack.deliver(fake.thread_reply("C1", "U1", "stop", start.ref.message_id))
    _, reply = await sink.wait_for(2)
    assert isinstance(reply, IncomingMessage)
    assert reply.text == "stop" and reply.in_thread and not reply.mentions_bot
    assert reply.ref.chat == start.ref.chat


async def test_bad_signature_is_rejected(start_slack: Starter, fake: FakeSlack) -> None:
    sink = Recorder()
    slack = await start_slack("http", sink)
    payload = fake.mention("C1", "U1", "rm everything")
    status, _ = await fake.post_signed(slack.events_url, payload, signature="v0=" + "0" * 64)
    assert status == 401
    stale = fake.sign("{}", timestamp=1_000_000_000)["X-Slack-Signature"]
    status, _ = await fake.post_signed(slack.events_url, payload, signature=stale)
    assert status == 401
    status, _ = await fake.post_signed(slack.events_url, payload)
    assert status == 200
    # the signed delivery arriving is the positive signal: the rejected ones delivered nothing
    events = await sink.wait_for(1)
    assert len(events) == 1


async def test_url_verification_challenge(start_slack: Starter, fake: FakeSlack) -> None:
    slack = await start_slack("http", Recorder())
    status, body = await fake.post_signed(
        slack.events_url, {"type": "url_verification", "challenge": "c-123", "token": "t"}
    )
    assert status == 200 and "c-123" in body


def _request(chat: ChatRef, command: str = "rm -rf build") -> ApprovalRequest:
    return ApprovalRequest(
        id="Ab3_x",
        chat=chat,
        command=command,
        cwd="/work",
        task_id="t1",
        requester=User("slack", "U1", "ann"),
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )


async def test_button_click_becomes_an_approval_response(
    mode: str, start_slack: Starter, fake: FakeSlack
) -> None:
    sink = Recorder()
    slack = await start_slack(mode, sink)
    chat = ChatRef("slack", "C1", fake.user_message("C1", "U1", "x").ts)
    prompt = await slack.adapter.ask_approval(chat, _request(chat))
    message = fake.messages[prompt.message_id]
    assert message.thread_ts == chat.thread_id
    assert "```\nrm -rf build\n```" in message.block_text
    assert [b["action_id"] for b in message.buttons] == ["appr:Ab3_x:approve", "appr:Ab3_x:deny"]

    await slack.deliver(fake.button_click("U9", message, "appr:Ab3_x:approve"))
    (response,) = await sink.wait_for(1)
    assert isinstance(response, ApprovalResponse)
    assert response.approval_id == "Ab3_x" and response.decision is Decision.APPROVE
    assert response.user.qualified == "slack:U9"
    assert response.prompt == prompt

    outcome = ApprovalOutcome(
        decision=Decision.APPROVE, decided_by=response.user, decided_at=datetime.now(UTC)
    )
    await slack.adapter.close_approval(prompt, outcome)
    assert message.buttons == []
    assert "✅ Approved by u9" in message.block_text
    assert "rm -rf build" in message.block_text


async def test_unknown_button_is_acked_and_ignored(
    mode: str, start_slack: Starter, fake: FakeSlack
) -> None:
    sink = Recorder()
    slack = await start_slack(mode, sink)
    chat = ChatRef("slack", "C1", None)
    prompt = await slack.adapter.ask_approval(chat, _request(chat))
    await slack.deliver(
        fake.button_click("U9", fake.messages[prompt.message_id], "appr:Ab3_x:boom")
    )
    await slack.deliver(fake.mention("C1", "U9", "sentinel"))
    # the sentinel arriving proves the click before it was handled (and ignored)
    events = await sink.wait_for(1)
    assert [getattr(e, "text", e) for e in events] == ["sentinel"]


async def test_rate_limited_edit_delays_but_loses_nothing(
    mode: str, start_slack: Starter, fake: FakeSlack
) -> None:
    sink = Recorder()
    slack = await start_slack(mode, sink)
    await slack.deliver(fake.mention("C1", "U1", "go"))
    (event,) = await sink.wait_for(1)
    fake.rate_limit("chat.update", times=2, retry_after=0)

    await stream(slack.adapter, event.ref.chat, WORDS, pause=0.005)

    (answer,) = fake.in_thread("C1", event.ref.message_id)
    assert answer.text == "".join(WORDS).strip()
    assert len([c for c in fake.calls_of("chat.update") if c.status == 429]) == 2
    assert len(fake.calls_of("chat.postMessage")) == 1  # never a duplicate message


async def test_edit_raises_rate_limited_with_retry_after(
    start_slack: Starter, fake: FakeSlack
) -> None:
    slack = await start_slack("socket", Recorder())
    ref = await slack.adapter.post(ChatRef("slack", "C1", None), "a")
    fake.rate_limit("chat.update", times=1, retry_after=1)
    with pytest.raises(RateLimited) as info:
        await slack.adapter.edit(ref, "b")
    assert info.value.retry_after == 1.0
    assert fake.messages[ref.message_id].text == "a"  # the SDK did not retry on its own
    await slack.adapter.edit(ref, "b")
    assert fake.messages[ref.message_id].text == "b"


async def test_post_is_retried_after_429_and_posted_once(
    start_slack: Starter, fake: FakeSlack
) -> None:
    slack = await start_slack("socket", Recorder())
    fake.rate_limit("chat.postMessage", times=1, retry_after=0)
    ref = await slack.adapter.post(ChatRef("slack", "C1", None), "hello")
    assert fake.messages[ref.message_id].text == "hello"
    statuses = [c.status for c in fake.calls_of("chat.postMessage")]
    assert statuses == [429, 200]


async def test_errors_are_translated(start_slack: Starter, fake: FakeSlack) -> None:
    slack = await start_slack("socket", Recorder())
    chat = ChatRef("slack", "C1", None)
    with pytest.raises(MessageTooLong):
        await slack.adapter.post(chat, "x" * 41_000)
    with pytest.raises(PlatformError, match="message_not_found"):
        await slack.adapter.edit(MessageRef(chat, "1.2"), "x")


async def test_reactions_both_ways(mode: str, start_slack: Starter, fake: FakeSlack) -> None:
    sink = Recorder()
    slack = await start_slack(mode, sink)
    report = await slack.adapter.post(ChatRef("slack", "C9", None), "heartbeat: ok")
    await slack.adapter.react(report, "👍")
    await slack.adapter.react(report, "👍")  # idempotent
    message = fake.messages[report.message_id]
    assert message.reactions == [("+1", fake.bot_user_id)]

    await slack.deliver(fake.reaction_added("U1", "-1", message))
    (reaction,) = await sink.wait_for(1)
    assert isinstance(reaction, Reaction)
    assert reaction.target == report and reaction.key == "👎" and reaction.user.id == "U1"


async def test_bad_bot_token_fails_run(fake: FakeSlack) -> None:
    adapter = SlackAdapter(bot_token="xoxb-wrong", app_token=fake.app_token, api_url=fake.base_url)
    with pytest.raises(PlatformError, match="invalid_auth"):
        await asyncio.wait_for(adapter.run(Recorder()), 5)
    assert not adapter.connected


async def test_bad_app_token_fails_run(fake: FakeSlack) -> None:
    adapter = SlackAdapter(bot_token=fake.bot_token, app_token="xapp-wrong", api_url=fake.base_url)
    with pytest.raises(PlatformError, match="invalid_auth"):
        await asyncio.wait_for(adapter.run(Recorder()), 5)
    assert not adapter.connected


async def test_socket_mode_reconnects_after_connection_loss(
    start_slack: Starter, fake: FakeSlack
) -> None:
    sink = Recorder()
    slack = await start_slack("socket", sink)
    assert slack.adapter.connected
    await fake.drop_socket()
    async with asyncio.timeout(5):
        while fake.socket_connections < 2:
            await asyncio.sleep(0.01)
    await slack.deliver(fake.mention("C1", "U1", "still there?"))
    (event,) = await sink.wait_for(1)
    assert event.text == "still there?"
    assert len(fake.calls_of("apps.connections.open")) == 2


async def test_cancel_closes_everything(mode: str, fake: FakeSlack) -> None:
    kwargs = (
        {"app_token": fake.app_token}
        if mode == "socket"
        else {"signing_secret": fake.signing_secret, "http_addr": "127.0.0.1:0"}
    )
    adapter = SlackAdapter(bot_token=fake.bot_token, api_url=fake.base_url, **kwargs)
    task = asyncio.create_task(adapter.run(Recorder()), name="slack-cancel")
    async with asyncio.timeout(5):
        await adapter.wait_ready()
    assert adapter.connected
    port = adapter.bound_port
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not adapter.connected
    if port is not None:
        with pytest.raises(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()


async def test_run_can_be_restarted_by_a_supervisor(mode: str, fake: FakeSlack) -> None:
    kwargs = (
        {"app_token": fake.app_token}
        if mode == "socket"
        else {"signing_secret": fake.signing_secret, "http_addr": "127.0.0.1:0"}
    )
    adapter = SlackAdapter(
        bot_token=fake.bot_token, api_url=fake.base_url, capabilities=FAST, **kwargs
    )
    for round_ in range(2):
        sink = Recorder()
        task = asyncio.create_task(adapter.run(sink), name=f"slack-restart-{round_}")
        try:
            async with asyncio.timeout(5):
                await adapter.wait_ready()
            slack = RunningSlack(adapter, fake, mode)
            await slack.deliver(fake.mention("C1", "U1", f"round {round_}"))
            (event,) = await sink.wait_for(1)
            assert event.text == f"round {round_}"
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert not adapter.connected


def test_needs_a_mode() -> None:
    with pytest.raises(ValueError):
        SlackAdapter(bot_token="xoxb-x")


async def test_web_api_calls_share_one_pooled_connection(
    mode: str, start_slack: Starter, fake: FakeSlack
) -> None:
    """Each call on its own connection would pay a TLS handshake per call on real Slack."""
    slack = await start_slack(mode, Recorder())
    chat = ChatRef("slack", "C1", None)
    for i in range(10):
        ref = await slack.adapter.post(chat, f"message {i}")
        await slack.adapter.edit(ref, f"message {i}, edited")
    assert len(fake.calls_of("chat.postMessage")) == 10
    # auth.test and apps.connections.open may come before the pool exists; 20 calls do not
    # each open their own.
    assert len(fake.api_connections) <= 3, fake.api_connections
