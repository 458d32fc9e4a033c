"""Memory values: an entry, its kinds, and the scope a conversation remembers in."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from core.events import ChatRef

TASK, MEMO, FACT = "task", "memo", "fact"
KINDS = (TASK, MEMO, FACT)
# Retention drops the lowest rank first: old task summaries, then memos, taught facts last.
RETENTION_RANK = {TASK: 0, MEMO: 1, FACT: 2}
KIND_LABELS = {TASK: "task summary", MEMO: "discovery memo", FACT: "fact"}


def scope_of(chat: ChatRef, *, direct: bool) -> str:
    """The scope of a conversation: platform + channel; a DM is its own scope.

    Threads share their channel's scope. The ``dm`` marker keeps a DM apart from a channel
    even on a platform whose DM and channel ids could look alike.
    """
    kind = "dm" if direct else "ch"
    return f"{chat.platform}:{kind}:{chat.channel_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryEntry:
    """One remembered thing, with where, who, when and how much to trust it."""

    id: str
    scope: str
    kind: str  # task | memo | fact
    text: str
    author: str  # qualified user id ("slack:U123"), or "" for the CLI
    author_name: str
    task_id: str  # "" when not from a task
    created_at: float  # epoch seconds
    trusted: bool = True  # False: the text reads like instructions to the agent
    is_global: bool = False  # an admin marked it for recall in every scope

    def metadata(self) -> dict[str, Any]:
        """Chroma metadata (scalars only; the text is the document)."""
        return {
            "scope": self.scope,
            "kind": self.kind,
            "author": self.author,
            "author_name": self.author_name,
            "task_id": self.task_id,
            "created_at": float(self.created_at),
            "trusted": self.trusted,
            "global": self.is_global,
        }

    @classmethod
    def from_stored(cls, entry_id: str, text: str, meta: dict[str, Any]) -> MemoryEntry:
        """Rebuild an entry from Chroma's id, document and metadata."""
        return cls(
            id=entry_id,
            scope=str(meta.get("scope", "")),
            kind=str(meta.get("kind", FACT)),
            text=text,
            author=str(meta.get("author", "")),
            author_name=str(meta.get("author_name", "")),
            task_id=str(meta.get("task_id", "")),
            created_at=float(meta.get("created_at", 0.0)),
            trusted=bool(meta.get("trusted", True)),
            is_global=bool(meta.get("global", False)),
        )

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSONL export."""
        return asdict(self)
