"""The approval prompt as neutral content, made once in core.

Every adapter shows these same words and only turns them into its own markup. The command is
shown exactly as it will run: never shortened, never pattern-redacted (the broker refuses a
command it cannot show whole, or one that contains a configured secret, before any prompt).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from core.events import ApprovalOutcome, ApprovalRequest, Decision, User

TITLE = "Approval needed"
CLOSED_TITLE = "Approval"
REQUESTED_BY = "Requested by"
TOOL = "Tool"
DIRECTORY = "Directory"
TASK = "Task"
WHY = "Why"
APPROVE_LABEL = "Approve"
REJECT_LABEL = "Reject"
APPROVED = "✅"
REJECTED = "❌"
EXPIRED = "⌛"


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptContent:
    """Everything an approval prompt says, before any platform markup."""

    title: str
    approval_id: str
    requester: str  # "display name (platform id)": display names alone can be spoofed
    tool: str
    command: str  # exactly what will run
    directory: str
    task_id: str
    reasons: tuple[str, ...]
    expires_at: datetime

    @property
    def reasons_text(self) -> str:
        """The reasons joined on one line ("" when there are none)."""
        return "; ".join(self.reasons)

    @property
    def expiry_text(self) -> str:
        """``Expires at 2026-01-01 12:00 UTC (no answer = rejected)``."""
        return f"Expires at {utc_text(self.expires_at)} (no answer = rejected)"

    def answer_text(self, *, buttons: bool) -> str:
        """How to answer: buttons or reactions, and the text commands that work everywhere."""
        how = (
            f"Click {APPROVE_LABEL} or {REJECT_LABEL}"
            if buttons
            else f"React {APPROVED} to approve or {REJECTED} to reject"
        )
        return (
            f"{how}, or type `approve {self.approval_id}` / `deny {self.approval_id}`. "
            "Only approvers can decide."
        )


def prompt_content(request: ApprovalRequest) -> PromptContent:
    """The neutral content of the prompt for ``request``."""
    return PromptContent(
        title=TITLE,
        approval_id=request.id,
        requester=_full_name(request.requester),
        tool=request.tool_name,
        command=request.command,
        directory=request.cwd,
        task_id=request.task_id,
        reasons=request.reasons,
        expires_at=request.expires_at,
    )


def name_of(user: User) -> str:
    """How a person is named in prompts: display name, else id."""
    return user.display_name or user.id


def _full_name(user: User) -> str:
    if user.display_name and user.display_name != user.id:
        return f"{user.display_name} ({user.id})"
    return user.id


def utc_text(when: datetime) -> str:
    """``2026-01-01 12:00 UTC``."""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def outcome_text(outcome: ApprovalOutcome) -> str:
    """ "Approved by X", "Rejected by X: reason", "Expired" or "Not run: reason"."""
    who = outcome.decided_by
    if outcome.decision is Decision.APPROVE and who is not None:
        return f"Approved by {name_of(who)}"
    if who is not None:
        reason = outcome.reason.strip()
        return f"Rejected by {name_of(who)}" + (f": {reason}" if reason else "")
    reason = outcome.reason.strip()
    if not reason or reason.startswith("expired"):
        detail = reason.removeprefix("expired").lstrip(" :")
        return "Expired" + (f" ({detail})" if detail else "")
    return f"Not run: {reason}"


def outcome_mark(outcome: ApprovalOutcome) -> str:
    """The emoji that goes with the outcome."""
    if outcome.decided_by is None:
        return EXPIRED
    return APPROVED if outcome.decision is Decision.APPROVE else REJECTED


def outcome_line(outcome: ApprovalOutcome) -> str:
    """The outcome with its emoji, as every platform shows it."""
    return f"{outcome_mark(outcome)} {outcome_text(outcome)}"


def code_fence(code: str) -> str:
    """A Markdown code fence longer than any backtick run in ``code``: it cannot close early."""
    longest = max((len(m) for m in re.findall(r"`+", code)), default=0)
    return "`" * max(3, longest + 1)


def markdown_lines(content: PromptContent) -> list[str]:
    """The prompt in Markdown, down to the fenced command (Discord and Matrix add the rest)."""
    fence = code_fence(content.command)
    lines = [
        f"🔐 **{content.title}** · `{content.approval_id}`",
        f"**{REQUESTED_BY}:** {content.requester} · **{TOOL}:** `{content.tool}`"
        f" · **{TASK}:** `{content.task_id}`",
        f"**{DIRECTORY}:** `{content.directory}`",
    ]
    if content.reasons:
        lines.append(f"**{WHY}:** {content.reasons_text}")
    lines.append(f"{fence}\n{content.command}\n{fence}")
    return lines
