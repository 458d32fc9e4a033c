"""Verifier: an LLM judge reads the files a subtask wrote and says PASS or FAIL with a reason."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import LLMError
from core.llm.base import LLMClient, Message, TextDelta, ToolCall, TurnEnd
from core.tools.base import ToolContext, ToolRunner

log = logging.getLogger(__name__)

VERIFIER_SYSTEM = """You are a strict reviewer. A step of a task was supposed to produce files. \
Judge whether the files ARE the deliverable the step asked for (complete, not a description of \
it, not a placeholder or a stub). Answer JSON only: \
{"verdict": "PASS" or "FAIL", "reason": "one sentence"}."""

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": ["PASS", "FAIL"]},
        "reason": {"type": "string"},
    },
    "required": ["verdict", "reason"],
}
MAX_FILE_CHARS = 6000


@dataclass(frozen=True, slots=True)
class Verdict:
    """The judge's decision."""

    passed: bool
    reason: str
    judged: bool = True  # False when the judge could not decide (then it counts as a pass)


def parse_verdict(text: str) -> Verdict:
    """A Verdict from the judge's JSON; garbage counts as an undecided pass."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and str(data.get("verdict", "")).upper() in {"PASS", "FAIL"}:
        reason = str(data.get("reason") or "").strip() or "no reason given"
        return Verdict(str(data["verdict"]).upper() == "PASS", reason)
    upper = text.upper()
    if "FAIL" in upper and "PASS" not in upper:
        return Verdict(False, text.strip()[:300] or "no reason given")
    if "PASS" in upper and "FAIL" not in upper:
        return Verdict(True, text.strip()[:300])
    return Verdict(True, "the reviewer gave no clear verdict", judged=False)


class Verifier:
    """Reads written files through the ToolRunner's ``read_file`` and asks the judge model."""

    def __init__(self, llm: LLMClient, tools: ToolRunner) -> None:
        self._llm = llm
        self._tools = tools

    async def verify(
        self, subtask: str, answer: str, files: Sequence[str], ctx: ToolContext
    ) -> Verdict:
        """Judge whether ``files`` deliver ``subtask``."""
        shown: list[str] = []
        for n, path in enumerate(files[:5]):
            result = await self._tools.run(
                ToolCall(f"verify-{n}", "read_file", {"path": path}), ctx
            )
            body = result.output[:MAX_FILE_CHARS]
            label = "could not be read" if result.is_error else "content"
            shown.append(f"--- {path} ({label}) ---\n{body}")
        prompt = (
            f"The step: {subtask}\n\nWhat the worker said it did:\n{answer[:2000]}\n\n"
            "The files it wrote:\n" + "\n\n".join(shown)
        )
        text = ""
        try:
            async for event in self._llm.stream(
                [Message("user", prompt)], system=VERIFIER_SYSTEM, format=VERDICT_SCHEMA
            ):
                if isinstance(event, TextDelta):
                    text += event.text
                elif isinstance(event, TurnEnd) and event.text:
                    text = event.text
        except asyncio.CancelledError:
            raise
        except LLMError as exc:
            log.warning("verifier unavailable (%s); accepting the step unverified", exc)
            return Verdict(True, f"not verified: {exc}", judged=False)
        return parse_verdict(text)
