"""The Heartbeat: one tick = perceive → decide → report → record; labels from 👍/👎 reactions.

Ticks never overlap (a chat-triggered tick waits for a scheduled one). Suggested actions in a
posted report go to approvers (``core.heartbeat.actions``); a tick never waits on a human.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from core.errors import PlatformError
from core.events import ChatRef, MessageRef, Reaction
from core.heartbeat.actions import ActionOffers
from core.heartbeat.decide import ModelDecider
from core.heartbeat.digest import Digest, build_digest
from core.heartbeat.flaps import FlapBook, say_checks
from core.heartbeat.hold import DecisionHold
from core.heartbeat.labels import label_for
from core.heartbeat.report import (
    ReportPolicy,
    ReportState,
    fit,
    render_report,
)
from core.heartbeat.rules import rule_decision
from core.heartbeat.values import HeartbeatDecision, Perception, TickResult, changes
from core.llm.base import Usage
from core.metrics import Metrics
from core.ports import ApprovalRequester, ChatAdapter, Clock
from core.storage.kv import KVStore
from core.storage.ticks import TickStore
from core.tools.sandbox import SandboxRunner
from core.usage import UsageRecorder

log = logging.getLogger(__name__)

DECIDE_MODES = ("always", "on_change", "never")
FLAPS_KEY = "heartbeat:flaps"


class Perceiver(Protocol):
    """Something that runs the checks: ``Prober`` in the app, a scripted one in tests."""

    async def perceive(self) -> Perception:
        """Run every check once."""
        ...


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
        interval: float = 600.0,
        sandbox: SandboxRunner | None = None,
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
                sandbox=sandbox,
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
        self._hold = DecisionHold(redecide_every)
        self._kv = kv  # keeps the per-check flap book across restarts
        self._flaps = FlapBook(cooldown)
        self._interval = interval  # HEARTBEAT_INTERVAL: how long one tick's statuses hold

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
        reusable = self._mode == "on_change" and trigger == "schedule"
        held = self._hold.reuse(perception) if reusable else None
        if held is not None:
            decision = held
        elif self._should_ask(perception, statuses):
            assert self._decider is not None
            previous = None
            if self._last_perception is not None and self._last_decision is not None:
                previous = (self._last_perception, self._last_decision)
            result = await self._decider.decide(perception, previous=previous)
            decision, prompt, answer = result.decision, result.prompt, result.answer
            tokens = (result.prompt_tokens, result.completion_tokens)
            await self._record_usage(result.latency_s, tokens, result.error)
            self._hold.keep(decision, statuses)
        else:
            decision = rule_decision(perception)
            self._hold.keep(None, statuses)
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
                self._hold.keep(replace(self._last_decision, source="model"), self._last_statuses)
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
        if adapter is None or self._channel is None or not checks:
            return []
        said = await say_checks(adapter, self._channel, self._flaps, checks, perception, now)
        for ref in said:
            await self._store.set_report(
                tick_id,
                platform=ref.chat.platform,
                channel=ref.chat.channel_id,
                message_id=ref.message_id,
            )
        return said

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

    async def draw_digest(self, *, hours: float = 24.0, picture: bool = True) -> Digest:
        """The digest of the last ``hours`` of stored ticks: text and PNG timeline."""
        return await build_digest(
            self._store,
            now=self._clock.now(),
            hours=hours,
            current=self._last_perception,
            interval=self._interval,
            picture=picture,
        )

    async def digest(self, *, hours: float = 24.0) -> str:
        """Post (when a channel is set) and return a summary of the last ``hours`` of ticks."""
        adapter = self._adapter()
        digest = await self.draw_digest(hours=hours, picture=adapter is not None)
        if adapter is not None and self._channel is not None:
            try:
                await adapter.post(self._channel, digest.text)
            except PlatformError as exc:
                log.warning("heartbeat digest not posted: %s", exc)
            if digest.png is not None:
                caption = f"Heartbeat timeline, last {hours:g} h: one row per check"
                try:
                    await adapter.post_image(self._channel, digest.png, digest.filename, caption)
                except PlatformError as exc:
                    # The text digest already went out; the picture is the extra.
                    log.warning("heartbeat digest picture not uploaded: %s", exc)
        return digest.text

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
