"""translate.py and buttons.py on recorded Discord payloads, parsed by discord.py's own models."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest

from adapters.discord import build_intents
from adapters.discord.buttons import ApprovalButton, render_outcome, render_prompt
from adapters.discord.translate import (
    ChannelInfo,
    channel_info,
    platform_errors,
    strip_mention,
    to_approval_response,
    to_incoming,
    to_reaction,
    to_user,
)
from core.approvals.payload import pack_payload, unpack_payload
from core.errors import MessageTooLong, PlatformError, RateLimited
from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ChatRef,
    Decision,
    MessageRef,
    User,
)

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "discord"
BOT = "1042346713399177226"
GUILD_CHANNEL = "613425648685547544"
THREAD = "1293477394283384862"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


@pytest.fixture
async def state() -> Any:
    """discord.py's connection state with the recorded guild in its cache (no network)."""
    client = discord.Client(intents=build_intents())
    st = client._connection
    # What READY would set: the bot's own user.
    st.user = discord.ClientUser(
        state=st,
        data={"id": BOT, "username": "hearth", "discriminator": "0", "avatar": None, "bot": True},
    )
    st._add_guild_from_data(load("guild_create.json"))
    yield st
    await client.close()


def message(state: Any, name: str) -> discord.Message:
    """Parse a MESSAGE_CREATE payload exactly as the gateway parser does."""
    data = load(name)
    channel, _ = state._get_guild_channel(data)
    return discord.Message(state=state, channel=channel, data=data)


def incoming(state: Any, name: str, **kw: Any):
    msg = message(state, name)
    return to_incoming(msg, bot_id=BOT, where=channel_info(msg.channel), **kw)


async def test_top_level_mention(state) -> None:
    event = incoming(state, "message_create_mention.json")
    assert event is not None
    assert event.text == "how full is /var?"  # <@!id> nickname form stripped too
    assert event.ref == MessageRef(
        ChatRef("discord", GUILD_CHANNEL, "1293477394283384862"), "1293477394283384862"
    )
    assert event.author == User("discord", "53908232506183680", "ana (on call)", False)
    assert event.mentions_bot and not event.is_direct and not event.in_thread
    assert event.event_id == "1293477394283384862"
    assert event.dedup_key == "discord:1293477394283384862"
    assert event.received_at == discord.utils.snowflake_time(1293477394283384862)


async def test_mention_of_the_bots_role_counts_as_a_mention(state) -> None:
    event = incoming(state, "message_create_role_mention.json")
    assert event is not None and event.mentions_bot
    assert event.text == "restart the worker"
    assert event.ref.chat.thread_id == "1293480555555555555"


async def test_message_in_thread_keeps_parent_and_thread(state) -> None:
    event = incoming(state, "message_create_thread.json")
    assert event is not None
    assert event.ref.chat == ChatRef("discord", GUILD_CHANNEL, THREAD)
    assert event.in_thread and not event.mentions_bot
    assert event.text == "also check /home"
    assert event.author.display_name == "Ana Ops"  # no nick: the global name


async def test_dm(state) -> None:
    event = incoming(state, "message_create_dm.json")
    assert event is not None
    assert event.is_direct and not event.in_thread
    assert event.ref.chat == ChatRef("discord", "1210000000000000777", None)
    assert event.text == "what is using port 8080?"


@pytest.mark.parametrize(
    "name",
    [
        "message_create_other_bot.json",  # bots never start tasks
        "message_create_own.json",  # our own echo
        "message_create_no_content.json",  # no intent, no mention: nothing addressed to us
        "message_create_thread_created.json",  # system notice
    ],
)
async def test_dropped(state, name: str) -> None:
    assert incoming(state, name) is None


async def test_blank_thread_message_without_intent_is_dropped(state) -> None:
    data = load("message_create_thread.json")
    data["content"] = ""
    channel, _ = state._get_guild_channel(data)
    msg = discord.Message(state=state, channel=channel, data=data)
    assert to_incoming(msg, bot_id=BOT, where=channel_info(msg.channel)) is None


async def test_reply_in_reply_mode_belongs_to_the_task(state) -> None:
    data = load("message_create_no_content.json")
    data["content"] = "and the logs?"
    channel, _ = state._get_guild_channel(data)
    msg = discord.Message(state=state, channel=channel, data=data)
    task = ChatRef("discord", GUILD_CHANNEL, "1293477000000000000")
    where = channel_info(msg.channel)
    assert to_incoming(msg, bot_id=BOT, where=where) is None
    event = to_incoming(msg, bot_id=BOT, where=where, reply_chat=task)
    assert event is not None and event.ref.chat == task and event.in_thread


async def test_reaction(state) -> None:
    data = load("reaction_add.json")
    emoji = discord.PartialEmoji.with_state(state, id=None, name=data["emoji"]["name"])
    raw = discord.RawReactionActionEvent(data, emoji, "REACTION_ADD")
    guild = state._get_guild(int(data["guild_id"]))
    member = discord.Member(data=data["member"], guild=guild, state=state)
    where = channel_info(guild.get_channel_or_thread(int(data["channel_id"])))
    reaction = to_reaction(raw, user=to_user(member), where=where)
    assert reaction.target == MessageRef(
        ChatRef("discord", GUILD_CHANNEL, THREAD), "1293480333333333333"
    )
    assert reaction.key == "👍"
    assert reaction.user.qualified == "discord:53908232506183680"
    assert reaction.event_id == "reaction:1293480333333333333:53908232506183680:👍"


async def test_button_interaction(state) -> None:
    interaction = discord.Interaction(data=load("interaction_button.json"), state=state)
    parsed = unpack_payload(interaction.data["custom_id"])
    assert parsed == ("Xy9_k-2Q", Decision.APPROVE)
    where = channel_info(interaction.channel)
    response = to_approval_response(*parsed, interaction=interaction, where=where)
    assert response.approval_id == "Xy9_k-2Q" and response.decision is Decision.APPROVE
    assert response.user == User("discord", "53908232506183680", "Ana Ops", False)
    assert response.prompt == MessageRef(
        ChatRef("discord", GUILD_CHANNEL, THREAD), "1293480444444444444"
    )
    assert response.event_id == "interaction:1293481234567890123"


def test_strip_mention_only_removes_the_bot() -> None:
    assert strip_mention("<@1> hi <@!1> there <@2>", "1") == "hi there <@2>"
    assert strip_mention("<@1>", "1") == ""
    assert strip_mention("a\n<@1> b", "1") == "a\n b"
    assert strip_mention("<@&7> go <@&8>", "1", ("7",)) == "go <@&8>"


def test_channel_info_uses_known_threads_when_the_cache_misses() -> None:
    class Partial:
        id = 55
        type = None

    assert channel_info(Partial()) == ChannelInfo("55", "channel")
    assert channel_info(Partial(), thread_parents={"55": "9"}) == ChannelInfo("55", "thread", "9")
    assert ChannelInfo("55", "thread", "9").chat() == ChatRef("discord", "9", "55")


async def test_button_template_accepts_exactly_the_core_payloads() -> None:
    template = ApprovalButton.__discord_ui_compiled_template__
    for decision in Decision:
        button = ApprovalButton("a1_B-2xyz", decision)
        assert button.custom_id == pack_payload("a1_B-2xyz", decision)
        assert len(button.custom_id) <= 100
        match = template.match(button.custom_id)
        assert match is not None
        assert (match["id"], Decision(match["decision"])) == unpack_payload(button.custom_id)
    hostile = [
        "appr:x:maybe",
        "appr::approve",
        "appr:a b:approve",
        "other:x:approve",
        "appr:x:approve:extra",
        "appr:" + "x" * 17 + ":deny",
        "appr:x:approve\n",
    ]
    for bad in hostile:
        assert template.match(bad) is None
        assert unpack_payload(bad) is None
    with pytest.raises(ValueError):
        ApprovalButton("has:colon", Decision.APPROVE)


def _request(command: str) -> ApprovalRequest:
    return ApprovalRequest(
        id="r1",
        chat=ChatRef("discord", "1"),
        command=command,
        cwd="/srv",
        task_id="t1",
        requester=User("discord", "5", "Ana"),
        expires_at=datetime(2030, 1, 1, tzinfo=UTC) + timedelta(seconds=1),
    )


def test_prompt_shows_the_exact_command_and_expiry() -> None:
    text = render_prompt(_request("df -h /var"))
    assert "```\ndf -h /var\n```" in text
    assert "<t:1893456001:R>" in text
    assert "**Requested by:** Ana" in text and "**Tool:** `shell`" in text


def test_prompt_cannot_be_broken_out_of_its_code_block() -> None:
    hostile = "echo ```\n**APPROVED** by admin"
    text = render_prompt(_request(hostile))
    assert "````\n" + hostile + "\n````" in text  # a longer fence: the command's stays inside


def test_a_prompt_too_long_for_discord_is_refused_never_cut() -> None:
    with pytest.raises(MessageTooLong):
        render_prompt(_request("x" * 5000))
    text = render_prompt(_request("y" * 1500))
    assert "y" * 1500 in text


def test_outcome_lines() -> None:
    now = datetime.now(UTC)
    ana = User("discord", "5", "Ana")
    approved = ApprovalOutcome(decision=Decision.APPROVE, decided_by=ana, decided_at=now)
    denied = ApprovalOutcome(decision=Decision.DENY, decided_by=ana, decided_at=now)
    expired = ApprovalOutcome(
        decision=Decision.DENY, decided_by=None, decided_at=now, reason="expired"
    )
    assert render_outcome(approved) == "✅ Approved by Ana"
    assert render_outcome(denied) == "❌ Rejected by Ana"
    assert render_outcome(expired) == "⌛ Expired"


class _Response:
    """The attributes discord.HTTPException reads from an aiohttp response."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.reason = "reason"
        self.headers = headers or {}


def _raise(exc: BaseException) -> BaseException:
    with pytest.raises(Exception) as caught, platform_errors("edit"):
        raise exc
    return caught.value


TOO_LONG = {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}


def test_platform_errors_map_to_core_errors() -> None:
    limited = _raise(
        discord.HTTPException(
            _Response(429, {"X-RateLimit-Reset-After": "0.75", "Retry-After": "1"}),
            {"message": "You are being rate limited.", "retry_after": 0.75},
        )
    )
    assert isinstance(limited, RateLimited) and limited.retry_after == 0.75
    long_wait = _raise(discord.RateLimited(45.0))
    assert isinstance(long_wait, RateLimited) and long_wait.retry_after == 45.0
    too_long = _raise(
        discord.HTTPException(
            _Response(400),
            {
                "code": 50035,
                "message": "Invalid Form Body",
                "errors": {"content": {"_errors": [TOO_LONG]}},
            },
        )
    )
    assert isinstance(too_long, MessageTooLong)
    forbidden = _raise(discord.Forbidden(_Response(403), {"code": 50013, "message": "Missing"}))
    assert type(forbidden) is PlatformError and "403 50013" in str(forbidden)
    down = _raise(aiohttp.ClientConnectionError("connection reset"))
    assert type(down) is PlatformError
