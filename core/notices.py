"""Notices the outbox delivers: values that can be stored and sent after another restart."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.events import ApprovalOutcome, ChatRef, Decision, MessageRef, User
from core.ports import ChatAdapter


@dataclass(frozen=True, slots=True)
class PostNotice:
    """Post ``text`` into ``chat``."""

    chat: ChatRef
    text: str

    kind = "post"

    async def __call__(self, adapter: ChatAdapter) -> None:
        await adapter.post(self.chat, self.text)

    def payload(self) -> dict[str, Any]:
        """What is stored."""
        return {"chat": _chat(self.chat), "text": self.text}


@dataclass(frozen=True, slots=True)
class CloseNotice:
    """Show ``outcome`` on an approval prompt and remove its buttons."""

    prompt: MessageRef
    outcome: ApprovalOutcome

    kind = "close_approval"

    async def __call__(self, adapter: ChatAdapter) -> None:
        await adapter.close_approval(self.prompt, self.outcome)

    def payload(self) -> dict[str, Any]:
        """What is stored."""
        who = self.outcome.decided_by
        return {
            "prompt": {"chat": _chat(self.prompt.chat), "id": self.prompt.message_id},
            "decision": self.outcome.decision.value,
            "by": None if who is None else [who.platform, who.id, who.display_name, who.is_bot],
            "at": self.outcome.decided_at.isoformat(),
            "reason": self.outcome.reason,
        }


@dataclass(frozen=True, slots=True)
class EditNotice:
    """Show ``text`` in the message ``ref`` (a final edit that shutdown left unsent)."""

    ref: MessageRef
    text: str

    kind = "edit"

    async def __call__(self, adapter: ChatAdapter) -> None:
        await adapter.edit(self.ref, self.text)

    def payload(self) -> dict[str, Any]:
        """What is stored."""
        ref = {"chat": _chat(self.ref.chat), "id": self.ref.message_id}
        return {"ref": ref, "text": self.text}


Notice = PostNotice | CloseNotice | EditNotice


def dump(notice: Notice) -> tuple[str, str]:
    """``(kind, JSON payload)`` of a notice, for the store."""
    return notice.kind, json.dumps(notice.payload(), ensure_ascii=False)


def load(kind: str, payload: str) -> Notice:
    """The notice stored as ``kind`` and ``payload``; ValueError when it cannot be read."""
    try:
        data = json.loads(payload)
        if kind == PostNotice.kind:
            return PostNotice(_chat_of(data["chat"]), str(data["text"]))
        if kind == EditNotice.kind:
            ref = data["ref"]
            return EditNotice(MessageRef(_chat_of(ref["chat"]), str(ref["id"])), str(data["text"]))
        if kind == CloseNotice.kind:
            by = data["by"]
            outcome = ApprovalOutcome(
                decision=Decision(data["decision"]),
                decided_by=None if by is None else User(str(by[0]), str(by[1]), str(by[2]), by[3]),
                decided_at=datetime.fromisoformat(data["at"]),
                reason=str(data["reason"]),
            )
            prompt = data["prompt"]
            return CloseNotice(MessageRef(_chat_of(prompt["chat"]), str(prompt["id"])), outcome)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"unreadable {kind} notice: {exc}") from None
    raise ValueError(f"unknown notice kind {kind!r}")


def _chat(chat: ChatRef) -> list[str | None]:
    return [chat.platform, chat.channel_id, chat.thread_id]


def _chat_of(data: list[Any]) -> ChatRef:
    platform, channel, thread = data
    return ChatRef(str(platform), str(channel), None if thread is None else str(thread))
