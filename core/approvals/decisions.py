"""Decisions: clicks, ✅/❌ reactions and text commands on approvals, and the replies to them.

Only configured approvers decide; a click that cannot decide (not an approver, an approval that
is closed or unknown) is answered once per user and approval, so it never seems to do nothing.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import OrderedDict
from collections.abc import Collection, Mapping

from core.approvals.ledger import Ledger, Pending
from core.approvals.payload import REACTION_DECISIONS
from core.approvals.restart import RESTART_REASON
from core.events import ApprovalResponse, Decision, Reaction, User
from core.metrics import Metrics
from core.ports import ChatAdapter, Clock
from core.storage.approvals import ApprovalRecord
from core.thread import Threads

log = logging.getLogger(__name__)


class Resolution(enum.Enum):
    """What became of one approve/deny attempt."""

    DECIDED = "decided"
    UNKNOWN = "unknown"  # no such approval
    CLOSED = "closed"  # already decided, expired, or closed by a restart
    NOT_ALLOWED = "not_allowed"  # the user is not an approver
    WRONG_PROMPT = "wrong_prompt"  # the click came from another message than the prompt
    IGNORED = "ignored"  # bots, including hearth itself


class Decisions:
    """Applies decision attempts to the ledger's approvals and answers those that cannot."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        adapters: Mapping[str, ChatAdapter],
        threads: Threads,
        approvers: Collection[str],
        clock: Clock,
        metrics: Metrics | None = None,
    ) -> None:
        self._ledger = ledger
        self._store = ledger.store
        self._adapters = adapters
        self._threads = threads
        # Kept as given: a live view (the runtime roster) sees approvers added from chat.
        self.approvers = approvers
        self._clock = clock
        self._metrics = metrics
        self._explained: OrderedDict[tuple[str, str], None] = OrderedDict()

    def may_decide(self, user: User) -> bool:
        """Only configured approvers decide; the requester too, but only if an approver."""
        return not user.is_bot and user.qualified in self.approvers

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
        record = await self._ledger.lookup(response.approval_id)
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
        pending = self._ledger.get(response.approval_id)
        if pending is None:
            record = await self._ledger.lookup(response.approval_id)
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
        outcome = self._ledger.claim(pending, response.decision, user, reason)
        if outcome is None:
            await self._store.log(
                response.approval_id,
                at=now,
                actor=user.qualified,
                action="late_click",
                detail=response.decision.value,
            )
            return Resolution.CLOSED
        if not await self._ledger.record(pending, outcome, status):
            return Resolution.CLOSED
        return Resolution.DECIDED

    async def _refuse(self, pending: Pending, user: User, *, notify: bool) -> None:
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
        approval_id = self._ledger.at_prompt(*key)
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
