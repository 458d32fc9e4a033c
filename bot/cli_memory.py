"""`hearth memory list|search|forget|export`: memory from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.config import Settings
from core.clock import utc
from core.errors import HearthError

if TYPE_CHECKING:  # the store is loaded by the command that uses it, not by every `hearth`
    from core.memory import MemoryEntry, MemoryStore


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `hearth memory …`."""
    mem = sub.add_parser("memory", help="list, search, forget or export what hearth remembers")
    mem.add_argument("action", choices=["list", "search", "forget", "export"])
    mem.add_argument("arg", nargs="?", default=None, help="search: the query; forget: the id")
    mem.add_argument("--scope", default=None, help="only this scope, e.g. slack:ch:C0123ABC")
    mem.add_argument("--limit", type=int, default=50, help="list/search: at most this many")
    mem.add_argument("--out", type=Path, default=None, help="export: write here, not stdout")


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Carry out `hearth memory …`; returns the exit code (errors raise HearthError)."""
    if args.action in {"search", "forget"} and not args.arg:
        what = "a query" if args.action == "search" else "an id"
        raise ValueError(f"`hearth memory {args.action}` needs {what}")
    return asyncio.run(_main(settings, args))


def _line(entry: MemoryEntry) -> str:
    flags = ("" if entry.trusted else " untrusted") + (" global" if entry.is_global else "")
    text = " ".join(entry.text.split())
    when = utc(entry.created_at).strftime("%Y-%m-%d %H:%M")
    who = entry.author or "-"
    return f"{entry.id}  {when}  {entry.scope}  {entry.kind}{flags}  {who}  {text}"


async def _main(settings: Settings, args: argparse.Namespace) -> int:
    from bot.memory_store import memory_store_for
    from core.llm.ollama import close_clients

    store = memory_store_for(settings)
    try:
        return await _act(store, args.action, args.arg or "", args.scope, args.limit, args.out)
    finally:
        await store.close()
        await close_clients()


async def _act(
    store: MemoryStore, action: str, arg: str, scope: str | None, limit: int, out: Path | None
) -> int:
    if action == "list":
        for entry in await store.recent(scope, limit):
            print(_line(entry))
        return 0
    if action == "search":
        for entry in await store.search(scope, arg, limit):
            print(_line(entry))
        return 0
    if action == "forget":
        if not await store.forget(arg):
            raise HearthError(f"no memory with id {arg}")
        print(f"forgot {arg}")
        return 0
    stream: TextIO = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        count = await store.export(stream)
    finally:
        if out:
            stream.close()
    print(f"exported {count} memories", file=sys.stderr)
    return 0
