"""Context watchdog: keeps the executor's prompt under a fraction of ``num_ctx``.

Before the first call the prompt size is estimated from its characters; afterwards the
server's own prompt token count calibrates the tokens-per-character ratio. When the next
prompt would pass ``compress_at × num_ctx``, older turns are folded into one recap message,
the most recent tool rounds are kept verbatim, and discovery memos stay pinned to the system
prompt. If that is still too big, the kept tool results are truncated.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.agent.guards import short_args
from core.llm.base import Message, ToolResult, ToolSpec

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4.0  # before the server has told us better
RECAP_RESULT_CHARS = 160


def message_chars(messages: Sequence[Message], system: str, tools: Sequence[ToolSpec]) -> int:
    """Characters that the prompt will carry (text, call arguments, results, tool specs)."""
    chars = len(system)
    for m in messages:
        chars += len(m.text) + 8
        chars += sum(len(c.name) + len(json.dumps(c.arguments, default=str)) for c in m.tool_calls)
        chars += sum(len(r.output) + len(r.name) + 8 for r in m.tool_results)
    chars += sum(len(t.name) + len(t.description) + len(json.dumps(t.parameters)) for t in tools)
    return chars


def _first_line(text: str, limit: int = RECAP_RESULT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class ContextWatchdog:
    """Estimates prompt tokens and compresses history before it passes the threshold."""

    num_ctx: int
    compress_at: float = 0.7
    keep_recent_rounds: int = 3
    tokens_per_char: float = 1.0 / CHARS_PER_TOKEN
    compressions: int = 0
    memos: list[str] = field(default_factory=list)

    @property
    def limit(self) -> int:
        """Token count that triggers compression."""
        return int(self.num_ctx * self.compress_at)

    def observe(self, prompt_tokens: int, chars: int) -> None:
        """Calibrate with the server's count for a prompt of ``chars`` characters."""
        if prompt_tokens > 0 and chars > 0:
            self.tokens_per_char = prompt_tokens / chars

    def estimate(self, messages: Sequence[Message], system: str, tools: Sequence[ToolSpec]) -> int:
        """Estimated prompt tokens of this request."""
        return int(message_chars(messages, system, tools) * self.tokens_per_char) + 1

    def pin(self, memo: str) -> None:
        """Pin a discovery memo to the system prompt (kept across compressions)."""
        memo = " ".join(memo.split())
        if memo and memo not in self.memos:
            self.memos.append(memo)
            del self.memos[:-12]  # the newest dozen is plenty for a small model

    def system_with_memos(self, system: str) -> str:
        """The system prompt with pinned memos appended."""
        if not self.memos:
            return system
        return (
            system
            + "\n\nPinned notes (facts discovered so far):\n"
            + "\n".join(f"- {m}" for m in self.memos)
        )

    def fit(
        self, messages: list[Message], system: str, tools: Sequence[ToolSpec]
    ) -> list[Message]:
        """``messages``, compressed when the prompt would pass the threshold."""
        if self.estimate(messages, system, tools) <= self.limit:
            return messages
        # Fold more and more rounds into the recap; the latest round is cut short before it
        # is dropped, because it is what the model is working from right now.
        out = messages
        for keep in range(max(1, self.keep_recent_rounds), 0, -1):
            out = self._compress(messages, keep)
            if self.estimate(out, system, tools) <= self.limit:
                break
        if self.estimate(out, system, tools) > self.limit:
            out = self._truncate_results(out, system, tools)
        if self.estimate(out, system, tools) > self.limit:
            out = self._compress(messages, 0)
        self.compressions += 1
        log.info(
            "context watchdog: %d → %d estimated tokens (limit %d)",
            self.estimate(messages, system, tools),
            self.estimate(out, system, tools),
            self.limit,
        )
        return out

    def _compress(self, messages: list[Message], keep_rounds: int) -> list[Message]:
        """First message + a recap of the middle + the last ``keep_rounds`` tool rounds."""
        if len(messages) <= 2:
            return list(messages)
        head, rest = messages[0], messages[1:]
        # A round starts at an assistant message; keep whole rounds so every tool result
        # still follows the call that produced it.
        starts = [i for i, m in enumerate(rest) if m.role == "assistant"]
        cut = starts[-keep_rounds] if keep_rounds and len(starts) >= keep_rounds else len(rest)
        if keep_rounds == 0:
            cut = len(rest)
            # still keep a trailing user message (steering/instructions) verbatim
            while cut > 0 and rest[cut - 1].role == "user":
                cut -= 1
        old, recent = rest[:cut], rest[cut:]
        if not old:
            return list(messages)
        recap = self._recap(old)
        return [head, Message("user", recap), *recent]

    @staticmethod
    def _recap(old: Sequence[Message]) -> str:
        lines = ["Recap of earlier work in this step (older turns were compressed):"]
        results: dict[str, ToolResult] = {}
        for m in old:
            for r in m.tool_results:
                results[r.call_id] = r
        for m in old:
            if m.role == "assistant":
                if m.text.strip():
                    lines.append(f"- you said: {_first_line(m.text)}")
                for c in m.tool_calls:
                    r = results.get(c.id)
                    status = "no result"
                    if r is not None:
                        status = ("FAILED: " if r.is_error else "ok: ") + _first_line(r.output)
                    lines.append(f"- {c.name}({short_args(c.arguments)}) → {status}")
            elif m.role == "user" and m.text.strip() and not m.text.startswith("Recap of"):
                lines.append(f"- user: {_first_line(m.text)}")
            elif m.role == "user" and m.text.startswith("Recap of"):
                lines.extend(m.text.splitlines()[1:])
        return "\n".join(lines[:1] + lines[1:][-60:])

    def _truncate_results(
        self, messages: list[Message], system: str, tools: Sequence[ToolSpec]
    ) -> list[Message]:
        """Shorten tool outputs (oldest first) until the prompt fits."""
        out = list(messages)
        budget_chars = int(self.limit / max(self.tokens_per_char, 1e-6))
        over = message_chars(out, system, tools) - budget_chars
        for i, m in enumerate(out):
            if over <= 0:
                break
            if not m.tool_results:
                continue
            new_results = []
            for r in m.tool_results:
                if over > 0 and len(r.output) > 200:
                    keep = max(200, len(r.output) - over)
                    cut = len(r.output) - keep
                    text = r.output[: keep - 40] + f"\n…[{cut + 40} chars cut to fit the context]"
                    over -= len(r.output) - len(text)
                    r = ToolResult(r.call_id, r.name, text, r.is_error)
                new_results.append(r)
            out[i] = Message(m.role, m.text, m.tool_calls, tuple(new_results))
        return out
