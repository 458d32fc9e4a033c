"""`hearth pair …` and `hearth users …`: access from the command line."""

from __future__ import annotations

from bot.config import Settings
from bot.wiring import build_roster
from core.clock import SystemClock
from core.storage import MIGRATIONS, Database
from core.storage.kv import KVStore
from core.storage.pairing import PairingStore
from core.team.notify import AdminNotifier
from core.team.pairing import Pairing


async def access_cli(settings: Settings, command: str, action: str, *args: str) -> str:
    """`hearth pair …` and `hearth users …` against the database; returns what to print.

    A running hearth picks the change up within ACCESS_SYNC seconds: it reloads the roster
    (stopping the tasks of anyone revoked) and tells paired users the outcome.
    """
    from core.team.subjects import parse_subject

    db = Database(settings.db_path, MIGRATIONS)
    await db.start()
    try:
        clock = SystemClock()
        roster = build_roster(settings, db, clock)
        await roster.load()
        if command == "pair":
            pairing = Pairing(
                PairingStore(db),
                roster,
                AdminNotifier({}, KVStore(db), admins=frozenset()),
                {},
                clock=clock,
            )
            if action == "list":
                codes = await pairing.pending()
                return "\n".join(f"{c.code}  {c.user}  {c.display_name}" for c in codes) or (
                    "no pairing requests are waiting"
                )
            if action == "approve":
                return await pairing.approve(args[0], role=args[1], actor="cli")
            return await pairing.reject(args[0], actor="cli")
        if action == "list":
            return (
                "\n".join(
                    f"{m.user}  {m.role}  {m.source}  {m.status}  {m.display_name}".rstrip()
                    for m in roster.members()
                )
                or "nobody is allowed yet"
            )
        subject = parse_subject(args[0], platform="")
        if action == "allow":
            return await roster.allow(subject, role=args[1], actor="cli")
        return await roster.revoke(subject, actor="cli")
    finally:
        await db.close()
