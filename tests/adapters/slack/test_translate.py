"""translate.py on recorded Slack payloads: events in, Block Kit and errors out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.slack import translate
from core.errors import MessageTooLong, PlatformError, RateLimited
from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ChatRef,
    Decision,
    MessageRef,
    User,
)

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "slack"
BOT = "UBOT"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def test_top_level_mention_starts_a_thread_on_its_own_ts() -> None:
    msg = translate.incoming_message(load("app_mention.json"), bot_user_id=BOT)
    assert msg is not None
    assert msg.ref == MessageRef(
        ChatRef("slack", "C0GENERAL", "1763778000.123456"), "1763778000.123456"
    )
    assert msg.author == User("slack", "U0ALICE", "", False)
    # mention stripped, autolink back to what was typed, entities decoded
    assert msg.text == "check disk usage on build.example.com && report"
    assert msg.mentions_bot and not msg.is_direct and not msg.in_thread
    assert msg.event_id == "Ev0MENTION1"
    assert msg.dedup_key == "slack:Ev0MENTION1"
    assert msg.received_at == datetime.fromtimestamp(1763778000, UTC)


def test_mention_inside_a_thread_stays_in_that_thread() -> None:
    msg = translate.incoming_message(load("app_mention_in_thread.json"), bot_user_id=BOT)
    assert msg is not None
    assert msg.ref.chat.thread_id == "1763778000.123456"
    assert msg.ref.message_id == "1763778100.000200"
    assert msg.in_thread and msg.mentions_bot
    assert msg.text == "also check /var"  # <@UBOT|hearth> form stripped too


def test_dm_is_direct_with_display_name() -> None:
    msg = translate.incoming_message(load("message_im.json"), bot_user_id=BOT)
    assert msg is not None
    assert msg.is_direct and not msg.mentions_bot and not msg.in_thread
    assert msg.ref.chat == ChatRef("slack", "D0ALICE", "1763778200.000300")
    assert msg.author.display_name == "alice"
    assert msg.text == "what is the load average? <quick>"


def test_thread_reply_without_mention_is_forwarded_as_in_thread() -> None:
    msg = translate.incoming_message(load("message_thread_reply.json"), bot_user_id=BOT)
    assert msg is not None
    assert msg.in_thread and not msg.mentions_bot
    assert msg.ref.chat.thread_id == "1763778000.123456"
    assert msg.text == "stop"


@pytest.mark.parametrize(
    "name",
    [
        "app_mention_in_dm.json",  # the message.im copy is used instead
        "message_thread_reply_mention.json",  # the app_mention copy is used instead
        "message_channel_plain.json",  # channel chatter never becomes a task
        "message_changed.json",  # edits
        "message_channel_join.json",  # joins
        "message_bot.json",  # other bots
        "message_own_echo.json",  # the bot itself
        "reaction_added.json",  # not a message
    ],
)
def test_not_for_the_core(name: str) -> None:
    assert translate.incoming_message(load(name), bot_user_id=BOT) is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"type": "event_callback"},
        {"type": "event_callback", "event": "nonsense"},
        {"type": "event_callback", "event": {"type": "app_mention", "text": "<@UBOT> hi"}},
        {"type": "event_callback", "event": {"type": "app_mention", "user": 5, "ts": 1}},
    ],
)
def test_malformed_events_are_dropped_not_raised(body: dict[str, Any]) -> None:
    assert translate.incoming_message(body, bot_user_id=BOT) is None


def test_approve_click() -> None:
    response = translate.approval_response(load("block_actions_approve.json"))
    assert response is not None
    assert response.approval_id == "k3Jx9_aQ"
    assert response.decision is Decision.APPROVE
    assert response.user == User("slack", "U0ALICE", "alice", False)
    assert response.prompt == MessageRef(
        ChatRef("slack", "C0GENERAL", "1763778000.123456"), "1763779100.003000"
    )


def test_deny_click() -> None:
    response = translate.approval_response(load("block_actions_deny.json"))
    assert response is not None and response.decision is Decision.DENY


def test_unknown_button_payload_is_none() -> None:
    assert translate.approval_response(load("block_actions_unknown.json")) is None
    assert translate.approval_response({"type": "block_actions", "actions": []}) is None
    assert translate.approval_response({"type": "view_submission"}) is None


def test_reaction_on_a_bot_message() -> None:
    reaction = translate.reaction(
        load("reaction_added.json"), bot_user_id=BOT, thread_id="1763778000.000001"
    )
    assert reaction is not None
    assert reaction.key == "👍"  # skin tone dropped
    assert reaction.target == MessageRef(
        ChatRef("slack", "C0OPS", "1763778000.000001"), "1763779000.001000"
    )
    assert reaction.user.id == "U0ALICE"
    assert reaction.event_id == "Ev0REACT1"


def test_reaction_on_someone_elses_message_is_ignored() -> None:
    assert translate.reaction(load("reaction_added_other.json"), bot_user_id=BOT) is None


def test_reaction_names_round_trip() -> None:
    for emoji in ("👍", "👎", "✅", "❌"):
        assert translate.emoji_for(translate.reaction_name(emoji)) == emoji
    assert translate.reaction_name(":tada:") == "tada"
    assert translate.emoji_for("tada") == ":tada:"
    with pytest.raises(PlatformError):
        translate.reaction_name("🦄 unicorn")


def test_clean_text_keeps_other_mentions_and_decodes_specials() -> None:
    text, mentioned = translate.clean_text(
        "<@UBOT> ping <@U0BOB> in <#C0OPS|ops> <!here> <mailto:a@b.c|a@b.c> "
        "<https://x.io/a|docs> 1 &lt; 2",
        BOT,
    )
    assert mentioned
    assert text == "ping <@U0BOB> in #ops @here a@b.c docs (https://x.io/a) 1 < 2"


def test_clean_text_keeps_the_users_spacing() -> None:
    text, mentioned = translate.clean_text("please <@UBOT> run `grep 'a  b' f`", BOT)
    assert mentioned and text == "please run `grep 'a  b' f`"
    assert translate.clean_text("no mention here", BOT) == ("no mention here", False)


def _request(command: str = "rm -rf build && echo <done>") -> ApprovalRequest:
    return ApprovalRequest(
        id="k3Jx9_aQ",
        chat=ChatRef("slack", "C0GENERAL", "1763778000.123456"),
        command=command,
        cwd="/srv/work",
        task_id="t-42",
        requester=User("slack", "U0ALICE", "alice"),
        reasons=("deletes files",),
        expires_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
    )


def test_approval_prompt_blocks() -> None:
    text, blocks = translate.approval_prompt(_request())
    assert "rm -rf build &amp;&amp; echo &lt;done&gt;" in text
    body = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "```\nrm -rf build &amp;&amp; echo &lt;done&gt;\n```" in body
    assert "`/srv/work`" in body and "`t-42`" in body and "alice (U0ALICE)" in body
    assert "deletes files" in body
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    ids = [(e["action_id"], e["value"], e["text"]["text"]) for e in actions["elements"]]
    assert ids == [
        ("appr:k3Jx9_aQ:approve", "appr:k3Jx9_aQ:approve", "Approve"),
        ("appr:k3Jx9_aQ:deny", "appr:k3Jx9_aQ:deny", "Reject"),
    ]
    for payload, _, _ in ids:
        assert translate.unpack_payload(payload) is not None


def test_long_command_is_split_over_sections_not_truncated() -> None:
    command = "echo " + "x" * 7000
    _, blocks = translate.approval_prompt(_request(command))
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(s) <= translate.SECTION_LIMIT for s in sections)
    code = "".join(s.removeprefix("```\n").removesuffix("\n```") for s in sections[1:])
    assert code == command


def test_closed_prompt_has_no_buttons_and_names_the_decider() -> None:
    at = datetime(2026, 11, 22, 2, 50, tzinfo=UTC)
    approved = ApprovalOutcome(
        decision=Decision.APPROVE, decided_by=User("slack", "U0BOB", "bob"), decided_at=at
    )
    text, blocks = translate.closed_prompt(_request(), approved)
    assert text.startswith("✅ Approved by bob at <!date^")
    assert "2026-11-22 02:50 UTC" in text
    assert not [b for b in blocks if b["type"] == "actions"]
    assert "rm -rf build" in json.dumps(blocks)  # the command stays visible
    denied = ApprovalOutcome(
        decision=Decision.DENY, decided_by=User("console", "me", "Me"), decided_at=at
    )
    assert translate.outcome_line(denied).startswith("❌ Rejected by Me at ")
    expired = ApprovalOutcome(
        decision=Decision.DENY, decided_by=None, decided_at=at, reason="expired: hearth restarted"
    )
    text, blocks = translate.closed_prompt(None, expired)
    assert text.startswith("⌛ Expired (hearth restarted) at ")
    assert not [b for b in blocks if b["type"] == "actions"]


def test_api_errors() -> None:
    limited = translate.api_error("chat.update", 429, "ratelimited", {"Retry-After": "7"})
    assert isinstance(limited, RateLimited) and limited.retry_after == 7.0
    fallback = translate.api_error("chat.update", 429, "ratelimited", {})
    assert isinstance(fallback, RateLimited) and fallback.retry_after == 1.0
    assert isinstance(translate.api_error("x", 200, "msg_too_long", {}), MessageTooLong)
    other = translate.api_error("chat.update", 200, "message_not_found", {})
    assert type(other) is PlatformError and "message_not_found" in str(other)
