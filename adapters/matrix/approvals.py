"""Approvals on Matrix: a prompt in the task's thread, answered with a ✅ or ❌ reaction.

Matrix has no buttons: approvers react to the prompt (or write ``approve <id>``). The prompt's
words are core's (core/approvals/prompt.py) in Matrix Markdown; ``Prompts`` remembers the
prompts this process posted, so a reaction on one is answered without asking the broker's store.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from core.approvals import prompt
from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalResponse,
    ChatRef,
    Decision,
    Reaction,
)

APPROVE_KEY = "✅"
DENY_KEY = "❌"
MAX_PROMPTS = 512  # prompts remembered; older ones are answered through the broker's store
_VARIATION_SELECTORS = "\ufe0e\ufe0f"
_DECISIONS = {
    "✅": Decision.APPROVE,
    "✔": Decision.APPROVE,
    "☑": Decision.APPROVE,
    "❌": Decision.DENY,
    "✖": Decision.DENY,
    "❎": Decision.DENY,
}

_INSTRUCTION_PREFIXES = ("React ✅", "Expires at ")


@dataclass(frozen=True, slots=True)
class Prompt:
    """An approval prompt this process posted: which approval, where, and its text."""

    approval_id: str
    chat: ChatRef
    text: str


class Prompts:
    """The prompts this process posted, by event id (the newest ``MAX_PROMPTS``)."""

    def __init__(self) -> None:
        self._by_event: OrderedDict[str, Prompt] = OrderedDict()

    def add(self, event_id: str, posted: Prompt) -> None:
        """Remember a prompt just posted as ``event_id``."""
        self._by_event[event_id] = posted
        while len(self._by_event) > MAX_PROMPTS:
            self._by_event.popitem(last=False)

    def get(self, event_id: str | None) -> Prompt | None:
        """The prompt posted as ``event_id``, if this process posted it."""
        return self._by_event.get(event_id) if event_id else None

    def pop(self, event_id: str) -> Prompt | None:
        """Forget the prompt posted as ``event_id`` (it is closed) and return it."""
        return self._by_event.pop(event_id, None)


def reaction_decision(key: str) -> Decision | None:
    """✅ approves, ❌ denies (emoji variation selectors ignored); anything else is None."""
    return _DECISIONS.get(key.strip(_VARIATION_SELECTORS).strip())


def reaction_to_approval(reaction: Reaction, approval_id: str) -> ApprovalResponse | None:
    """A ✅/❌ on a known approval prompt as an ApprovalResponse (the broker checks approvers)."""
    decision = reaction_decision(reaction.key)
    if decision is None:
        return None
    return ApprovalResponse(
        approval_id=approval_id,
        decision=decision,
        user=reaction.user,
        prompt=reaction.target,
        event_id=reaction.event_id,
        raw=reaction.raw,
    )


def approval_prompt_text(request: ApprovalRequest) -> str:
    """Core's prompt words in Matrix markdown: the exact command in a code block, whole."""
    content = prompt.prompt_content(request)
    lines = prompt.markdown_lines(content)
    lines.append(content.answer_text(buttons=False))
    lines.append(content.expiry_text + ".")
    return "\n".join(lines)


def outcome_line(outcome: ApprovalOutcome) -> str:
    """One line saying how an approval ended and who decided, in core's words."""
    return prompt.outcome_line(outcome)


def closed_prompt_text(original: str | None, outcome: ApprovalOutcome) -> str:
    """The prompt with its answer instructions replaced by the outcome."""
    if not original:
        return outcome_line(outcome)
    kept = [ln for ln in original.split("\n") if not ln.startswith(_INSTRUCTION_PREFIXES)]
    return "\n".join([*kept, outcome_line(outcome)])
