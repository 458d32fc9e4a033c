"""MemoryStore: scoped long-term memory over Chroma, with Ollama embeddings.

Every Chroma call runs on one worker thread, never on the event loop. When the embed endpoint
or Chroma fails, memory degrades instead of failing the caller's work: recall returns nothing,
one warning is logged per outage (and one line when it is back), and the state is written to
``state.json`` beside the store so `hearth doctor` can report it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO, TypeVar

from core.clock import SystemClock
from core.errors import HearthError
from core.memory.batch import GroupCommit
from core.memory.chroma import ChromaIndex
from core.memory.entry import FACT, RETENTION_RANK, TASK, MemoryEntry
from core.memory.screen import Screened, screen
from core.ports import Clock
from core.redact import Redactor

log = logging.getLogger(__name__)

T = TypeVar("T")
DAY = 86400.0
STATE_FILE = "state.json"


class MemoryUnavailable(HearthError):
    """Memory could not be read or written (embed endpoint or Chroma failed)."""


class Embedder(Protocol):
    """Turns texts into vectors (core.llm.ollama.OllamaClient with EMBED_MODEL)."""

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text."""
        ...


@dataclass(frozen=True, slots=True)
class Added:
    """The outcome of ``MemoryStore.add``: the stored entry, or None when refused."""

    entry: MemoryEntry | None
    screened: Screened


class MemoryStore:
    """Adds, recalls, lists and forgets entries; each entry lives in one scope."""

    def __init__(
        self,
        path: Path,
        *,
        embedder: Embedder,
        embed_model: str,
        redactor: Redactor,
        max_entries: int = 5000,
        ttl_days: float = 180.0,
        embed_timeout: float = 20.0,
        clock: Clock | None = None,
    ) -> None:
        self.path = path
        self._embedder = embedder
        self._index = ChromaIndex(path, embed_model)
        self._redactor = redactor
        self._max = max_entries
        self._ttl = ttl_days * DAY
        self._embed_timeout = embed_timeout
        self._clock = clock or SystemClock()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="hearth-memory")
        self._down_since: float | None = None
        self.last_error = ""
        self.last_error_at = 0.0
        self._opened = False
        # Entries per scope, counted once and then kept by this process (the only writer while
        # it runs): the retention check after each add asks Chroma nothing.
        self._counts: dict[str, int] = {}
        self._writes = GroupCommit(self._store, name="memory:add")

    # -- plumbing --------------------------------------------------------------------------

    async def _chroma(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._thread, lambda: self._call(fn, args, kw))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(f"Chroma failed: {type(exc).__name__}: {exc}")
            raise MemoryUnavailable(self.last_error) from exc
        return result

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...], kw: dict[str, Any]) -> T:
        # Opened on first use, on the memory thread: chromadb's import (about a second and
        # 70 MB) is paid by the first task that needs memory, not by the process start.
        if not self._opened:
            self._index.open()
            self._expire_all()
            self._opened = True
        return fn(*args, **kw)

    async def _embed(self, texts: Sequence[str]) -> list[list[float]]:
        try:
            async with asyncio.timeout(self._embed_timeout):
                vectors = await self._embedder.embed(texts)
        except asyncio.CancelledError:
            raise
        except TimeoutError as exc:
            await self._failed(f"embedding did not answer within {self._embed_timeout:g}s")
            raise MemoryUnavailable(self.last_error) from exc
        except Exception as exc:
            await self._failed(f"embedding failed: {exc}")
            raise MemoryUnavailable(self.last_error) from exc
        if len(vectors) != len(texts):
            await self._failed("embedding returned the wrong number of vectors")
            raise MemoryUnavailable(self.last_error)
        return vectors

    async def _failed(self, why: str) -> None:
        self.last_error = why
        self.last_error_at = self._clock.now()
        if self._down_since is None:
            self._down_since = self._clock.now()
            log.warning("memory unavailable, going on without it: %s", why)
            await self._write_state()

    async def _ok(self) -> None:
        if self._down_since is not None:
            self._down_since = None
            log.info("memory is available again")
            await self._write_state()

    async def _write_state(self) -> None:
        state = {
            "state": "down" if self._down_since is not None else "ok",
            "last_error": self.last_error,
            "error_at": self.last_error_at,
        }
        path = self.path / STATE_FILE

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(state), encoding="utf-8")

        try:
            await asyncio.get_running_loop().run_in_executor(self._thread, write)
        except OSError as exc:
            log.debug("could not write memory state: %s", exc)

    @property
    def available(self) -> bool:
        """False during an outage."""
        return self._down_since is None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store now (and apply the TTL); failures only mark memory unavailable.

        Optional: every call opens the store first when it is not open yet.
        """
        try:
            await self._chroma(lambda: None)
            await self._ok()
        except MemoryUnavailable:
            pass

    async def close(self) -> None:
        """Finish queued Chroma calls and stop the worker thread."""
        await asyncio.to_thread(self._thread.shutdown, True)

    # -- writing ---------------------------------------------------------------------------

    async def add(
        self,
        *,
        scope: str,
        kind: str,
        text: str,
        author: str,
        author_name: str = "",
        task_id: str = "",
    ) -> Added:
        """Screen and store one entry. A taught fact holding a secret is refused (entry None);
        other kinds are stored with the secret masked. Raises MemoryUnavailable."""
        screened = screen(text, self._redactor)
        if not screened.text or (screened.had_secret and kind == FACT):
            return Added(None, screened)
        entry = MemoryEntry(
            id=secrets.token_hex(4),
            scope=scope,
            kind=kind,
            text=screened.text,
            author=author,
            author_name=author_name,
            task_id=task_id,
            created_at=self._clock.now(),
            trusted=screened.trusted,
        )
        await self._writes.put(entry)
        return Added(entry, screened)

    async def _store(self, entries: Sequence[MemoryEntry]) -> None:
        """Embed and add a batch of entries (GroupCommit's flush)."""
        vectors = await self._embed([e.text for e in entries])
        await self._chroma(self._add_and_trim, entries, vectors)
        await self._ok()

    def _add_and_trim(
        self, entries: Sequence[MemoryEntry], vectors: Sequence[Sequence[float]]
    ) -> None:
        self._index.add(entries, vectors)
        for scope in dict.fromkeys(e.scope for e in entries):
            added = sum(e.scope == scope for e in entries)
            count = self._counts.get(scope)
            count = self._index.count_scope(scope) if count is None else count + added
            if count > self._max:
                # Counted from the entries themselves: a stale count only costs a needless trim.
                count = self._trim(scope)
            self._counts[scope] = count

    def _trim(self, scope: str) -> int:
        """Drop expired and surplus entries of ``scope``; returns how many are left."""
        entries = self._index.in_scope(scope)
        cutoff = self._clock.now() - self._ttl
        expired = {e.id for e in entries if e.kind == TASK and e.created_at < cutoff}
        rest = [e for e in entries if e.id not in expired]
        rest.sort(key=lambda e: (RETENTION_RANK.get(e.kind, 0), e.created_at))
        doomed = [*expired, *(e.id for e in rest[: max(0, len(rest) - self._max)])]
        self._index.delete(scope, doomed)
        return min(len(rest), self._max)

    def _expire_all(self) -> int:
        self._counts.clear()
        expired = self._index.expired(self._clock.now() - self._ttl, TASK)
        for entry in expired:
            self._index.delete(entry.scope, [entry.id])
        return len(expired)

    async def expire(self) -> int:
        """Delete task summaries older than MEMORY_TTL_DAYS; returns how many."""
        return await self._chroma(self._expire_all)

    async def forget(self, entry_id: str) -> bool:
        """Delete one entry; False when there is none with that id."""
        found = await self._chroma(self._index.find, entry_id)
        if found is None:
            return False
        await self._chroma(self._index.delete, found.scope, [entry_id])
        self._counts.pop(found.scope, None)
        return True

    async def set_global(self, entry: MemoryEntry, value: bool) -> None:
        """Mark an entry for recall in every scope (admins only; callers check)."""
        await self._chroma(self._index.set_global, entry, value)

    # -- reading ---------------------------------------------------------------------------

    async def recall(self, scope: str, query: str, k: int = 5) -> list[MemoryEntry]:
        """The ``k`` entries of ``scope`` (plus global ones) nearest to ``query``.

        Never raises: an outage means recalling nothing.
        """
        try:
            vector = (await self._embed([query]))[0]
            hits = await self._chroma(self._index.query, vector, scope, k + 5)
        except MemoryUnavailable:
            return []
        await self._ok()
        cutoff = self._clock.now() - self._ttl
        fresh = [e for e in hits if not (e.kind == TASK and e.created_at < cutoff)]
        return fresh[:k]

    async def search(self, scope: str | None, query: str, k: int = 10) -> list[MemoryEntry]:
        """Entries like ``query`` (by meaning; by words when embedding is down)."""
        try:
            vector = (await self._embed([query]))[0]
        except MemoryUnavailable:
            return (await self._chroma(self._by_words, scope, query))[:k]
        return await self._chroma(self._index.query, vector, scope, k)

    def _by_words(self, scope: str | None, query: str) -> list[MemoryEntry]:
        if scope is None:
            return [e for e in self._index.walk() if query.lower() in e.text.lower()]
        own = self._index.in_scope(scope, contains=query)
        return own + [e for e in self._index.globals(contains=query) if e.scope != scope]

    async def get(self, entry_id: str) -> MemoryEntry | None:
        """One entry by id."""
        return await self._chroma(self._index.find, entry_id)

    async def recent(self, scope: str | None, limit: int = 10) -> list[MemoryEntry]:
        """The newest entries of ``scope`` (every scope when None), newest first."""
        if scope is None:
            entries = await self._chroma(lambda: list(self._index.walk()))
        else:
            entries = await self._chroma(self._index.in_scope, scope)
        entries.sort(key=lambda e: e.created_at, reverse=True)
        return entries[:limit]

    async def count(self) -> int:
        """Entries in the store."""
        return await self._chroma(self._index.count)

    async def export(self, out: TextIO) -> int:
        """Write every entry as one JSON line; returns how many."""
        entries = await self._chroma(lambda: sorted(self._index.walk(), key=_created))
        for entry in entries:
            out.write(json.dumps(entry.to_json(), ensure_ascii=False) + "\n")
        return len(entries)

    async def embedding_functions(self) -> list[Any]:
        """What Chroma itself would embed with, per collection (None: only our vectors)."""
        return await self._chroma(self._index.embedding_functions)


def _created(entry: MemoryEntry) -> float:
    return entry.created_at


def read_state(path: Path) -> dict[str, Any]:
    """The last state a running hearth wrote (empty when none)."""
    try:
        data = json.loads((path / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
