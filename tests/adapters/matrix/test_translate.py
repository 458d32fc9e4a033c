"""translate.py (inbound) on event JSON recorded from a real Synapse (tests/payloads/matrix/)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.matrix import approvals, translate
from adapters.matrix.translate import BotIdentity
from core.events import ChatRef, Decision, MessageRef, User

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "matrix"
BOT = BotIdentity("@hearth:localhost", "hearth")
ROOM = "!room:localhost"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))


def to_msg(source: dict[str, Any], **kw: Any):
    return translate.message_to_event(
        source, room_id=ROOM, bot=BOT, is_direct=kw.pop("is_direct", False), **kw
    )


def test_pill_mention_starts_a_thread_rooted_at_the_message() -> None:
    source = load("mention_pill")
    msg = to_msg(source, sender_name="Ana")
    assert msg is not None
    assert msg.mentions_bot and msg.text == "check the disk"
    assert msg.ref == MessageRef(ChatRef("matrix", ROOM, source["event_id"]), source["event_id"])
    assert msg.event_id == source["event_id"] and not msg.in_thread
    assert msg.author == User("matrix", source["sender"], "Ana", is_bot=False)
    assert msg.received_at == datetime.fromtimestamp(source["origin_server_ts"] / 1000, UTC)


def test_thread_reply_keeps_the_thread_root_and_strips_nothing_else() -> None:
    source = load("thread_reply")
    root = source["content"]["m.relates_to"]["event_id"]
    msg = to_msg(source)
    assert msg is not None and msg.in_thread and not msg.mentions_bot
    assert msg.ref.chat.thread_id == root and msg.ref.message_id == source["event_id"]
    assert msg.text == "status of the backup?"


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda s: s, "an edit"),
        (
            lambda s: {**s, "sender": BOT.user_id, "content": {"msgtype": "m.text", "body": "x"}},
            "own message",
        ),
    ],
)
def test_edits_and_own_messages_are_not_events(mutate, why) -> None:
    assert to_msg(mutate(load("edit"))) is None, why


def test_edited_text_reads_new_content() -> None:
    assert translate.edited_text(load("edit")) == "hearth: check the disk now"
    assert translate.edited_text(load("mention_pill")) is None


def test_notice_comes_from_a_bot_and_images_are_ignored() -> None:
    notice = to_msg(load("notice_from_bot"))
    assert notice is not None and notice.author.is_bot
    assert to_msg(load("image")) is None
    known = to_msg(load("mention_pill"), known_bots=[load("mention_pill")["sender"]])
    assert known is not None and known.author.is_bot


@pytest.mark.parametrize(
    ("body", "mentioned", "text"),
    [
        ("hearth: restart nginx", True, "restart nginx"),
        ("@hearth restart nginx", True, "restart nginx"),
        ("Hearth, what is the load?", True, "what is the load?"),
        ("@hearth:localhost: uptime", True, "uptime"),
        ("please ask @hearth:localhost about it", True, "please ask about it"),
        ("hearthstone is a game", False, "hearthstone is a game"),
        ("the hearth is warm", False, "the hearth is warm"),
        ("", False, ""),
    ],
)
def test_mentions_by_name_or_id(body: str, mentioned: bool, text: str) -> None:
    assert translate.find_mention({}, body, BOT) == (mentioned, text)


def test_display_name_with_regex_characters_is_matched_literally() -> None:
    bot = BotIdentity("@b:localhost", "h.e*rth (bot)")
    assert translate.find_mention({}, "h.e*rth (bot): hi", bot) == (True, "hi")
    assert translate.find_mention({}, "hXeerth (bot): hi", bot)[0] is False


def test_reply_fallback_is_stripped() -> None:
    source = load("mention_pill")
    source["content"] = {
        "msgtype": "m.text",
        "body": "> <@ana:localhost> old text\n> more\n\nhearth: new question",
        "m.relates_to": {"m.in_reply_to": {"event_id": "$x"}},
    }
    msg = to_msg(source)
    assert msg is not None and msg.mentions_bot and msg.text == "new question"


@pytest.mark.parametrize(
    "source",
    [
        {},
        {"type": "m.room.message"},
        {"type": "m.room.message", "sender": "@a:l", "event_id": "$e", "content": "nope"},
        {"type": "m.room.message", "sender": "@a:l", "event_id": "$e", "content": {"body": 3}},
        {"type": "m.room.message", "sender": 5, "event_id": "$e", "content": {"body": "x"}},
        {
            "type": "m.room.message",
            "sender": "@a:l",
            "event_id": "$e",
            "content": {"msgtype": "m.text", "body": "x", "m.relates_to": "garbage"},
        },
    ],
)
def test_malformed_messages_never_raise(source: dict[str, Any]) -> None:
    result = to_msg(source)
    assert result is None or result.text == "x"


def test_reaction_becomes_a_reaction_and_an_approval_answer() -> None:
    source = load("reaction_approve")
    target = source["content"]["m.relates_to"]["event_id"]
    chat = ChatRef("matrix", ROOM, "$root")
    reaction = translate.reaction_to_event(source, room_id=ROOM, bot=BOT, target_chat=chat)
    assert reaction is not None
    assert reaction.target == MessageRef(chat, target) and reaction.key == "✅"
    assert reaction.user.id == source["sender"] and reaction.event_id == source["event_id"]
    answer = approvals.reaction_to_approval(reaction, "abc123")
    assert answer is not None
    assert answer.approval_id == "abc123" and answer.decision is Decision.APPROVE
    assert answer.prompt == reaction.target and answer.user == reaction.user
    assert translate.reaction_target(source) == target


def test_own_and_malformed_reactions_are_dropped() -> None:
    source = load("reaction_approve")
    assert (
        translate.reaction_to_event({**source, "sender": BOT.user_id}, room_id=ROOM, bot=BOT)
        is None
    )
    broken = {**source, "content": {"m.relates_to": {"rel_type": "m.reference"}}}
    assert translate.reaction_to_event(broken, room_id=ROOM, bot=BOT) is None
    no_key = {
        **source,
        "content": {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$x"}},
    }
    assert translate.reaction_to_event(no_key, room_id=ROOM, bot=BOT) is None


def test_invite_sender_from_recorded_invite_state() -> None:
    state = load("invite_state")["invite_state"]["events"]
    inviter = next(e["sender"] for e in state if e["type"] == "m.room.create")
    assert translate.invite_sender(state, BOT.user_id) == inviter
    assert translate.invite_sender(state, "@someone-else:localhost") is None
    assert translate.invite_sender([], BOT.user_id) is None


def test_events_from_before_the_start_are_recognised_by_server_age() -> None:
    source = load("mention_pill")  # recorded with unsigned.age = 40 ms
    age = source["unsigned"]["age"]
    assert translate.predates(source, uptime_ms=age - 1, not_before_ms=0)
    assert not translate.predates(source, uptime_ms=age + 1, not_before_ms=0)
    # The age wins over the timestamp, so a host clock that is off does not drop new events.
    assert not translate.predates(source, uptime_ms=age + 1, not_before_ms=1e15)
    no_age = {k: v for k, v in source.items() if k != "unsigned"}
    ts = source["origin_server_ts"]
    assert translate.predates(no_age, uptime_ms=0, not_before_ms=ts + 1)
    assert not translate.predates(no_age, uptime_ms=0, not_before_ms=ts)
    assert not translate.predates({}, uptime_ms=0, not_before_ms=ts)  # cannot tell: deliver
