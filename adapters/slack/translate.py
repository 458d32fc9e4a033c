"""Pure mapping between Slack payloads and core events, Block Kit and errors (no I/O)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.approvals import prompt
from core.approvals.payload import pack_payload, unpack_payload
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

from .mrkdwn import escape

PLATFORM = "slack"
APPROVE, DENY = Decision.APPROVE, Decision.DENY
SECTION_LIMIT = 3000  # Block Kit section text limit
# Message subtypes that are still a person writing something new; every other subtype is an
# edit, a deletion, a join, a bot post or similar, and never starts or steers a task.
_USER_SUBTYPES = frozenset({"thread_broadcast", "file_share"})

_EMOJI_TO_NAME = {
    "👍": "+1",
    "👎": "-1",
    "✅": "white_check_mark",
    "❌": "x",
    "⌛": "hourglass",
    "👀": "eyes",
    "⚠️": "warning",
    "🔥": "fire",
}
_NAME_TO_EMOJI = {name: emoji for emoji, name in _EMOJI_TO_NAME.items()} | {
    "thumbsup": "👍",
    "thumbsdown": "👎",
    "heavy_check_mark": "✅",
    "negative_squared_cross_mark": "❌",
    "hourglass_flowing_sand": "⌛",
    "heavy_multiplication_x": "✖️",
    "ballot_box_with_check": "☑️",
}

_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


# ---------------------------------------------------------------- inbound


def clean_text(text: str, bot_user_id: str | None) -> tuple[str, bool]:
    """Strip the bot's mention and decode Slack's link and entity syntax into plain text.

    Returns the text and whether the bot was mentioned. Other people's mentions stay as
    ``<@U…>``; autolinked URLs become the text the user typed, so a command such as
    ``curl example.com/x?a=1&b=2`` reaches the core exactly as written.
    """
    mentioned = False
    if bot_user_id:
        # Only the mention and one space after it go; the user's own spacing is kept.
        pattern = rf"<@{re.escape(bot_user_id)}(?:\|[^<>]*)?>[ \t]?"
        text, count = re.subn(pattern, "", text)
        mentioned = count > 0

    def link(m: re.Match[str]) -> str:
        target, label = m.group(1), m.group(2)
        if target.startswith("@"):
            return f"<{target}>"
        if target.startswith("#"):
            return f"#{label}" if label else target
        if target.startswith("!"):
            if label:
                return label
            return "@" + target[1:].split("^")[0]
        if label is None:
            return target
        bare = target.split("://", 1)[-1].removeprefix("mailto:")
        return label if label in (target, bare) else f"{label} ({target})"

    decoded = _LINK.sub(link, text).strip()
    decoded = decoded.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return decoded, mentioned


def incoming_message(
    body: Mapping[str, Any], *, bot_user_id: str | None
) -> IncomingMessage | None:
    """Map an ``app_mention`` or ``message`` event_callback to an IncomingMessage, or None.

    None means "not for the core": edits, deletions, joins and other subtypes, bots (this
    one included), DMs seen as ``app_mention`` (their ``message.im`` copy is used), and channel
    messages that are neither a mention nor a thread reply. A thread reply that mentions the
    bot also arrives as ``app_mention``; only that copy is kept so one reply is one event.
    """
    event = body.get("event")
    if body.get("type") != "event_callback" or not isinstance(event, Mapping):
        return None
    kind = event.get("type")
    if kind not in ("app_mention", "message"):
        return None
    if event.get("subtype") and event.get("subtype") not in _USER_SUBTYPES:
        return None
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not (isinstance(user, str) and isinstance(channel, str) and isinstance(ts, str)):
        return None
    if event.get("bot_id") or event.get("bot_profile") or user == bot_user_id:
        return None
    channel_type = event.get("channel_type") or ("im" if channel.startswith("D") else "")
    is_direct = channel_type == "im"
    text, mentioned = clean_text(str(event.get("text") or ""), bot_user_id)
    thread_ts = event.get("thread_ts") if isinstance(event.get("thread_ts"), str) else None
    in_thread = thread_ts is not None and thread_ts != ts
    if kind == "app_mention":
        if is_direct:
            return None
        mentioned = True
    elif not is_direct and (mentioned or not in_thread):
        return None
    return IncomingMessage(
        ref=MessageRef(ChatRef(PLATFORM, channel, thread_ts or ts), ts),
        author=User(PLATFORM, user, _display_name(event), False),
        text=text,
        mentions_bot=mentioned,
        is_direct=is_direct,
        event_id=str(body.get("event_id") or ""),
        in_thread=in_thread,
        received_at=_when(body.get("event_time")),
        raw=body,
    )


SLASH_COMMAND = "/hearth"


def slash_command(body: Mapping[str, Any]) -> tuple[str, User, str, str] | None:
    """(channel, user, text, delivery id) of a ``/hearth`` slash command, or None."""
    channel, user = body.get("channel_id"), body.get("user_id")
    if body.get("command") != SLASH_COMMAND:
        return None
    if not (isinstance(channel, str) and isinstance(user, str)):
        return None
    name = str(body.get("user_name") or "")
    text = " ".join(str(body.get("text") or "").split())
    return channel, User(PLATFORM, user, name, False), text, str(body.get("trigger_id") or "")


def slash_message(
    channel: str, user: User, text: str, root_ts: str, trigger_id: str
) -> IncomingMessage:
    """The slash command as a mention whose thread is the root message posted for it."""
    return IncomingMessage(
        ref=MessageRef(ChatRef(PLATFORM, channel, root_ts), root_ts),
        author=user,
        text=text,
        mentions_bot=True,
        is_direct=channel.startswith("D"),
        event_id=f"cmd:{trigger_id}" if trigger_id else "",
    )


def approval_response(body: Mapping[str, Any]) -> ApprovalResponse | None:
    """Map a ``block_actions`` click on an approval button to an ApprovalResponse, or None."""
    actions = body.get("actions")
    user = body.get("user")
    if body.get("type") != "block_actions" or not actions or not isinstance(user, Mapping):
        return None
    action = actions[0] if isinstance(actions[0], Mapping) else {}
    unpacked = unpack_payload(str(action.get("action_id") or "")) or unpack_payload(
        str(action.get("value") or "")
    )
    user_id = user.get("id")
    if unpacked is None or not isinstance(user_id, str):
        return None
    approval_id, decision = unpacked
    container = body.get("container") if isinstance(body.get("container"), Mapping) else {}
    message = body.get("message") if isinstance(body.get("message"), Mapping) else {}
    channel_obj = body.get("channel") if isinstance(body.get("channel"), Mapping) else {}
    channel = channel_obj.get("id") or container.get("channel_id")
    message_ts = container.get("message_ts") or message.get("ts")
    prompt = None
    if channel and message_ts:
        thread = message.get("thread_ts") or container.get("thread_ts")
        prompt = MessageRef(ChatRef(PLATFORM, channel, thread), message_ts)
    name = user.get("name") or user.get("username") or ""
    return ApprovalResponse(
        approval_id=approval_id,
        decision=decision,
        user=User(PLATFORM, user_id, str(name), False),
        prompt=prompt,
        event_id=f"action:{action.get('action_ts') or body.get('trigger_id') or ''}",
        raw=body,
    )


def reaction(
    body: Mapping[str, Any], *, bot_user_id: str | None, thread_id: str | None = None
) -> Reaction | None:
    """Map ``reaction_added`` on one of the bot's messages to a Reaction, or None.

    ``thread_id`` is the thread the bot posted that message in (the adapter remembers it),
    so the target equals the MessageRef that ``post``/``ask_approval`` returned.
    """
    event = body.get("event")
    if not isinstance(event, Mapping) or event.get("type") != "reaction_added":
        return None
    item = event.get("item")
    user = event.get("user")
    if not isinstance(item, Mapping) or item.get("type") != "message" or not isinstance(user, str):
        return None
    if user == bot_user_id or (bot_user_id and event.get("item_user") != bot_user_id):
        return None
    channel, ts = item.get("channel"), item.get("ts")
    if not (isinstance(channel, str) and isinstance(ts, str)):
        return None
    return Reaction(
        target=MessageRef(ChatRef(PLATFORM, channel, thread_id), ts),
        key=emoji_for(str(event.get("reaction") or "")),
        user=User(PLATFORM, user, "", False),
        event_id=str(body.get("event_id") or ""),
        raw=body,
    )


def emoji_for(name: str) -> str:
    """Slack reaction name (``+1``, ``+1::skin-tone-2``) → emoji; unknown ones as ``:name:``."""
    base = name.split("::", 1)[0]
    return _NAME_TO_EMOJI.get(base, f":{base}:")


def reaction_name(key: str) -> str:
    """The emoji (or ``:name:`` / ``name``) → Slack's reaction name for ``reactions.add``."""
    key = key.strip()
    if key in _EMOJI_TO_NAME:
        return _EMOJI_TO_NAME[key]
    if key.rstrip("\ufe0f") in _EMOJI_TO_NAME:
        return _EMOJI_TO_NAME[key.rstrip("\ufe0f")]
    name = key.strip(":")
    if not re.fullmatch(r"[a-z0-9_+'\-]+", name):
        raise PlatformError(f"slack: no reaction name known for {key!r}")
    return name


# ---------------------------------------------------------------- outbound


def approval_prompt(request: ApprovalRequest) -> tuple[str, list[dict[str, Any]]]:
    """The notification text and Block Kit blocks of an open approval prompt (with buttons)."""
    content = prompt.prompt_content(request)
    blocks = _request_blocks(content, header=f"🔐 *{prompt.TITLE}*")
    blocks.append(
        {
            "type": "actions",
            "block_id": f"appr:{request.id}",
            "elements": [
                _button(
                    prompt.APPROVE_LABEL, pack_payload(request.id, Decision.APPROVE), "primary"
                ),
                _button(prompt.REJECT_LABEL, pack_payload(request.id, Decision.DENY), "danger"),
            ],
        }
    )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": escape(content.answer_text(buttons=True))
                    + " "
                    + escape(content.expiry_text)
                    + ".",
                }
            ],
        }
    )
    return f"{prompt.TITLE} ({escape(request.id)}): {escape(request.command)}", blocks


def closed_prompt(
    request: ApprovalRequest | None, outcome: ApprovalOutcome
) -> tuple[str, list[dict[str, Any]]]:
    """Text and blocks of a decided prompt: the request (when known) and outcome, no buttons."""
    line = outcome_line(outcome)
    if request is None:
        # After a restart the adapter no longer has the request; the audit trail is in the DB.
        blocks = [_section(f"🔐 *{prompt.CLOSED_TITLE}*")]
    else:
        blocks = _request_blocks(
            prompt.prompt_content(request), header=f"🔐 *{prompt.CLOSED_TITLE}*"
        )
    blocks.append(_section(line))
    return line, blocks


def outcome_line(outcome: ApprovalOutcome) -> str:
    """The outcome in core's words ("✅ Approved by X", "⌛ Expired"…) and when."""
    return f"{escape(prompt.outcome_line(outcome))} at {_date(outcome.decided_at)}"


def api_error(method: str, status: int, error: str, headers: Mapping[str, Any]) -> PlatformError:
    """Translate a failed Web API call into the core's error hierarchy."""
    if status == 429 or error in ("ratelimited", "rate_limited"):
        return RateLimited(_retry_after(headers), f"slack {method}: rate limited")
    if error == "msg_too_long":
        return MessageTooLong(f"slack {method}: msg_too_long")
    return PlatformError(f"slack {method}: {error or f'HTTP {status}'}")


def _retry_after(headers: Mapping[str, Any]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                break
    return 1.0  # Slack always sends Retry-After; a missing one still must not spin


def _request_blocks(content: prompt.PromptContent, *, header: str) -> list[dict[str, Any]]:
    lines = [
        f"{header} · `{escape(content.approval_id)}`",
        f"*{prompt.REQUESTED_BY}:* {escape(content.requester)} · "
        f"*{prompt.TOOL}:* `{escape(content.tool)}` · "
        f"*{prompt.TASK}:* `{escape(content.task_id)}`",
        f"*{prompt.DIRECTORY}:* `{escape(content.directory)}`",
    ]
    if content.reasons:
        lines.append(f"*{prompt.WHY}:* {escape(content.reasons_text)}")
    blocks = [_section("\n".join(lines))]
    # The exact command, however long: split over several sections (Slack's hard limit per
    # section) rather than truncated, because the approver must see precisely what will run.
    chunk = SECTION_LIMIT - 10
    command = escape(content.command).replace("```", "`\u200b``")
    for start in range(0, max(len(command), 1), chunk):
        blocks.append(_section(f"```\n{command[start : start + chunk]}\n```"))
    return blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(label: str, payload: str, style: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": payload,
        "value": payload,
        "style": style,
    }


def _who(user: User | None) -> str:
    if user is None:
        return "nobody"
    if user.platform == PLATFORM:
        return f"<@{user.id}>"
    return escape(user.display_name or user.qualified)


def _date(when: datetime) -> str:
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    stamp = int(aware.timestamp())
    fallback = aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>"


def _display_name(event: Mapping[str, Any]) -> str:
    profile = event.get("user_profile")
    if isinstance(profile, Mapping):
        for key in ("display_name", "real_name", "name"):
            if profile.get(key):
                return str(profile[key])
    return ""


def _when(event_time: Any) -> datetime | None:
    if isinstance(event_time, int | float) and event_time > 0:
        return datetime.fromtimestamp(event_time, UTC)
    return None
