"""The Heartbeat: one tick = perceive → decide → report → record; labels from 👍/👎 reactions.

Ticks never overlap (a chat-triggered tick waits for a scheduled one). Suggested actions in a
posted report go to approvers (``core.heartbeat.actions``); a tick never waits on a human.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from core.clock import utc
from core.errors import PlatformError
from core.events import ChatRef, MessageRef, Reaction
from core.heartbeat.actions import ActionOffers
from core.heartbeat.decide import ModelDecider
from core.heartbeat.flaps import FlapBook
from core.heartbeat.report import (
    LABEL_HINT,
    DigestStats,
    ReportPolicy,
    ReportState,
    render_digest,
    render_report,
)
from core.heartbeat.rules import rule_decision
from core.heartbeat.values import HeartbeatDecision, Perception, changes
from core.llm.base import Usage
from core.metrics import Metrics
from core.ports import ApprovalRequester, ChatAdapter, Clock
from core.storage.kv import KVStore
from core.storage.ticks import TickRow, TickStore
from core.usage import UsageRecorder

log = logging.getLogger(__name__)

DECIDE_MODES = ("always", "on_change", "never")
FLAPS_KEY = "heartbeat:flaps"
LABEL_KEYS = {
    "👍": "chosen",
    "+1": "chosen",
    "thumbsup": "chosen",
    "👎": "rejected",
    "-1": "rejected",
    "thumbsdown": "rejected",
}
_SKIN_TONES = "\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff\ufe0f"


class Perceiver(Protocol):
    """Something that runs the checks: ``Prober`` in the app, a scripted one in tests."""

    async def perceive(self) -> Perception:
        """Run every check once."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class TickResult:
    """One tick: what was seen and decided, the report text, and whether it was posted."""

    tick_id: int
    trigger: str
    perception: Perception
    decision: HeartbeatDecision
    report: str  # always rendered, posted or not
    reason: str | None  # why it was posted ("changed", "recovered", "still"), None = not due
    posted: MessageRef | None
    latency_s: float
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def severity(self) -> str:
        """The effective severity."""
        return self.decision.severity

    @property
    def source(self) -> str:
        """model | fallback | rules."""
        return self.decision.source


def fit(report: str, limit: int) -> str:
    """The report plus the label hint, shortened at a line break to fit one message."""
    text = f"{report}\n{LABEL_HINT}"
    if len(text) <= limit:
        return text
    room = max(0, limit - len(LABEL_HINT) - 3)
    cut = report.rfind("\n", 0, room)
    return f"{report[: cut if cut > 0 else room]}\n…\n{LABEL_HINT}"[:limit]


def model_calls_per_day(rows: list[TickRow]) -> dict[str, tuple[int, int]]:
    """UTC day -> (model calls, of which fell back to rules) over stored ticks."""
    out: dict[str, tuple[int, int]] = {}
    for row in rows:
        if row.source in ("model", "fallback"):
            day = utc(row.at).strftime("%Y-%m-%d")
            calls, fallbacks = out.get(day, (0, 0))
            out[day] = (calls + 1, fallbacks + (row.source == "fallback"))
    return out


def label_for(key: str) -> str | None:
    """ "chosen" for 👍 (any skin tone, or the name +1), "rejected" for 👎, else None."""
    bare = key.strip().strip(":")
    for mark in _SKIN_TONES:
        bare = bare.replace(mark, "")
    return LABEL_KEYS.get(bare)


class Heartbeat:
    """Scheduled health checks: perceive, decide (model or rules), report, record, label."""

    def __init__(
        self,
        *,
        prober: Perceiver,
        decider: ModelDecider | None,
        store: TickStore,
        clock: Clock,
        workspace: Path | str,
        adapters: Mapping[str, ChatAdapter] | None = None,
        channel: ChatRef | None = None,
        broker: ApprovalRequester | None = None,
        metrics: Metrics | None = None,
        decide_mode: str = "on_change",
        cooldown: float = 3600.0,
        action_timeout: float = 120.0,
        classify: Callable[[str], Any] | None = None,
        labelers: frozenset[str] | None = None,
        usage: UsageRecorder | None = None,
        redecide_every: int = 12,
        kv: KVStore | None = None,
    ) -> None:
        if decide_mode not in DECIDE_MODES:
            raise ValueError(f"decide_mode must be one of {DECIDE_MODES}, got {decide_mode!r}")
        self._prober = prober
        self._decider = decider
        self._store = store
        self._clock = clock
        self._workspace = Path(workspace)
        self._adapters = dict(adapters or {})
        self._channel = channel
        self._actions = (
            ActionOffers(
                broker,
                adapters=self._adapters,
                workspace=self._workspace,
                timeout=action_timeout,
                classify=classify,
            )
            if broker is not None
            else None
        )
        self._metrics = metrics
        self._mode = decide_mode
        self._cooldown = cooldown
        self._labelers = labelers  # platform:id allowed to label; None = anyone in the channel
        self._usage = usage
        self._lock = asyncio.Lock()
        self._policy: ReportPolicy | None = None
        self._last_statuses: dict[str, str] | None = None
        self._last_perception: Perception | None = None
        self._last_decision: HeartbeatDecision | None = None
        # The model's last decision on a non-healthy state, reused while that state holds.
        self._held: HeartbeatDecision | None = None
        self._held_statuses: dict[str, str] | None = None
        self._held_ticks = 0
        self._redecide_every = max(1, redecide_every)
        self._kv = kv  # keeps the per-check flap book across restarts
        self._flaps = FlapBook(cooldown)

    # -- the tick ---------------------------------------------------------------------------------

    async def tick(self, *, trigger: str = "schedule") -> TickResult:
        """Perceive → decide → report (when the policy says so) → record; ticks never overlap."""
        async with self._lock:
            return await self._tick(trigger)

    async def _tick(self, trigger: str) -> TickResult:
        policy = await self._load_state()
        started = self._clock.monotonic()
        perception = await self._prober.perceive()
        statuses = perception.statuses()
        changed = changes(self._last_statuses, statuses)
        prompt: list[dict[str, str]] | None = None
        answer: dict[str, Any] | None = None
        tokens = (0, 0)
        # Someone who asks for a heartbeat gets a fresh decision; schedules reuse a held one.
        held = self._reusable(perception, statuses) if trigger == "schedule" else None
        if held is not None:
            decision = held
            self._held_ticks += 1
        elif self._should_ask(perception, statuses):
            assert self._decider is not None
            previous = None
            if self._last_perception is not None and self._last_decision is not None:
                previous = (self._last_perception, self._last_decision)
            result = await self._decider.decide(perception, previous=previous)
            decision, prompt, answer = result.decision, result.prompt, result.answer
            tokens = (result.prompt_tokens, result.completion_tokens)
            await self._record_usage(result.latency_s, tokens, result.error)
            self._hold(decision, statuses)
        else:
            decision = rule_decision(perception)
            self._hold(None, None)
        latency = self._clock.monotonic() - started
        now = self._clock.now()
        reason = policy.reason(decision.severity, now)
        report = render_report(
            perception,
            decision,
            reason=reason,
            changed=changed,
            actions_requested=self._actions is not None and self._channel is not None,
            model=self._decider.model if self._decider else "",
        )
        tick_id = await self._store.record(
            at=perception.at,
            perception=perception.dumps(),
            prompt=json.dumps(prompt, ensure_ascii=False) if prompt else "",
            decision=answer if answer is not None else decision.to_json(),
            severity=decision.severity,
            source=decision.source,
            latency_s=latency,
            prompt_tokens=tokens[0],
            completion_tokens=tokens[1],
        )
        self._last_statuses = statuses
        self._last_perception = perception
        self._last_decision = decision
        posted = None
        wrong = self._flaps.wrong(statuses) if self._adapter(quiet=True) else []
        own = [c for c in wrong if self._flaps.message_of(c, now) is not None]
        if reason == "flapping" or (reason == "recovered" and wrong and own == wrong):
            reason = None  # each check's own message says it (a re-failure is never silent)
        if reason is None:
            notes = await self._say_checks(tick_id, wrong, perception, now)
            if notes:
                posted = notes[-1]
                reason = "recovered" if all(statuses[c] == "ok" for c in wrong) else "flapping"
                policy.posted(decision.severity, now, alert=False)
        else:
            # A check's own message of this window must not keep saying it fails.
            healed = [c for c in own if statuses[c] == "ok"]
            await self._say_checks(tick_id, healed, perception, now)
            posted = await self._post(tick_id, report)
            if posted is not None:
                policy.posted(decision.severity, now)
                self._flaps.full_report(statuses, now)
                if self._actions is not None:
                    self._actions.offer(tick_id, decision.actions, posted)
        if posted is not None and self._kv is not None:
            await self._kv.set(FLAPS_KEY, self._flaps.dumps(), now=now)
        if self._metrics is not None:
            self._metrics.inc(
                "hearth_heartbeat_ticks_total", severity=decision.severity, source=decision.source
            )
        log.info(
            "heartbeat tick %d (%s): %s by %s in %.2fs%s",
            tick_id,
            trigger,
            decision.severity,
            decision.source,
            latency,
            f", posted ({reason})" if posted else "",
        )
        return TickResult(
            tick_id=tick_id,
            trigger=trigger,
            perception=perception,
            decision=decision,
            report=report,
            reason=reason,
            posted=posted,
            latency_s=latency,
            prompt_tokens=tokens[0],
            completion_tokens=tokens[1],
        )

    def _reusable(
        self, perception: Perception, statuses: Mapping[str, str]
    ) -> HeartbeatDecision | None:
        """The held model decision when the non-healthy state is unchanged and not due again."""
        if self._mode != "on_change" or self._held is None or perception.severity == "ok":
            return None
        if statuses != self._held_statuses or self._held_ticks + 1 >= self._redecide_every:
            return None
        return replace(self._held, source="reused")

    def _hold(self, decision: HeartbeatDecision | None, statuses: dict[str, str] | None) -> None:
        """Keep a model decision for reuse (a fallback is not kept: the next tick asks again)."""
        kept = decision is not None and decision.source == "model"
        self._held = decision if kept else None
        self._held_statuses = statuses if kept else None
        self._held_ticks = 0

    async def _record_usage(
        self, latency: float, tokens: tuple[int, int], error: str = ""
    ) -> None:
        if self._usage is None or self._decider is None:
            return
        try:
            await self._usage.record(
                provider=self._decider.provider,
                model=self._decider.model,
                purpose="heartbeat",
                usage=Usage(
                    prompt_tokens=tokens[0], completion_tokens=tokens[1], duration_s=latency
                ),
                error=error,
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            # Accounting must not cost us the tick.
            log.exception("could not record heartbeat model usage")

    def _should_ask(self, perception: Perception, statuses: Mapping[str, str]) -> bool:
        if self._decider is None or self._mode == "never":
            return False
        if self._mode == "always":
            return True
        # on_change: the common healthy, unchanged tick costs zero model calls.
        return perception.severity != "ok" or statuses != self._last_statuses

    async def _load_state(self) -> ReportPolicy:
        """Seed the report policy and last statuses from the store once (survives restarts)."""
        if self._policy is not None:
            return self._policy
        last = await self._store.last()
        if last is not None:
            self._last_perception = Perception.loads(last.perception, last.at)
            self._last_statuses = self._last_perception.statuses()
            self._last_decision = HeartbeatDecision(
                severity=last.severity,
                actions=tuple(str(a) for a in last.decision.get("actions") or ()),
                reasoning=str(last.decision.get("reasoning", "")),
                source=last.source,
            )
            if last.source in ("model", "reused") and last.severity != "ok":
                # After a restart the unchanged state is not paid for again.
                self._hold(replace(self._last_decision, source="model"), self._last_statuses)
        reported = await self._store.last(reported=True)
        if self._kv is not None:
            self._flaps.load(await self._kv.get(FLAPS_KEY))
        if reported is not None:
            # What the last report said, for checks the stored book does not know.
            self._flaps.seed(Perception.loads(reported.perception, reported.at).statuses())
        state = ReportState()
        if reported is not None:
            alerts = await self._store.last_alerts(self._clock.now() - self._cooldown)
            state = ReportState(reported.severity, reported.at, alerts)
        self._policy = ReportPolicy(cooldown=self._cooldown, state=state)
        return self._policy

    # -- reporting --------------------------------------------------------------------------------

    def _adapter(self, *, quiet: bool = False) -> ChatAdapter | None:
        if self._channel is None:
            return None
        adapter = self._adapters.get(self._channel.platform)
        if adapter is None and not quiet:
            log.warning("HEARTBEAT_CHANNEL platform %r is not running", self._channel.platform)
        return adapter

    async def _say_checks(
        self, tick_id: int, checks: list[str], perception: Perception, now: float
    ) -> list[MessageRef]:
        """Post or edit each check's own message so the channel's last word matches it."""
        adapter = self._adapter()
        if adapter is None or self._channel is None:
            return []
        results = {r.check: r for r in perception.results}
        out: list[MessageRef] = []
        for check in checks:
            result = results.get(check)
            if result is None:
                continue
            text = self._flaps.text(check, result, now)
            ref = self._flaps.message_of(check, now)
            try:
                if ref is not None:
                    await adapter.edit(ref, text)
                else:
                    ref = await adapter.post(self._channel, text)
            except PlatformError as exc:
                # Not marked as heard, so the next tick says it again.
                log.warning("heartbeat note on %s not sent: %s", check, exc)
                continue
            self._flaps.said(check, result.status, now, ref)
            await self._store.set_report(
                tick_id,
                platform=ref.chat.platform,
                channel=ref.chat.channel_id,
                message_id=ref.message_id,
            )
            out.append(ref)
        return out

    async def _post(self, tick_id: int, report: str) -> MessageRef | None:
        adapter = self._adapter()
        if adapter is None or self._channel is None:
            return None
        try:
            ref = await adapter.post(
                self._channel, fit(report, adapter.capabilities.max_message_chars)
            )
        except PlatformError as exc:
            # Not recorded as posted, so the policy tries again on the next tick.
            log.warning("heartbeat report not posted to %s: %s", self._channel.key, exc)
            return None
        await self._store.set_report(
            tick_id,
            platform=ref.chat.platform,
            channel=ref.chat.channel_id,
            message_id=ref.message_id,
        )
        for key in ("👍", "👎"):
            try:
                await adapter.react(ref, key)
            except PlatformError as exc:
                log.warning("could not add %s to the heartbeat report: %s", key, exc)
                break
        return ref

    async def digest(self, *, hours: float = 24.0) -> str:
        """Post (when a channel is set) and return a summary of the last ``hours`` of ticks."""
        since = self._clock.now() - hours * 3600
        rows = await self._store.history(since=since)
        failing: Counter[str] = Counter()
        for row in rows:
            for check, status in Perception.loads(row.perception, row.at).statuses().items():
                if status != "ok":
                    failing[check] += 1
        stats = DigestStats(
            ticks=len(rows),
            by_severity={
                s: sum(r.severity == s for r in rows) for s in ("ok", "warning", "critical")
            },
            by_source=dict(Counter(r.source for r in rows)),
            reports=sum(r.reported for r in rows),
            labeled=dict(Counter(r.label for r in rows if r.label)),
            failing_checks=dict(failing),
            model_calls=model_calls_per_day(rows),
        )
        current = self._last_perception
        if current is None and rows:
            current = Perception.loads(rows[-1].perception, rows[-1].at)
        text = render_digest(stats, current, hours=hours)
        adapter = self._adapter()
        if adapter is not None and self._channel is not None:
            try:
                await adapter.post(self._channel, text)
            except PlatformError as exc:
                log.warning("heartbeat digest not posted: %s", exc)
        return text

    # -- labels -----------------------------------------------------------------------------------

    async def on_reaction(self, reaction: Reaction) -> bool:
        """👍/👎 on a posted report labels its tick chosen/rejected; False for anything else."""
        label = label_for(reaction.key)
        if label is None or reaction.user.is_bot:
            return False  # our own seed reactions come back as events on some platforms
        if self._labelers is not None and reaction.user.qualified not in self._labelers:
            log.info("ignored a heartbeat label from %s (not allowed)", reaction.user.qualified)
            return False
        target = reaction.target
        tick_id = await self._store.find_by_report(
            target.chat.platform, target.chat.channel_id, target.message_id
        )
        if tick_id is None:
            return False
        await self._store.set_label(tick_id, label)
        log.info("heartbeat tick %d labeled %s by %s", tick_id, label, reaction.user.qualified)
        return True

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for pending action requests (tests; graceful shutdown)."""
        if self._actions is not None:
            await self._actions.drain(timeout)

    async def close(self) -> None:
        """Cancel pending action requests and wait for them to end."""
        if self._actions is not None:
            await self._actions.close()
