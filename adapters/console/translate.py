"""Pure mapping between terminal lines and core events, and how messages look on a terminal."""

from __future__ import annotations

import re
import string
from collections.abc import Collection
from dataclasses import dataclass

from core.approvals import prompt
from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ChatRef,
    IncomingMessage,
    MessageRef,
    User,
)

CURSOR = "▍"
CHANNEL = "terminal"
YES = frozenset({"y", "yes"})
NO = frozenset({"n", "no", ""})
STOP_WORDS = frozenset({"stop", "cancel", "abort"})
SYNTAX = (
    "In this terminal every line starts a new task (several run at once, each with a "
    "label like [a]). `>a more text` steers task a (`> text` the only one running); "
    "`stop a` cancels it (`stop` the only one); Ctrl-C cancels every running task, twice "
    "within 2 s quits; Ctrl-D quits once they finish."
)
_STEER = re.compile(r"^>(?P<label>[a-z]{1,2})?(?:\s+(?P<text>.*))?$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class NewTask:
    """A line that starts a task (or is a command): it gets a thread of its own."""

    text: str


@dataclass(frozen=True, slots=True)
class Steer:
    """``>a text``: more instructions for a running task (label None: the only one)."""

    label: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Stop:
    """``stop a``: cancel a running task (label None: the only one)."""

    label: str | None


@dataclass(frozen=True, slots=True)
class Help:
    """``help``: the terminal's syntax, then the core's command list."""


Line = NewTask | Steer | Stop | Help | None


def parse(line: str) -> Line:
    """What a typed line asks for; None for a blank line."""
    text = line.strip()
    if not text:
        return None
    word, _, rest = text.partition(" ")
    if word.lower().rstrip("!.") in STOP_WORDS and len(rest.split()) <= 1:
        label = rest.strip().strip("[]").lower()
        return Stop(label or None)
    if word.lower() == "help" and not rest:
        return Help()
    steer = _STEER.match(text)
    if steer:
        return Steer(steer.group("label"), (steer.group("text") or "").strip())
    return NewTask(text)


def next_label(taken: Collection[str]) -> str:
    """The first free short label: a … z, then aa, ab, …"""
    for c in string.ascii_lowercase:
        if c not in taken:
            return c
    for a in string.ascii_lowercase:
        for b in string.ascii_lowercase:
            if a + b not in taken:
                return a + b
    raise RuntimeError("more than 702 tasks in one terminal")


def chat(thread: str) -> ChatRef:
    """The chat of one terminal thread (one per task)."""
    return ChatRef("console", CHANNEL, thread)


def to_message(text: str, *, user: User, thread: str, event_id: str) -> IncomingMessage:
    """One typed line as a direct message in ``thread``; ``event_id`` is unique per session."""
    return IncomingMessage(
        ref=MessageRef(chat(thread), event_id),
        author=user,
        text=text.strip(),
        mentions_bot=True,
        is_direct=True,
        event_id=event_id,
    )


def is_draft(text: str) -> bool:
    """A streaming draft still growing (it ends with the cursor)."""
    return text.endswith(CURSOR)


def clean(text: str) -> str:
    """Text without the streaming cursor."""
    return text.removesuffix(CURSOR).rstrip() if text.endswith(CURSOR) else text


def hard_breaks(markdown: str) -> str:
    """Chat newlines are line breaks; in Markdown they need two trailing spaces (not in code)."""
    out: list[str] = []
    fenced = False
    for line in markdown.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.strip():
            line += "  "
        out.append(line)
    return "\n".join(out)


def live_line(text: str, width: int = 70) -> str:
    """What the progress line shows: the current activity (🔧) or else the last line."""
    lines = [x.strip() for x in clean(text).splitlines() if x.strip()]
    doing = [x for x in lines if x.startswith("🔧")]
    last = doing[-1] if doing else lines[-1] if lines else ""
    return last if len(last) <= width else "…" + last[-(width - 1) :]


def approval_prompt(request: ApprovalRequest) -> str:
    """Core's prompt words as a y/n question, ending at the answer; the command whole."""
    content = prompt.prompt_content(request)
    lines = [
        f"🔐 {content.title} [{content.approval_id}]",
        f"    {prompt.REQUESTED_BY}: {content.requester} · {prompt.TOOL}: {content.tool}"
        f" · {prompt.TASK}: {content.task_id}",
        f"    {prompt.DIRECTORY}: {content.directory}",
    ]
    if content.reasons:
        lines.append(f"    {prompt.WHY}: {content.reasons_text}")
    lines += ["---", content.command, "---"]  # unindented: exactly the text that will run
    lines.append(f"    {content.expiry_text}.")
    return "\n".join(lines) + "\nApprove? [y/N] "


def outcome_line(outcome: ApprovalOutcome) -> str:
    """One line saying how an approval ended, in core's words."""
    return prompt.outcome_line(outcome)
