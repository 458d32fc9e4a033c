"""ApprovalBroker: asks approvers before risky work, and cannot be bypassed or lost.

The request is stored and registered before its prompt is posted (a fast click is never lost);
only configured approvers decide; the first decision wins (double clicks are harmless); expiry
is a denial; every step lands in the audit trail; after a restart, prompts left pending are
closed as expired. Nothing here ever approves on its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
import secrets
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from core.approvals.payload import REACTION_DECISIONS, valid_id
from core.clock import utc
from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalResponse,
    ChatRef,
    Decision,
    MessageRef,
    Reaction,
    User,
)
from core.metrics import Metrics
from core.notices import CloseNotice, PostNotice
from core.outbox import Outbox
from core.ports import ChatAdapter, Clock
from core.redact import Redactor
from core.storage.approvals import ApprovalRecord, ApprovalStore
from core.thread import Threads

log = logging.getLogger(__name__)

RESTART_REASON = "expired: hearth restarted"
MAX_SHOWN_COMMAND = 1500  # fits a Discord prompt (2,000 chars) with its cwd, task and requester


def _new_id() -> str:
    while True:
        candidate = secrets.token_urlsafe(6)  # 8 url-safe characters
        if candidate[0].isalnum():  # `approve -x…` would read like an option
            return candidate


def _duration(seconds: float) -> str:
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


class Resolution(enum.Enum):
    """What became of one approve/deny attempt."""

    DECIDED = "decided"
    UNKNOWN = "unknown"  # no such approval
    CLOSED = "closed"  # already decided, expired, or closed by a restart
    NOT_ALLOWED = "not_allowed"  # the user is not an approver
    WRONG_PROMPT = "wrong_prompt"  # the click came from another message than the prompt
    IGNORED = "ignored"  # bots, including hearth itself


@dataclass(slots=True)
class _Pending:
    request: ApprovalRequest
    future: asyncio.Future[ApprovalOutcome]
    prompt: MessageRef | None = None
    outcome: ApprovalOutcome | None = None  # set synchronously by whoever decides first
    refused: set[str] = field(default_factory=set)  # users already told they cannot decide
    stored: bool = False  # our decision reached storage first (another process may have won)
    deadline: float = 0.0  # on the clock's monotonic scale
    timeout: float = 0.0  # seconds this request waits (APPROVAL_TIMEOUT or a scheduled run's)


class ApprovalBroker:
    """Posts approval prompts through adapters and waits for an approver's decision."""

    def __init__(
        self,
        adapters: Mapping[str, ChatAdapter],
        store: ApprovalStore,
        *,
        approvers: Collection[str],
        timeout: float,
        clock: Clock,
        metrics: Metrics | None = None,
        secrets: Sequence[str] = (),
        threads: Threads | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        self._adapters = adapters
        self._secrets = Redactor(secrets, patterns=False)
        # Prompts are posted and closed through the chat's TaskThread, in line with its edits.
        self._threads = threads or Threads(adapters, clock=clock, metrics=metrics)
        self._outbox = outbox  # None: restart closures are made at once (tests)
        self._explained: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._store = store
        # Kept as given: a live view (the runtime roster) sees approvers added from chat.
        self._approvers = approvers
        self._timeout = float(timeout)
        self._clock = clock
        self._metrics = metrics
        self._pending: dict[str, _Pending] = {}
        self._by_prompt: dict[tuple[str, str], str] = {}

    @property
    def approvers(self) -> frozenset[str]:
        """Qualified ids (``platform:id``) of everyone who may decide."""
        return frozenset(self._approvers)

    @property
    def timeout(self) -> float:
        """Seconds before an unanswered request expires (= deny)."""
        return self._timeout

    def may_decide(self, user: User) -> bool:
        """Only configured approvers decide; the requester too, but only if an approver."""
        return not user.is_bot and user.qualified in self._approvers

    def pending_ids(self) -> list[str]:
        """Ids of the approvals this process is waiting on."""
        return list(self._pending)

    async def request(
        self,
        *,
        chat: ChatRef,
        command: str,
        cwd: str,
        task_id: str,
        requester: User,
        tool_name: str = "shell",
        reasons: tuple[str, ...] = (),
        kind: str = "command",
        timeout: float | None = None,
    ) -> ApprovalOutcome:
        """Ask for approval of exactly ``command`` in ``cwd``; returns when decided or expired.

        Cancelling the caller closes the prompt as cancelled. Posting failures deny.
        """
        now = self._clock.now()
        timeout = self._timeout if timeout is None else float(timeout)
        request = ApprovalRequest(
            id=_new_id(),
            chat=chat,
            command=command,
            cwd=cwd,
            task_id=task_id,
            requester=requester,
            tool_name=tool_name,
            reasons=tuple(reasons),
            expires_at=utc(now + timeout),
            kind=kind,
        )
        loop = asyncio.get_running_loop()
        pending = _Pending(
            request, loop.create_future(), deadline=self._clock.monotonic() + timeout
        )
        # A configured secret in what an approver would read: refused, never shown, and the
        # audit trail keeps only a masked copy.
        secret = any(self._secrets.has_secret(t) for t in (command, cwd, *reasons))
        stored = (
            dataclasses.replace(
                request,
                command=self._secrets.redact(command),
                cwd=self._secrets.redact(cwd),
                reasons=tuple(self._secrets.redact(r) for r in reasons),
            )
            if secret
            else request
        )
        pending.timeout = timeout
        # Registered and stored before the prompt exists: a click that arrives while ask_approval
        # is still returning finds its request.
        self._pending[request.id] = pending
        try:
            await self._store.add(stored, created_at=now, expires_at=now + timeout)
            if secret:
                return await self._fail(
                    pending,
                    "refused: it contains a secret (one of hearth's configured secret values), "
                    "which is never shown in chat; refer to it by its variable name instead",
                )
            if len(command) > MAX_SHOWN_COMMAND:
                # An approver must be able to read every character of what they approve.
                return await self._fail(
                    pending,
                    f"the command is {len(command)} characters long, too long to show an "
                    f"approver in full (limit {MAX_SHOWN_COMMAND}); split it into shorter "
                    "commands and write files with write_file",
                )
            if chat.platform not in self._adapters:
                return await self._fail(pending, f"no adapter for platform {chat.platform!r}")
            try:
                pending.prompt = await self._threads.open(chat).ask_approval(request)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the platform's failure must deny, not crash the task
                log.exception("could not post approval prompt %s", request.id)
                return await self._fail(
                    pending, f"the approval prompt could not be posted ({exc})"
                )
            self._by_prompt[(chat.platform, pending.prompt.message_id)] = request.id
            await self._store.set_prompt(request.id, pending.prompt, at=self._clock.now())
            outcome = await self._wait(pending)
            if pending.stored:
                await self._close(pending, outcome)
            return outcome
        except asyncio.CancelledError:
            cancelled = self._claim(pending, Decision.DENY, None, "cancelled: the task stopped")
            if cancelled is not None:
                try:
                    await asyncio.shield(self._finish(pending, cancelled, "cancelled"))
                except Exception:  # the cancellation must still propagate
                    log.exception("could not close cancelled approval %s", request.id)
            raise
        finally:
            self._pending.pop(request.id, None)
            if pending.prompt is not None:
                self._by_prompt.pop((chat.platform, pending.prompt.message_id), None)

    async def _wait(self, pending: _Pending) -> ApprovalOutcome:
        """The decision, or a denial once the timeout passes on the injected clock."""
        remaining = pending.deadline - self._clock.monotonic()
        expiry = asyncio.create_task(
            self._clock.sleep(remaining), name=f"approval-expiry:{pending.request.id}"
        )
        try:
            await asyncio.wait({pending.future, expiry}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            expiry.cancel()
        if not pending.future.done():
            reason = f"expired after {_duration(pending.timeout)}"
            outcome = self._claim(pending, Decision.DENY, None, reason)
            if outcome is not None:
                await self._record(pending, outcome, "expired")
        return await pending.future

    def _claim(
        self, pending: _Pending, decision: Decision, user: User | None, reason: str
    ) -> ApprovalOutcome | None:
        """Take the decision synchronously; None when someone else already decided."""
        if pending.outcome is not None:
            return None
        pending.outcome = ApprovalOutcome(
            decision=decision,
            decided_by=user,
            decided_at=utc(self._clock.now()),
            reason=reason,
        )
        return pending.outcome

    async def _record(self, pending: _Pending, outcome: ApprovalOutcome, status: str) -> bool:
        """Persist a claimed decision and wake the waiting task; False if it did not stick.

        The waiting task only ever sees an approval that is in the audit trail: if storage
        already holds another decision (closed by a restart), that one wins; if storage
        fails, the task gets a denial.
        """
        stored = False
        final = ApprovalOutcome(
            decision=Decision.DENY,
            decided_by=None,
            decided_at=outcome.decided_at,
            reason="the decision could not be recorded",
        )
        try:
            stored = await self._store.decide(
                pending.request.id,
                status=status,
                decided_by=outcome.decided_by.qualified if outcome.decided_by else None,
                decided_by_name=outcome.decided_by.display_name if outcome.decided_by else "",
                reason=outcome.reason,
                at=outcome.decided_at.timestamp(),
            )
            if stored:
                final = outcome
            else:
                log.warning("approval %s was already closed in storage", pending.request.id)
                final = await self._stored_outcome(pending.request.id, final)
        except Exception:  # a storage failure denies; it must not leave the task waiting
            log.exception("could not record decision on approval %s", pending.request.id)
        finally:
            pending.stored = stored
            if not pending.future.done():
                pending.future.set_result(final)
            if self._metrics is not None:
                self._metrics.inc("hearth_approvals_total", outcome=status if stored else "lost")
        return stored

    async def _stored_outcome(
        self, approval_id: str, fallback: ApprovalOutcome
    ) -> ApprovalOutcome:
        """The decision storage holds for ``approval_id`` (another process made it)."""
        record = await self._store.get(approval_id)
        if record is None or record.pending:
            return fallback
        decided_by = None
        if record.decided_by:
            platform, _, uid = record.decided_by.partition(":")
            decided_by = User(platform, uid, record.decided_by_name)
        approved = record.status == "approved" and decided_by is not None
        return ApprovalOutcome(
            decision=Decision.APPROVE if approved else Decision.DENY,
            decided_by=decided_by,
            decided_at=utc(record.decided_at or self._clock.now()),
            reason=record.reason or record.status,
        )

    async def _finish(self, pending: _Pending, outcome: ApprovalOutcome, status: str) -> None:
        if await self._record(pending, outcome, status):
            await self._close(pending, outcome)

    async def _fail(self, pending: _Pending, reason: str) -> ApprovalOutcome:
        outcome = self._claim(pending, Decision.DENY, None, reason)
        assert outcome is not None  # nobody could decide a request without a prompt
        await self._record(pending, outcome, "failed")
        return outcome

    async def _close(self, pending: _Pending, outcome: ApprovalOutcome) -> None:
        """Edit the prompt to show the outcome; a platform failure is logged, not raised."""
        if pending.prompt is None or pending.prompt.chat.platform not in self._adapters:
            return
        try:
            thread = self._threads.open(pending.prompt.chat)
            if not await thread.close_approval(pending.prompt, outcome):
                log.error("could not close approval prompt %s", pending.request.id)
        except asyncio.CancelledError:
            raise
        except Exception:  # the decision stands even if the prompt cannot be edited
            log.exception("could not close approval prompt %s", pending.request.id)

    # ---- decisions ---------------------------------------------------------------------------

    async def resolve(self, response: ApprovalResponse) -> bool:
        """Apply a click; True only when it decided the approval.

        A click on an approval that is unknown, expired or already decided is answered in the
        prompt's thread (once per user and approval), so it never seems to do nothing.
        """
        resolution = await self.answer(response)
        if resolution in (Resolution.UNKNOWN, Resolution.CLOSED):
            await self._explain(response)
        return resolution is Resolution.DECIDED

    async def _explain(self, response: ApprovalResponse) -> None:
        key = (response.approval_id, response.user.qualified)
        if response.prompt is None or key in self._explained:
            return
        self._explained[key] = None
        while len(self._explained) > 10_000:
            self._explained.popitem(last=False)
        record = await self.lookup(response.approval_id)
        # The stored prompt knows its thread (a reaction after a restart only knows the room).
        where = record.prompt.chat if record and record.prompt else response.prompt.chat
        if where.platform not in self._adapters:
            return
        text = closed_note(response.approval_id, record)
        thread = self._threads.open(where)
        await thread.say(text)

    async def answer(
        self, response: ApprovalResponse, *, notify: bool = True, reason: str = ""
    ) -> Resolution:
        """Apply a decision attempt and say what became of it.

        Non-approvers get one short note per approval in the prompt's thread (``notify``);
        text commands pass ``notify=False`` and reply themselves. ``reason`` explains a denial.
        """
        user = response.user
        if user.is_bot:
            return Resolution.IGNORED
        pending = self._pending.get(response.approval_id)
        if pending is None:
            record = (
                await self._store.get(response.approval_id)
                if valid_id(response.approval_id)
                else None
            )
            return Resolution.UNKNOWN if record is None else Resolution.CLOSED
        now = self._clock.now()
        if (
            response.prompt is not None
            and pending.prompt is not None
            and response.prompt.message_id != pending.prompt.message_id
        ):
            await self._store.log(
                response.approval_id,
                at=now,
                actor=user.qualified,
                action="wrong_prompt",
                detail=response.prompt.message_id,
            )
            return Resolution.WRONG_PROMPT
        if not self.may_decide(user):
            await self._refuse(pending, user, notify=notify)
            return Resolution.NOT_ALLOWED
        if response.decision is Decision.APPROVE:
            reason, status = f"approved by {user.display_name or user.id}", "approved"
        else:
            reason, status = reason.strip()[:200], "denied"
        outcome = self._claim(pending, response.decision, user, reason)
        if outcome is None:
            await self._store.log(
                response.approval_id,
                at=now,
                actor=user.qualified,
                action="late_click",
                detail=response.decision.value,
            )
            return Resolution.CLOSED
        if not await self._record(pending, outcome, status):
            return Resolution.CLOSED
        return Resolution.DECIDED

    async def _refuse(self, pending: _Pending, user: User, *, notify: bool) -> None:
        request = pending.request
        await self._store.log(
            request.id,
            at=self._clock.now(),
            actor=user.qualified,
            action="refused",
            detail="not an approver",
        )
        if self._metrics is not None:
            self._metrics.inc("hearth_approvals_total", outcome="refused")
        if not notify or user.qualified in pending.refused:
            return  # one note per user per approval: a spammer cannot make the bot spam
        pending.refused.add(user.qualified)
        where = pending.prompt.chat if pending.prompt is not None else request.chat
        adapter = self._adapters.get(where.platform)
        if adapter is None:
            return
        try:
            await adapter.post(where, refusal_note(user))
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed note must not turn a refusal into a crash
            log.exception("could not post refusal note for approval %s", request.id)

    async def resolve_reaction(self, reaction: Reaction) -> bool:
        """✅/❌ on an approval prompt; True when the reaction was on one (it is consumed)."""
        decision = REACTION_DECISIONS.get(reaction.key)
        if decision is None:
            return False
        key = (reaction.target.chat.platform, reaction.target.message_id)
        approval_id = self._by_prompt.get(key)
        if approval_id is None:
            # A prompt closed earlier (or by a restart): the reaction is answered, not run.
            record = await self._store.find_by_prompt(*key)
            if record is None or reaction.user.is_bot:
                return record is not None
            await self._explain(
                ApprovalResponse(
                    approval_id=record.id,
                    decision=decision,
                    user=reaction.user,
                    prompt=reaction.target,
                    event_id=reaction.event_id,
                )
            )
            return True
        await self.answer(
            ApprovalResponse(
                approval_id=approval_id,
                decision=decision,
                user=reaction.user,
                prompt=reaction.target,
                event_id=reaction.event_id,
            )
        )
        return True

    async def lookup(self, approval_id: str) -> ApprovalRecord | None:
        """The stored approval, for status replies (``approve <id>`` on a closed one)."""
        return await self._store.get(approval_id) if valid_id(approval_id) else None

    # ---- restart ---------------------------------------------------------------------------

    async def recover(self) -> int:
        """Close prompts left pending by a previous run as expired and tell their threads."""
        closed = 0
        for record in await self._store.pending():
            if record.id in self._pending:
                continue  # ours, still being waited on
            now = self._clock.now()
            stored = await self._store.decide(
                record.id, status="expired", decided_by=None, reason=RESTART_REASON, at=now
            )
            if not stored:
                continue
            closed += 1
            if self._metrics is not None:
                self._metrics.inc("hearth_approvals_total", outcome="expired")
            outcome = ApprovalOutcome(
                decision=Decision.DENY, decided_by=None, decided_at=utc(now), reason=RESTART_REASON
            )
            if self._outbox is not None:
                # Delivered once the platform is connected, retried until it is.
                if record.prompt is not None:
                    await self._outbox.put(
                        record.chat.platform,
                        f"close stale approval {record.id}",
                        CloseNotice(record.prompt, outcome),
                    )
                await self._outbox.put(
                    record.chat.platform,
                    f"stale approval {record.id}",
                    PostNotice(record.chat, restart_note(record)),
                )
                continue
            adapter = self._adapters.get(record.chat.platform)
            if adapter is None:
                continue
            try:
                if record.prompt is not None:
                    await adapter.close_approval(record.prompt, outcome)
                await adapter.post(record.chat, restart_note(record))
            except asyncio.CancelledError:
                raise
            except Exception:  # one unreachable chat must not stop the others being closed
                log.exception("could not close stale approval %s", record.id)
        return closed


def restart_note(record: ApprovalRecord) -> str:
    """What a thread is told about an approval a restart closed."""
    return (
        f"hearth restarted while approval {record.id} (`{record.command}`) was "
        "waiting, so it was closed and nothing was run. Ask again to retry."
    )


def closed_note(approval_id: str, record: ApprovalRecord | None) -> str:
    """The answer to a click on an approval that can no longer be decided."""
    if record is None:
        return (
            f"Approval `{approval_id}` is unknown here (it may come from an older hearth), "
            "so nothing was run. Ask again if it is still needed."
        )
    if record.reason == RESTART_REASON:
        return (
            f"Approval `{record.id}` expired when hearth restarted, so nothing was run. "
            "Ask again if it is still needed."
        )
    if record.status == "expired" or record.decided_by is None:
        why = record.reason or record.status
        return f"Approval `{record.id}` is closed ({why}), so nothing was run."
    who = record.decided_by_name or record.decided_by
    return f"Approval `{record.id}` was already decided: {record.status} by {who}."


def refusal_note(user: User) -> str:
    """The one-line reply to someone who may not decide an approval."""
    name = user.display_name or user.id
    return f"@{name}, only approvers can decide this approval."
