"""Decide with the local model: perception JSON in, structured JSON out, rules on any failure.

The model gets Ollama's structured-output schema for ``{"actions", "severity", "reasoning"}``.
Its answer is parsed leniently (fenced JSON, text around the object) but validated strictly;
a failure, timeout or invalid answer yields the rule decision with ``source="fallback"``. The
model may raise the severity the threshold rules found, never lower it: a small model that
calls a full disk "ok" must not silence the alert.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass, replace
from typing import Any

from core.clock import SystemClock
from core.errors import LLMError
from core.heartbeat.rules import MAX_ACTIONS, rule_decision
from core.heartbeat.values import SEVERITIES, HeartbeatDecision, Perception, rank
from core.llm.base import LLMClient, Message, TextDelta, TurnEnd
from core.ports import Clock

log = logging.getLogger(__name__)

DECISION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "actions": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_ACTIONS},
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "reasoning": {"type": "string"},
    },
    "required": ["actions", "severity", "reasoning"],
}

SYSTEM_PROMPT = """\
You are the heartbeat of hearth, an agent that watches a server for a team of engineers.
You get the latest health checks as JSON. Each check has a status computed from configured
thresholds (ok, warning, critical), a one-line summary and the measured values.
Decide the overall severity: "ok" when nothing needs a human, "warning" when something needs
attention soon, "critical" when something is broken or about to break.
Suggest at most 3 actions: short, safe shell commands a human could approve to investigate or
fix the problem, or an empty list when nothing needs doing. Never suggest destructive commands.
When the previous tick and its decision are given, say what changed since then.
Answer with JSON only: {"actions": [...], "severity": "...", "reasoning": "..."} where reasoning
is one or two plain sentences naming the checks that matter."""

_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?\s*```$", re.DOTALL)
MAX_ACTION_CHARS = 300
MAX_REASONING_CHARS = 1200


class InvalidDecision(ValueError):
    """The model's answer is not a valid decision."""


def parse_decision(text: str) -> HeartbeatDecision:
    """Parse and validate a model answer; tolerate fences and prose around the JSON object."""
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    if not body.startswith("{"):
        start, end = body.find("{"), body.rfind("}")
        if start < 0 or end <= start:
            raise InvalidDecision(f"no JSON object in the answer: {text[:80]!r}")
        body = body[start : end + 1]
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidDecision(f"answer is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidDecision("answer is not a JSON object")
    severity = data.get("severity")
    if not isinstance(severity, str) or severity.strip().lower() not in SEVERITIES:
        raise InvalidDecision(f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    reasoning = data.get("reasoning")
    if not isinstance(reasoning, str) or not reasoning.strip():
        raise InvalidDecision("reasoning must be a non-empty string")
    raw_actions = data.get("actions", [])
    if not isinstance(raw_actions, list):
        raise InvalidDecision("actions must be a list")
    actions = []
    for item in raw_actions:
        # Some models write {"command": "..."} despite the schema; accept that shape too.
        command = item.get("command") if isinstance(item, dict) else item
        if not isinstance(command, str):
            raise InvalidDecision(f"action must be a string, got {item!r}")
        command = " ".join(command.split())
        if command and len(command) <= MAX_ACTION_CHARS and command not in actions:
            actions.append(command)
    return HeartbeatDecision(
        severity=severity.strip().lower(),
        actions=tuple(actions[:MAX_ACTIONS]),
        reasoning=reasoning.strip()[:MAX_REASONING_CHARS],
        source="model",
    )


Previous = tuple[Perception, HeartbeatDecision]


def build_prompt(perception: Perception, previous: Previous | None = None) -> list[dict[str, str]]:
    """The chat messages the model sees (stored with the tick, exported for tuning)."""
    content = perception.dumps()
    if previous is not None:
        before, decided = previous
        said = json.dumps(decided.to_json(), ensure_ascii=False)
        content = (
            f"Previous tick:\n{before.dumps()}\nPrevious decision ({decided.source}): {said}\n\n"
            f"This tick:\n{content}"
        )
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": content},
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class DecideResult:
    """A decision plus what it cost."""

    decision: HeartbeatDecision  # effective: what the report says
    answer: dict[str, Any] | None  # the model's validated answer, before the rules floor
    prompt: list[dict[str, str]]
    latency_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str = ""  # the model call itself failed (unreachable, timeout): no answer came


class ModelDecider:
    """Asks the local model; any failure falls back to the threshold rules."""

    def __init__(
        self, llm: LLMClient, *, timeout: float = 120.0, clock: Clock | None = None
    ) -> None:
        self._llm = llm
        self._timeout = timeout
        self._clock = clock or SystemClock()
        self.calls = 0  # model calls made (tests, metrics)

    @property
    def provider(self) -> str:
        """The model's provider ("ollama"), for usage accounting."""
        return str(getattr(self._llm, "provider", "ollama"))

    @property
    def model(self) -> str:
        """The model's name, for reports."""
        return str(getattr(self._llm, "model", ""))

    async def decide(
        self, perception: Perception, *, previous: Previous | None = None
    ) -> DecideResult:
        """One model call under a timeout; never raises for a model problem."""
        prompt = build_prompt(perception, previous)
        started = self._clock.monotonic()
        self.calls += 1
        text, prompt_tokens, completion_tokens = "", 0, 0
        try:
            async with asyncio.timeout(self._timeout):
                text, prompt_tokens, completion_tokens = await self._ask(prompt)
            answer = parse_decision(text)
        except TimeoutError:
            return self._fallback(
                perception,
                prompt,
                started,
                f"model timed out after {self._timeout:g}s",
                failed_call=True,
            )
        except LLMError as exc:
            return self._fallback(
                perception, prompt, started, str(exc) or type(exc).__name__, failed_call=True
            )
        except InvalidDecision as exc:
            return self._fallback(
                perception,
                prompt,
                started,
                str(exc) or type(exc).__name__,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The model boundary: an unexpected client error must not cost us the heartbeat.
            log.exception("heartbeat model call failed unexpectedly")
            return self._fallback(
                perception, prompt, started, f"model call failed: {exc}", failed_call=True
            )
        latency = self._clock.monotonic() - started
        decision = answer
        rules = perception.severity
        if rank(answer.severity) < rank(rules):
            decision = replace(
                answer,
                severity=rules,
                reasoning=f"{answer.reasoning} (raised to {rules} by the threshold rules: "
                + ", ".join(r.check for r in perception.failing)
                + ")",
            )
        return DecideResult(
            decision=decision,
            answer=answer.to_json(),
            prompt=prompt,
            latency_s=latency,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )

    async def _ask(self, prompt: list[dict[str, str]]) -> tuple[str, int, int]:
        messages = [Message(role="user", text=prompt[1]["content"])]
        parts: list[str] = []
        end: TurnEnd | None = None
        async for event in self._llm.stream(
            messages, system=prompt[0]["content"], format=DECISION_SCHEMA
        ):
            match event:
                case TextDelta(text=delta):
                    parts.append(delta)
                case TurnEnd():
                    end = event
        text = "".join(parts) or (end.text if end else "")
        if end is None:
            return text, 0, 0
        return text, end.usage.prompt_tokens, end.usage.completion_tokens

    def _fallback(
        self,
        perception: Perception,
        prompt: list[dict[str, str]],
        started: float,
        error: str,
        *,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        failed_call: bool = False,
    ) -> DecideResult:
        log.warning("heartbeat model answer not used, falling back to rules: %s", error)
        return DecideResult(
            decision=rule_decision(perception, source="fallback", error=error),
            answer=None,
            prompt=prompt,
            latency_s=self._clock.monotonic() - started,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            error=error if failed_call else "",
        )
