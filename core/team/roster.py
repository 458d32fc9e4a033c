"""Roster: who may use hearth right now — the environment's lists plus runtime rows.

The environment stays authoritative for admins: an admin cannot be revoked from chat. Everyone
else may be allowed (by pairing or a grant) or revoked (even when listed in ALLOWED_USERS) at
runtime. Checks are synchronous over an in-memory copy that every change updates, so the
dispatcher and the approval broker ask without touching the database.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from core.clock import SystemClock
from core.events import User
from core.ports import Clock
from core.storage.access import AccessRow, AccessStore
from core.tasks import TaskContext

log = logging.getLogger(__name__)

LostAccess = Callable[[str], Awaitable[int]]  # platform:id -> running tasks stopped


class _Pool(Protocol):
    """The part of the task pool that revoking needs."""

    def active(self) -> Sequence[TaskContext]: ...

    def cancel(self, task_id: str, note: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Member:
    """One line of `users`: who, role, where the access comes from, and its state."""

    user: str
    role: str  # admin|approver|user
    source: str  # env|pairing|grant
    status: str  # allowed|revoked
    display_name: str = ""


class _ApproverView:
    """A live, read-only set of approver ids for the approval broker."""

    def __init__(self, roster: Roster) -> None:
        self._roster = roster

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and self._roster.approves(item)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._roster.approver_ids()))

    def __len__(self) -> int:
        return len(self._roster.approver_ids())


class Roster:
    """Allowed users, approvers and admins; changes are stored, audited and take effect at once."""

    def __init__(
        self,
        store: AccessStore,
        *,
        allowed_users: frozenset[str],
        admins: frozenset[str],
        approvers: frozenset[str],
        clock: Clock | None = None,
    ) -> None:
        self._store = store
        self._env_users = frozenset(allowed_users)
        self._admins = frozenset(admins)
        self._env_approvers = frozenset(approvers)
        self._clock = clock or SystemClock()
        self._rows: dict[str, AccessRow] = {}
        self._on_lost: list[LostAccess] = []
        self.approvers = _ApproverView(self)

    def on_lost_access(self, handler: LostAccess) -> None:
        """Call ``handler(user)`` whenever someone loses access (stop their tasks, jobs)."""
        self._on_lost.append(handler)

    # ---- checks (sync) ------------------------------------------------------------------

    def admin(self, qualified: str) -> bool:
        """True for users listed in ADMINS."""
        return qualified in self._admins

    def allows(self, qualified: str) -> bool:
        """True for admins, and for allowed users not revoked at runtime."""
        if qualified in self._admins:
            return True
        row = self._rows.get(qualified)
        if row is not None:
            return row.status == "allowed"
        return qualified in self._env_users

    def approves(self, qualified: str) -> bool:
        """True for approvers from the environment or granted at runtime, unless revoked."""
        row = self._rows.get(qualified)
        if row is not None and qualified not in self._admins:
            return row.status == "allowed" and (
                row.role == "approver" or qualified in self._env_approvers
            )
        return qualified in self._env_approvers

    def approver_ids(self) -> set[str]:
        """Every current approver."""
        candidates = set(self._env_approvers) | set(self._rows)
        return {q for q in candidates if self.approves(q)}

    def is_admin(self, user: User) -> bool:
        """True for users listed in ADMINS."""
        return not user.is_bot and self.admin(user.qualified)

    def is_allowed(self, user: User) -> bool:
        """True when ``user`` may run tasks and commands."""
        return not user.is_bot and self.allows(user.qualified)

    def is_approver(self, user: User) -> bool:
        """True when ``user`` may decide approvals."""
        return not user.is_bot and self.approves(user.qualified)

    def refusal(self, user: User, *, pairing: bool = False) -> str:
        """The one polite line an unauthorized user gets."""
        if pairing:
            return (
                "Sorry, I only take requests from people on my allowlist. "
                "Send me a direct message to get a pairing code an admin can approve."
            )
        return (
            "Sorry, I only take requests from people on my allowlist. "
            f"Ask an admin to `allow {user.qualified}`."
        )

    def members(self) -> list[Member]:
        """Everyone with a role, from the environment and from runtime rows."""
        out: dict[str, Member] = {}
        for q in sorted(self._env_users | self._env_approvers):
            role = "approver" if q in self._env_approvers else "user"
            out[q] = Member(q, role, "env", "allowed")
        for q, row in self._rows.items():
            role = "approver" if self.approves(q) or row.role == "approver" else "user"
            out[q] = Member(q, role, row.source, row.status, row.display_name)
        for q in self._admins:
            out[q] = Member(q, "admin", "env", "allowed")
        return [out[q] for q in sorted(out)]

    # ---- changes -------------------------------------------------------------------------

    async def load(self) -> list[str]:
        """(Re)read the runtime rows; returns who lost access since the last load.

        A second process (the `hearth users` CLI) may have changed the rows: the running
        app reloads on a schedule, and whoever lost access has their work stopped.
        """
        before = {q for q in {*self._rows, *self._env_users} if self.allows(q)}
        self._rows = {row.user: row for row in await self._store.rows()}
        lost = sorted(q for q in before if not self.allows(q))
        for q in lost:
            await self._lost(q)
        return lost

    async def allow(
        self,
        subject: str,
        *,
        role: str = "user",
        actor: str | None,
        source: str = "grant",
        display_name: str = "",
    ) -> str:
        """Allow ``subject`` (``platform:id``) as user or approver; returns the reply line."""
        if subject in self._admins:
            return f"`{subject}` is an admin (ADMINS in the environment) and already allowed."
        now = self._clock.now()
        await self._store.put(
            subject,
            role=role,
            status="allowed",
            source=source,
            display_name=display_name,
            actor=actor,
            at=now,
            action="allow",
            detail=f"as {role} ({source})",
        )
        await self.load()
        return f"Allowed `{subject}` as {role}."

    async def revoke(self, subject: str, *, actor: str | None) -> str:
        """Revoke ``subject``; their running tasks are told and stopped. Returns the reply."""
        if subject in self._admins:
            return (
                f"`{subject}` is an admin: admins come from ADMINS in the environment; "
                "remove them there and restart."
            )
        row = self._rows.get(subject)
        listed = subject in self._env_users or subject in self._env_approvers
        if (row is None and not listed) or (row is not None and row.status == "revoked"):
            return f"`{subject}` has no access to revoke."
        await self._store.put(
            subject,
            role=row.role if row else ("approver" if subject in self._env_approvers else "user"),
            status="revoked",
            source=row.source if row else "env",
            actor=actor,
            at=self._clock.now(),
            action="revoke",
        )
        self._rows = {r.user: r for r in await self._store.rows()}
        stopped = await self._lost(subject)
        tail = f"; stopped {stopped} running task(s)" if stopped else ""
        return f"Revoked `{subject}`: new requests are refused{tail}."

    async def _lost(self, subject: str) -> int:
        stopped = 0
        for handler in self._on_lost:
            try:
                stopped += await handler(subject)
            except Exception:  # one failing handler must not keep the others from running
                log.exception("could not act on %s losing access", subject)
        return stopped

    async def audit(
        self, *, action: str, subject: str, detail: str = "", actor: str | None
    ) -> None:
        """Record an access event that is not a roster change (pairing requests, decisions)."""
        await self._store.audit(
            actor=actor, action=action, subject=subject, detail=detail, at=self._clock.now()
        )


def task_stopper(pool: _Pool) -> LostAccess:
    """A lost-access handler that stops the user's queued and running tasks (each is told)."""

    async def stop(user: str) -> int:
        stopped = 0
        for task in pool.active():
            if task.requester.qualified == user and pool.cancel(
                task.task_id, "Stopped: an admin revoked the requester's access."
            ):
                stopped += 1
        return stopped

    return stop
