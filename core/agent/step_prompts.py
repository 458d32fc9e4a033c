"""What the executor tells the model: its system prompt, a step's first prompt, "commit now"."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.memory.quote import prompt_block

EXECUTOR_SYSTEM = """You are hearth's executor. You work on ONE step of a larger task, inside a \
workspace directory, using the tools provided.
Rules:
- Use tools to look things up and make changes; never invent tool output or file contents.
- Prefer native tool calls. One small step at a time; read errors and adapt.
- Do not run commands that never end (tail -f, watch, top); use bounded variants.
- When you discover a fact later steps will need, write it on its own line as `MEMO: <fact>`.
- When the step is done, answer with the result for this step (concise and concrete: what you \
found or changed), then a last line `CONFIDENCE: <0.0-1.0>` saying how sure you are that the \
step is done correctly. Be honest: say so if something failed."""

COMMIT_NOW = (
    "Stop calling tools: {why}. Give your final answer for this step now, using only what you "
    "already know. Say plainly what did not work, and end with `CONFIDENCE: <0.0-1.0>`."
)
MEMO = re.compile(r"^\s*(?:MEMO|NOTE)\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


def first_prompt(
    goal: str,
    subtask: str,
    earlier: Sequence[str],
    feedback: str | None,
    recalled: Sequence[str] = (),
) -> str:
    """The step's opening message: the goal, the step, what was recalled and done before."""
    parts = [f"Overall goal: {goal}", f"Your step: {subtask}"]
    if recalled:
        parts.append(prompt_block(recalled))
    if earlier:
        parts.append("Results of earlier steps:\n" + "\n".join(f"- {e}" for e in earlier))
    if feedback:
        parts.append(
            f"A reviewer rejected your previous attempt at this step: {feedback}\n"
            "Fix that this time."
        )
    return "\n\n".join(parts)
