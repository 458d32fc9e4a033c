"""ApprovalBroker: asks approvers before risky work, and cannot be bypassed or lost.

The request is stored and registered before its prompt is posted (a fast click is never lost);
only configured approvers decide; the first decision wins (double clicks are harmless); expiry
is a denial; every step lands in the audit trail; after a restart, prompts left pending are
closed as expired. Nothing here ever approves on its own. The broker asks and waits; the
ledger claims and stores decisions, ``decisions`` applies people's attempts, ``restart``
closes what a previous run left open.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections.abc import Collection, Mapping, Sequence

from core.approvals.decisions import Decisions, Resolution
from core.approvals.ledger import Ledger, Pending
from core.approvals.restart import close_stale
from core.clock import utc
from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalResponse,
    ChatRef,
    Decision,
    Reaction,
    User,
)
from core.metrics import Metrics
from core.outbox import Outbox
from core.ports import ChatAdapter, Clock
from core.redact import Redactor
from core.storage.approvals import ApprovalRecord, ApprovalStore
from core.thread import Threads

log = logging.getLogger(__name__)

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
        self._store = store
        self._timeout = float(timeout)
        self._clock = clock
        self._metrics = metrics
        self._ledger = Ledger(store, clock=clock, metrics=metrics)
        self._decisions = Decisions(
            self._ledger,
            adapters=adapters,
            threads=self._threads,
            approvers=approvers,
            clock=clock,
            metrics=metrics,
        )

    @property
    def approvers(self) -> frozenset[str]:
        """Qualified ids (``platform:id``) of everyone who may decide."""
        return frozenset(self._decisions.approvers)

    @property
    def timeout(self) -> float:
        """Seconds before an unanswered request expires (= deny)."""
        return self._timeout

    def may_decide(self, user: User) -> bool:
        """Only configured approvers decide; the requester too, but only if an approver."""
        return self._decisions.may_decide(user)

    def pending_ids(self) -> list[str]:
        """Ids of the approvals this process is waiting on."""
        return self._ledger.ids()

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
        pending = Pending(
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
        self._ledger.add(pending)
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
                prompt = await self._threads.open(chat).ask_approval(request)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the platform's failure must deny, not crash the task
                log.exception("could not post approval prompt %s", request.id)
                return await self._fail(
                    pending, f"the approval prompt could not be posted ({exc})"
                )
            self._ledger.shown(pending, prompt)
            await self._store.set_prompt(request.id, prompt, at=self._clock.now())
            outcome = await self._wait(pending)
            if pending.stored:
                await self._close(pending, outcome)
            return outcome
        except asyncio.CancelledError:
            cancelled = self._ledger.claim(
                pending, Decision.DENY, None, "cancelled: the task stopped"
            )
            if cancelled is not None:
                try:
                    await asyncio.shield(self._finish(pending, cancelled, "cancelled"))
                except Exception:  # the cancellation must still propagate
                    log.exception("could not close cancelled approval %s", request.id)
            raise
        finally:
            self._ledger.remove(pending)

    async def _wait(self, pending: Pending) -> ApprovalOutcome:
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
            outcome = self._ledger.claim(pending, Decision.DENY, None, reason)
            if outcome is not None:
                await self._ledger.record(pending, outcome, "expired")
        return await pending.future

    async def _finish(self, pending: Pending, outcome: ApprovalOutcome, status: str) -> None:
        if await self._ledger.record(pending, outcome, status):
            await self._close(pending, outcome)

    async def _fail(self, pending: Pending, reason: str) -> ApprovalOutcome:
        outcome = self._ledger.claim(pending, Decision.DENY, None, reason)
        assert outcome is not None  # nobody could decide a request without a prompt
        await self._ledger.record(pending, outcome, "failed")
        return outcome

    async def _close(self, pending: Pending, outcome: ApprovalOutcome) -> None:
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

    # ---- decisions (core.approvals.decisions) ------------------------------------------------

    async def resolve(self, response: ApprovalResponse) -> bool:
        """Apply a click; True only when it decided the approval (see ``Decisions.resolve``)."""
        return await self._decisions.resolve(response)

    async def answer(
        self, response: ApprovalResponse, *, notify: bool = True, reason: str = ""
    ) -> Resolution:
        """Apply a decision attempt and say what became of it (see ``Decisions.answer``)."""
        return await self._decisions.answer(response, notify=notify, reason=reason)

    async def resolve_reaction(self, reaction: Reaction) -> bool:
        """✅/❌ on an approval prompt; True when the reaction was on one (it is consumed)."""
        return await self._decisions.resolve_reaction(reaction)

    async def lookup(self, approval_id: str) -> ApprovalRecord | None:
        """The stored approval, for status replies (``approve <id>`` on a closed one)."""
        return await self._ledger.lookup(approval_id)

    # ---- restart (core.approvals.restart) ----------------------------------------------------

    async def recover(self) -> int:
        """Close prompts left pending by a previous run as expired and tell their threads."""
        return await close_stale(
            self._store,
            adapters=self._adapters,
            clock=self._clock,
            waiting=self._ledger,  # asked live, as each stale record is reached
            metrics=self._metrics,
            outbox=self._outbox,
        )
