"""AgentConfig: the agent's knobs, built by bot/wiring.py from Settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentConfig:
    """Thresholds, caps and limits of the plan/execute/verify/escalate loop."""

    workspace: Path = Path("data/workspace")
    escalation_enabled: bool = True  # ESCALATION_ENABLED
    escalation_threshold: float = 0.6  # ESCALATION_THRESHOLD: confidence below → escalate
    failure_limit: int = 3  # ESCALATION_FAILURE_LIMIT: tool failures in a row → escalate
    subtask_timeout: float = 120.0  # SUBTASK_TIMEOUT seconds per attempt
    verification: bool = True  # VERIFICATION_ENABLED
    compress_at: float = 0.7  # CONTEXT_COMPRESS_AT × num_ctx triggers the watchdog
    max_rounds: int = 12  # model rounds per subtask attempt
    tool_cap: int = 4  # calls per tool name per subtask (tools that change things)
    read_only_cap: int = 12  # calls per read-only tool name per subtask
    breaker_failures: int = 5  # cumulative tool failures before "commit to an answer"
    max_subtasks: int = 6
    default_confidence: float = 0.7  # when the model states none
    failure_confidence: float = 0.3  # clamp on a hard-failure signal or a refusal
    keep_recent_rounds: int = 3  # tool rounds the watchdog keeps verbatim
    max_result_chars: int = 6000  # one tool result as the model sees it
    cloud_max_tokens: int = 4096  # completion cap used for budget estimates
