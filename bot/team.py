"""Who may use hearth, as hearth builds it from Settings: the roster, DM pairing, the admins'
notices and the gate every message passes."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.services import chat_ref
from core.channel_settings import ChannelPolicy
from core.ports import ChatAdapter, Clock
from core.storage import Database
from core.storage.access import AccessStore
from core.storage.kv import KVStore
from core.storage.pairing import PairingStore
from core.team.gate import Gate
from core.team.notify import AdminNotifier
from core.team.pairing import Pairing
from core.team.roster import Roster


def build_roster(
    settings: Settings, db: Database, clock: Clock, extra_admins: frozenset[str] = frozenset()
) -> Roster:
    """Who may use hearth: the configured lists and the stored grants."""
    return Roster(
        AccessStore(db),
        allowed_users=settings.allowed_users,
        admins=settings.admins | extra_admins,
        approvers=settings.effective_approvers | extra_admins,
        clock=clock,
    )


@dataclass(frozen=True)
class Team:
    """The roster's helpers: admins' notices, DM pairing (when on), and the gate."""

    notifier: AdminNotifier
    pairing: Pairing | None
    gate: Gate


def build_team(
    settings: Settings,
    db: Database,
    kv: KVStore,
    adapters: dict[str, ChatAdapter],
    *,
    roster: Roster,
    policy: ChannelPolicy,
    admins: frozenset[str],
    clock: Clock,
) -> Team:
    """Admin notices to ADMIN_CHANNEL or the admins' DMs, PAIRING codes, and the gate."""
    notifier = AdminNotifier(
        adapters, kv, admins=admins, admin_channel=chat_ref(settings.admin_channel), clock=clock
    )
    pairing = (
        Pairing(PairingStore(db), roster, notifier, adapters, clock=clock)
        if settings.pairing
        else None
    )
    gate = Gate(roster, pairing=pairing, notifier=notifier, policy=policy)
    return Team(notifier, pairing, gate)
