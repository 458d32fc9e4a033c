"""Pure mapping between terminal lines and core events, and what edits look like on a terminal."""

from __future__ import annotations

from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ChatRef,
    IncomingMessage,
    MessageRef,
    User,
)

CURSOR = "▍"
CHAT = ChatRef("console", "terminal", "main")
YES = frozenset({"y", "yes"})
NO = frozenset({"n", "no", ""})


def to_message(line: str, *, user: User, seq: int) -> IncomingMessage:
    """One typed line as a direct message (the terminal is one conversation)."""
    return IncomingMessage(
        ref=MessageRef(CHAT, f"line-{seq}"),
        author=user,
        text=line.strip(),
        mentions_bot=True,
        is_direct=True,
        event_id=f"console-{seq}",
    )


def clean(text: str) -> str:
    """Text without the streaming cursor."""
    return text.removesuffix(CURSOR).rstrip() if text.endswith(CURSOR) else text


def delta(old: str, new: str) -> tuple[str, bool]:
    """What to print when a message changes from ``old`` to ``new``.

    Returns (text, appended): the new suffix when the message only grew (streaming), else the
    lines that are new (progress updates), printed on their own.
    """
    old, new = clean(old), clean(new)
    if new.startswith(old):
        return new[len(old) :], True
    old_lines = set(old.splitlines())
    fresh = [line for line in new.splitlines() if line not in old_lines]
    return "\n".join(fresh), False


def approval_prompt(request: ApprovalRequest) -> str:
    """The y/n question for a risky command."""
    reasons = f" ({'; '.join(request.reasons)})" if request.reasons else ""
    return (
        f"\n⚠️  Approval needed [{request.id}] for task {request.task_id}{reasons}\n"
        f"    command: {request.command}\n"
        f"    in:      {request.cwd}\n"
        f"Approve? [y/N] "
    )


def outcome_line(outcome: ApprovalOutcome) -> str:
    """One line saying how an approval ended."""
    who = outcome.decided_by.display_name if outcome.decided_by else "nobody"
    if outcome.approved:
        return f"✅ approved by {who}"
    return f"❌ denied ({outcome.reason or 'by ' + who})"
