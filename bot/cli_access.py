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


async def access_cli(
    settings: Settings, command: str, action: str, *args: str
) -> tuple[bool, str]:
    """`hearth pair …` and `hearth users …` against the database: (succeeded, what to print).

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
                return True, "\n".join(f"{c.code}  {c.user}  {c.display_name}" for c in codes) or (
                    "no pairing requests are waiting"
                )
            if problem := await pairing.problem(args[0]):
                return False, problem  # an unknown, expired or decided code fails the command
            if action == "approve":
                return True, await pairing.approve(args[0], role=args[1], actor="cli")
            return True, await pairing.reject(args[0], actor="cli")
        if action == "list":
            return True, (
                "\n".join(
                    f"{m.user}  {m.role}  {m.source}  {m.status}  {m.display_name}".rstrip()
                    for m in roster.members()
                )
                or "nobody is allowed yet"
            )
        subject = parse_subject(args[0], platform="")
        if action == "allow":
            return True, await roster.allow(subject, role=args[1], actor="cli")
        return True, await roster.revoke(subject, actor="cli")
    finally:
        await db.close()
