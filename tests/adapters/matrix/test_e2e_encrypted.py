"""End to end against a real Synapse: encrypted DMs and rooms work like plain ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.matrix.crypto import UNVERIFIED_NOTICE
from adapters.matrix.session import SessionStore
from core.events import ApprovalRequest, ApprovalResponse, Decision, IncomingMessage
from tests.adapters.matrix.conftest import Recorder

pytestmark = pytest.mark.synapse


def _incoming(text: str):
    return lambda e: isinstance(e, IncomingMessage) and e.text == text


async def _raw_event(synapse, human, room: str, event_id: str) -> dict[str, Any]:
    """The event as the homeserver stores it (what anyone without the keys would see)."""
    async with httpx.AsyncClient(base_url=synapse.url) as http:
        resp = await http.get(
            f"/_matrix/client/v3/rooms/{room}/event/{event_id}",
            headers={"Authorization": f"Bearer {human.reg.access_token}"},
        )
    resp.raise_for_status()
    return resp.json()


async def _encrypted_dm(synapse, make_human, make_bot, store: Path, sink: Recorder, **bot_kw):
    human = await make_human("ana", encrypted=True)
    reg = await synapse.aregister("hearth")
    bot = await make_bot(
        reg,
        store,
        sink=sink,
        password_login=True,
        allowed=frozenset({f"matrix:{human.user_id}"}),
        **bot_kw,
    )
    room = await human.create_room(invite=[reg.user_id], direct=True, encrypted=True)
    await human.wait_joined(room, reg.user_id)
    return human, bot, room


async def test_an_encrypted_dm_is_answered_encrypted_and_edits_decrypt(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    sink = Recorder()
    human, bot, room = await _encrypted_dm(synapse, make_human, make_bot, tmp_path / "m", sink)
    asked = await human.say(room, "how full are the disks?")
    assert (await _raw_event(synapse, human, room, asked))["type"] == "m.room.encrypted"
    event = await sink.wait_for(_incoming("how full are the disks?"))
    assert event.is_direct

    answer = await bot.adapter.post(event.ref.chat, "Disks: / is 41% full")
    await bot.adapter.edit(answer, "Disks: / is 41% full, /var is 77% full")
    await human.wait_until(lambda: human.edits_of(answer.message_id) == 1)
    shown = human.content_of(answer.message_id)
    assert shown["body"] == "Disks: / is 41% full, /var is 77% full"
    # In the task's thread, and encrypted on the server: the edit too.
    original = next(e for e in human.timeline if e.get("event_id") == answer.message_id)
    assert original["content"]["m.relates_to"]["rel_type"] == "m.thread"
    assert (await _raw_event(synapse, human, room, answer.message_id))["type"] == (
        "m.room.encrypted"
    )
    edit = next(
        e
        for e in human.timeline
        if e.get("content", {}).get("m.relates_to", {}).get("rel_type") == "m.replace"
    )
    assert (await _raw_event(synapse, human, room, edit["event_id"]))["type"] == (
        "m.room.encrypted"
    )
    saved = SessionStore(tmp_path / "m").load()
    assert saved is not None and saved.encrypted and saved.trusted_devices >= 1


async def test_an_encrypted_group_room_takes_mentions_and_reaction_approvals(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    requester = await make_human("dev", encrypted=True)
    approver = await make_human("ops", encrypted=True)
    reg = await synapse.aregister("hearth")
    sink = Recorder()
    bot = await make_bot(
        reg,
        tmp_path / "m",
        sink=sink,
        allowed=frozenset({f"matrix:{requester.user_id}", f"matrix:{approver.user_id}"}),
    )
    room = await requester.create_room(invite=[reg.user_id, approver.user_id], encrypted=True)
    await approver.client.join(room)
    await requester.wait_joined(room, reg.user_id)
    await requester.wait_joined(room, approver.user_id)
    await requester.say(room, f"{reg.user_id} clean the build dir")
    msg = await sink.wait_for(_incoming("clean the build dir"))
    assert msg.mentions_bot

    request = ApprovalRequest(
        id="e2eE_1",
        chat=msg.ref.chat,
        command="rm -rf ./build",
        cwd="/srv/app",
        task_id="t1",
        requester=msg.author,
        reasons=("deletes files",),
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )
    prompt = await bot.adapter.ask_approval(msg.ref.chat, request)
    # Both people can read the prompt: the room key reached every member's device.
    for person in (requester, approver):
        await person.wait_until(
            lambda p=person: "rm -rf ./build" in p.content_of(prompt.message_id).get("body", "")
        )
    await approver.react(room, prompt.message_id, "✅")
    answer = await sink.wait_for(lambda e: isinstance(e, ApprovalResponse))
    assert answer.approval_id == "e2eE_1" and answer.decision is Decision.APPROVE
    assert answer.user.qualified == f"matrix:{approver.user_id}"


async def test_a_restart_keeps_the_device_and_still_decrypts(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    store = tmp_path / "m"
    first = Recorder()
    human, bot, room = await _encrypted_dm(synapse, make_human, make_bot, store, first)
    device = bot.adapter.device_id
    await human.say(room, "before the restart")
    await first.wait_for(_incoming("before the restart"))
    await bot.stop()

    second = Recorder()
    again = await make_bot(bot.reg, store, sink=second, password_login=True)
    assert again.adapter.device_id == device
    await human.say(room, "after the restart")
    await second.wait_for(_incoming("after the restart"))
    assert [e.text for e in second.events if isinstance(e, IncomingMessage)] == [
        "after the restart"
    ]
    reply = await again.adapter.post(_chat_of(second), "still here")
    await human.wait_until(lambda: human.content_of(reply.message_id).get("body") == "still here")


def _chat_of(sink: Recorder):
    """The chat of the last message the bot received."""
    return next(e for e in reversed(sink.events) if isinstance(e, IncomingMessage)).ref.chat


async def test_under_verified_an_unverified_device_is_refused_with_a_note(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    sink = Recorder()
    human, bot, room = await _encrypted_dm(
        synapse, make_human, make_bot, tmp_path / "m", sink, trust="verified"
    )
    await human.say(room, "delete the old backups")
    note = await human.wait_for(
        lambda e: (
            e.get("sender") == bot.reg.user_id
            and e.get("type") == "m.room.message"
            and e.get("room_id") == room
        )
    )
    assert note["content"]["body"] == UNVERIFIED_NOTICE
    assert not [e for e in sink.events if isinstance(e, IncomingMessage)]


async def test_an_undecryptable_message_is_answered_once_and_the_bot_goes_on(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    human = await make_human("ana")  # a client without encryption: it cannot send real ciphertext
    reg = await synapse.aregister("hearth")
    sink = Recorder()
    await make_bot(reg, tmp_path / "m", sink=sink, allowed=frozenset({f"matrix:{human.user_id}"}))
    secret = await human.create_room(invite=[reg.user_id], encrypted=True)
    await human.wait_joined(secret, reg.user_id)
    bogus = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "ciphertext": "AwgA",
        "sender_key": "x",
        "device_id": "D",
        "session_id": "s",
    }
    for _ in range(2):
        await human.client.room_send(secret, "m.room.encrypted", bogus)

    def said_by_bot(e: dict[str, Any]) -> bool:
        return (
            e.get("room_id") == secret
            and e.get("sender") == reg.user_id
            and e.get("type") in {"m.room.message", "m.room.encrypted"}
        )

    notice = await human.wait_for(said_by_bot)
    assert notice["type"] == "m.room.encrypted"  # the bot's note is encrypted like the room
    # A plain room afterwards still works: the sync loop survived, and only one note was sent.
    plain = await human.create_room(invite=[reg.user_id], direct=True)
    await human.wait_joined(plain, reg.user_id)
    await human.say(plain, "still there?")
    await sink.wait_for(_incoming("still there?"))
    assert len([e for e in human.timeline if said_by_bot(e)]) == 1
