"""Gate: the dispatcher's access check — pairing for unknown DMs, refusals, channel policy."""

from __future__ import annotations

import logging

from core.channel_settings import ChannelPolicy
from core.events import IncomingMessage, User
from core.ports import ChatAdapter
from core.team.notify import AdminNotifier
from core.team.pairing import Pairing
from core.team.roster import Roster

log = logging.getLogger(__name__)


class Gate:
    """Lets allowed users in, answers everybody else once, and applies `settings tasks`."""

    def __init__(
        self,
        roster: Roster,
        *,
        pairing: Pairing | None,
        notifier: AdminNotifier,
        policy: ChannelPolicy,
    ) -> None:
        self._roster = roster
        self._pairing = pairing
        self._notifier = notifier
        self._policy = policy

    def allows(self, user: User) -> bool:
        """True when ``user`` may go on (``admit`` would answer nobody)."""
        return self._roster.is_allowed(user)

    async def admit(self, msg: IncomingMessage, adapter: ChatAdapter) -> bool:
        """True when the author may go on; otherwise they were answered (code or refusal)."""
        user = msg.author
        if self._roster.is_allowed(user):
            if msg.is_direct and self._roster.is_admin(user):
                await self._notifier.remember_dm(user, msg.ref.chat)
            return True
        log.info("refused %s", user.qualified)
        if msg.is_direct and self._pairing is not None and not user.is_bot:
            reply = await self._pairing.request(msg)
        else:
            reply = self._roster.refusal(user, pairing=self._pairing is not None)
        await adapter.post(msg.ref.chat, reply)
        return False

    async def may_start(self, msg: IncomingMessage) -> str | None:
        """None when the author may start a task here, else the reason they may not."""
        if msg.is_direct:
            return None
        if await self._policy.task_policy(msg.ref.chat) != "approvers":
            return None
        if self._roster.is_approver(msg.author) or self._roster.is_admin(msg.author):
            return None
        return (
            "In this channel only approvers may start tasks (an admin set "
            "`settings tasks approvers`). You can still DM me."
        )
