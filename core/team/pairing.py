"""DM pairing: an unknown user's DM gets a code; an admin approves or rejects it.

A code is 8 characters from an alphabet without look-alikes, valid for an hour, and bound to
the user who asked: approving it allows that user and nobody else, so guessing codes gains
nothing. At most ``max_pending`` codes wait per platform, a user asking again gets the same
code, and each user may be given at most ``per_user_day`` codes a day.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from core.clock import SystemClock
from core.events import IncomingMessage, User
from core.ports import ChatAdapter, Clock
from core.storage.pairing import PairingCode, PairingStore
from core.team.notify import AdminNotifier
from core.team.roster import Roster

log = logging.getLogger(__name__)

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 8
DAY = 86400.0


def new_code() -> str:
    """A fresh random code."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize(text: str) -> str:
    """The code as typed, upper-cased, without spaces, dashes or quotes."""
    return "".join(c for c in text.upper() if c.isalnum())


@dataclass(frozen=True, slots=True)
class PairingLimits:
    """How long a code lives and how many may exist."""

    ttl: float = 3600.0
    max_pending: int = 3  # per platform
    per_user_day: int = 3


class Pairing:
    """Issues, approves and rejects pairing codes; tells admins and the user."""

    def __init__(
        self,
        store: PairingStore,
        roster: Roster,
        notifier: AdminNotifier,
        adapters: Mapping[str, ChatAdapter],
        *,
        limits: PairingLimits | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._store = store
        self._roster = roster
        self._notifier = notifier
        self._adapters = adapters
        self._limits = limits or PairingLimits()
        self._clock = clock or SystemClock()
        # Users whose request is being answered: their lock, and how many wait on it.
        self._asking: dict[str, tuple[asyncio.Lock, int]] = {}

    async def request(self, msg: IncomingMessage) -> str:
        """Answer an unknown user's DM: their code, or why they get none now."""
        # One at a time per user: two messages handled at once (platforms deliver events
        # concurrently) would otherwise both find no code and be given two.
        key = msg.author.qualified
        lock, count = self._asking.get(key, (asyncio.Lock(), 0))
        self._asking[key] = (lock, count + 1)
        try:
            async with lock:
                return await self._request(msg)
        finally:
            lock, count = self._asking[key]
            if count == 1:
                del self._asking[key]  # nobody else of this user is waiting
            else:
                self._asking[key] = (lock, count - 1)

    async def _request(self, msg: IncomingMessage) -> str:
        user = msg.author
        now = self._clock.now()
        existing = await self._store.pending_for(user.qualified, now)
        if existing is not None:
            return _code_reply(existing, now)
        if await self._store.asked_since(user.qualified, now - DAY) >= self._limits.per_user_day:
            return (
                "You have asked for too many pairing codes today. Please try again tomorrow, "
                f"or ask an admin to `allow {user.qualified}`."
            )
        waiting = await self._store.pending(now, platform=user.platform)
        if len(waiting) >= self._limits.max_pending:
            return (
                "Sorry, too many pairing requests are waiting for an admin right now. "
                "Please try again in an hour."
            )
        record = await self._issue(user, msg, now)
        name = user.display_name or user.id
        told = await self._notifier.tell_admins(
            f"🔑 {name} (`{user.qualified}`) asks to use hearth. Code `{record.code}`, valid "
            f"1 hour. Reply `pair approve {record.code}` (or `pair approve {record.code} as "
            f"approver`) or `pair reject {record.code}`."
        )
        await self._roster_audit("pair-request", user.qualified, f"code {record.code}", None)
        log.info("pairing code for %s issued; %d admin place(s) told", user.qualified, told)
        return _code_reply(record, now)

    async def _issue(self, user: User, msg: IncomingMessage, now: float) -> PairingCode:
        for _ in range(5):
            code = new_code()
            if await self._store.get(code) is None:
                return await self._store.add(
                    code,
                    user=user.qualified,
                    display_name=user.display_name,
                    chat=msg.ref.chat,
                    now=now,
                    ttl=self._limits.ttl,
                )
        raise RuntimeError("could not find a free pairing code")

    async def pending(self) -> list[PairingCode]:
        """Codes waiting for an admin, oldest first."""
        return await self._store.pending(self._clock.now())

    async def approve(self, text: str, *, role: str = "user", actor: str | None) -> str:
        """Allow the user bound to the code; returns the reply for the admin."""
        record, problem = await self._open(text)
        if record is None:
            return problem
        now = self._clock.now()
        if not await self._store.decide(
            record.code, status="approved", role=role, by=actor, at=now
        ):
            return f"Pairing code `{record.code}` was just decided by someone else."
        await self._roster.allow(
            record.user,
            role=role,
            actor=actor,
            source="pairing",
            display_name=record.display_name,
        )
        await self._roster_audit("pair-approve", record.user, f"code {record.code}", actor)
        await self._tell_user(record, approved=True, role=role)
        name = record.display_name or record.user
        return f"Paired {name} (`{record.user}`) as {role}; they were told."

    async def reject(self, text: str, *, actor: str | None) -> str:
        """Close the code without allowing anyone; the user is told."""
        record, problem = await self._open(text)
        if record is None:
            return problem
        now = self._clock.now()
        if not await self._store.decide(
            record.code, status="rejected", role=None, by=actor, at=now
        ):
            return f"Pairing code `{record.code}` was just decided by someone else."
        await self._roster_audit("pair-reject", record.user, f"code {record.code}", actor)
        await self._tell_user(record, approved=False)
        return f"Rejected pairing code `{record.code}` of `{record.user}`; they were told."

    async def sweep(self) -> int:
        """Expire old codes and tell users whose codes were decided elsewhere (the CLI)."""
        await self._store.expire(self._clock.now())
        told = 0
        for record in await self._store.unnotified():
            if await self._tell_user(
                record, approved=record.status == "approved", role=record.role or "user"
            ):
                told += 1
        return told

    async def problem(self, text: str) -> str:
        """Why ``text`` cannot be approved or rejected now ("" when it can)."""
        return (await self._open(text))[1]

    async def _open(self, text: str) -> tuple[PairingCode | None, str]:
        code = normalize(text)
        if len(code) != CODE_LENGTH:
            return None, f"`{text.strip()}` is not a pairing code (they have 8 characters)."
        record = await self._store.get(code)
        if record is None:
            return None, f"No pairing code `{code}`. Check the code in the request."
        if record.status == "pending" and record.expires_at <= self._clock.now():
            await self._store.expire(self._clock.now())
            return None, (
                f"Pairing code `{code}` has expired (codes last 1 hour). "
                "Ask them to DM me again for a new one."
            )
        if record.status != "pending":
            return None, f"Pairing code `{code}` is already {record.status}."
        return record, ""

    async def _tell_user(self, record: PairingCode, *, approved: bool, role: str = "user") -> bool:
        adapter = self._adapters.get(record.platform)
        if adapter is None:
            return False  # decided from the CLI: the running hearth tells them (sweep)
        if approved:
            extra = " and decide approvals" if role == "approver" else ""
            text = (
                f"✅ An admin approved your pairing request: you can now ask me for tasks{extra}."
            )
        else:
            text = "An admin declined your pairing request, so I can't take requests from you."
        try:
            await adapter.post(record.chat, text)
        except Exception:
            log.warning("could not tell %s about their pairing", record.user, exc_info=True)
            return False
        await self._store.mark_notified(record.code)
        return True

    async def _roster_audit(
        self, action: str, subject: str, detail: str, actor: str | None
    ) -> None:
        await self._roster.audit(action=action, subject=subject, detail=detail, actor=actor)


def _code_reply(record: PairingCode, now: float) -> str:
    minutes = max(1, round((record.expires_at - now) / 60))
    return (
        f"Hi! I don't know you yet. Your pairing code is `{record.code}` (valid {minutes} min). "
        "An admin has been asked to approve it; I'll tell you here when they do."
    )
