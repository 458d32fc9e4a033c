"""Chat commands of memory: `remember <text>`, `memory [search <q> | global|local <id>]`,
`forget <id>`."""

from __future__ import annotations

from core.commands import Command, CommandContext
from core.memory.entry import FACT, MemoryEntry, scope_of
from core.memory.quote import for_chat
from core.memory.store import MemoryStore, MemoryUnavailable

LIST_LIMIT = 10


def _scope(ctx: CommandContext) -> str:
    return scope_of(ctx.chat, direct=ctx.message.is_direct)


def _visible(entry: MemoryEntry | None, scope: str) -> bool:
    # Ids from another conversation behave as unknown: they must not even be confirmed.
    return entry is not None and (entry.scope == scope or entry.is_global)


def memory_commands(store: MemoryStore) -> list[Command]:
    """The memory commands, ready for the dispatcher's command table."""

    async def remember(ctx: CommandContext) -> str:
        text = ctx.args.strip()
        if not text:
            return "Usage: `remember <text>` — a fact I should recall in this conversation."
        try:
            added = await store.add(
                scope=_scope(ctx),
                kind=FACT,
                text=text,
                author=ctx.user.qualified,
                author_name=ctx.user.display_name,
            )
        except MemoryUnavailable as exc:
            return f"⚠️ Memory is unavailable right now ({exc}); nothing was stored."
        if added.entry is None:
            if added.screened.had_secret:
                return (
                    "🔒 Not stored: that looks like it contains a secret, "
                    "and memory never keeps secrets."
                )
            return "Nothing to remember."
        reply = f"🧠 Remembered (id `{added.entry.id}`); only this conversation recalls it."
        if not added.entry.trusted:
            reply += (
                "\n⚠️ Stored as *untrusted*: it reads like instructions to me "
                f"({'; '.join(added.screened.reasons)}), so I will only ever see it quoted, "
                "marked untrusted, and never act on it."
            )
        return reply

    async def memory(ctx: CommandContext) -> str:
        sub, _, rest = ctx.args.strip().partition(" ")
        sub, rest = sub.lower(), rest.strip()
        scope = _scope(ctx)
        try:
            if sub == "":
                entries = await store.recent(scope, LIST_LIMIT)
                if not entries:
                    return (
                        "Nothing remembered in this conversation yet. "
                        "Teach me with `remember <text>`."
                    )
                head = f"🧠 The {len(entries)} newest memories of this conversation:"
                return "\n".join([head, *map(for_chat, entries)])
            if sub == "search" and rest:
                entries = await store.search(scope, rest, LIST_LIMIT)
                if not entries:
                    return f"No memory here matches “{rest}”."
                return "\n".join([f"🔎 Memories like “{rest}”:", *map(for_chat, entries)])
            if sub in {"global", "local"} and rest:
                return await _mark(ctx, store, scope, rest, sub == "global")
        except MemoryUnavailable as exc:
            return f"⚠️ Memory is unavailable right now ({exc})."
        return "Usage: `memory`, `memory search <query>`, or (admins) `memory global|local <id>`."

    async def forget(ctx: CommandContext) -> str:
        entry_id = ctx.args.strip().strip("`")
        if not entry_id:
            return "Usage: `forget <id>` (the ids are in `memory`)."
        try:
            entry = await store.get(entry_id)
            if not _visible(entry, _scope(ctx)):
                return f"No memory `{entry_id}` in this conversation."
            assert entry is not None
            if entry.author != ctx.user.qualified and not ctx.is_admin:
                return f"Only its author or an admin can forget `{entry_id}`."
            await store.forget(entry_id)
        except MemoryUnavailable as exc:
            return f"⚠️ Memory is unavailable right now ({exc}); nothing was forgotten."
        return f"🗑 Forgot `{entry_id}`."

    return [
        Command(
            name="remember",
            usage="remember <text>",
            help="teach me a fact I recall in this conversation (never elsewhere)",
            handler=remember,
        ),
        Command(
            name="memory",
            usage="memory [search <query>]",
            help="what I remember in this conversation, with ids",
            handler=memory,
        ),
        Command(
            name="forget",
            usage="forget <id>",
            help="delete one memory (its author or an admin)",
            handler=forget,
        ),
    ]


async def _mark(
    ctx: CommandContext, store: MemoryStore, scope: str, entry_id: str, value: bool
) -> str:
    if not ctx.is_admin:
        return "Only an admin can make a memory global or local."
    entry_id = entry_id.strip("`")
    entry = await store.get(entry_id)
    if not _visible(entry, scope):
        return f"No memory `{entry_id}` in this conversation."
    assert entry is not None
    await store.set_global(entry, value)
    if value:
        return f"🌐 `{entry_id}` is now global: every conversation may recall it."
    return f"`{entry_id}` is local again: only its own conversation recalls it."
