"""`hearth skills …`: the skill library from the command line."""

from __future__ import annotations

from bot.config import Settings
from bot.skill_library import build_skills
from core.storage import MIGRATIONS, Database


async def skills_cli(
    settings: Settings, action: str, name: str | None, version: int | None = None
) -> tuple[str, bool]:
    """`hearth skills list|show|enable|disable|history|rollback`: (text to print, success)."""
    from core.skills.report import parse_status, terminal_history, terminal_list, terminal_show

    db = Database(settings.db_path, MIGRATIONS)
    await db.start()
    try:
        library = build_skills(settings, db, None)
        await library.load()
        if action == "list":
            return await terminal_list(library), True
        assert name is not None
        if action == "show":
            text = await terminal_show(library, name)
            return (text, True) if text else (f"no skill named {name!r}", False)
        if action == "history":
            text = await terminal_history(library, name)
            return (text, True) if text else (f"no skill named {name!r}", False)
        if action == "rollback":
            assert version is not None
            skill = await library.rollback(name, version)
            if skill is None:
                return f"{name!r} has no generated version {version}", False
            return f"{name}: now v{skill.version}", True
        status = parse_status(action)
        if not await library.set_status(name, status):
            return f"no skill named {name!r} (see `hearth skills list`)", False
        return f"{name}: {status.value}", True
    finally:
        await db.close()
