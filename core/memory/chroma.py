"""ChromaIndex: the one place chromadb is used. Blocking; MemoryStore calls it off the loop.

chromadb is imported on first open, not at import time: it is slow to import and most
commands (and the process start) never need it. Collections are created with no embedding
function at all, and every call passes vectors made by Ollama: Chroma's default embedder,
which downloads a model at run time, can never run.

Each scope has its own collection, and global entries are copied into one more. Recall is
then a plain nearest-neighbour query on one small index: a metadata filter over a shared
collection made Chroma scan every entry (40–70 ms at 10k entries), and a scope boundary that
is a separate index cannot leak by a wrong filter.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from core.memory.entry import MemoryEntry

PAGE = 1000  # rows per get() when walking a whole collection
# Entries added between two writes of a collection's HNSW index to disk. Chroma goes over
# every entry added since the last write on each add: with its default of 1000, one add
# cost 4 ms of CPU at 200 entries and 18 ms at 800, and at 100 it stays near 4 ms.
SYNC_EVERY = 100
_TUNING = {"sync_threshold": SYNC_EVERY, "batch_size": SYNC_EVERY}
_SPACE = {"hnsw": {"space": "cosine", **_TUNING}}
_ABSENT = object()  # a collection looked up and not found (recall on an empty scope)


def collection_prefix(embed_model: str) -> str:
    """One set of collections per embedding model: vectors of two models never mix."""
    slug = re.sub(r"[^a-zA-Z0-9._-]+", "-", embed_model).strip("-._") or "default"
    return f"hearth-{slug[:100]}"


def _entries(res: dict[str, Any]) -> list[MemoryEntry]:
    return [
        MemoryEntry.from_stored(i, d or "", dict(m or {}))
        for i, d, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True)
    ]


def _tune(col: Any) -> None:
    """Give a collection made before SYNC_EVERY (Chroma's default) the same tuning."""
    hnsw = (col.configuration or {}).get("hnsw") or {}
    if hnsw.get("sync_threshold", SYNC_EVERY) > SYNC_EVERY:
        col.modify(configuration={"hnsw": dict(_TUNING)})


class ChromaIndex:
    """A Chroma PersistentClient holding memory entries, one collection per scope (not
    thread-safe: one worker thread calls it)."""

    def __init__(self, path: Path, embed_model: str) -> None:
        self._path = path
        self._prefix = collection_prefix(embed_model)
        self._client: Any = None
        self._cols: dict[str, Any] = {}

    def open(self) -> None:
        """Import chromadb and open (or create) the store under ``path``."""
        if self._client is not None:
            return
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self._path.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(
            path=str(self._path),
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
        )

    def _name(self, scope: str | None) -> str:
        if scope is None:
            return f"{self._prefix}-global"
        return f"{self._prefix}-s{hashlib.sha256(scope.encode()).hexdigest()[:24]}"

    def _col(self, scope: str | None, *, create: bool) -> Any:
        """The collection of ``scope`` (None: the global copies); None if absent."""
        name = self._name(scope)
        col = self._cols.get(name)
        if col is _ABSENT and not create:
            return None
        if col is not None and col is not _ABSENT:
            return col
        self.open()
        if create:
            col = self._client.get_or_create_collection(
                name,
                embedding_function=None,
                configuration=_SPACE,
                metadata={"scope": scope or "*global*"},
            )
        else:
            from chromadb.errors import NotFoundError

            try:
                col = self._client.get_collection(name, embedding_function=None)
            except (NotFoundError, ValueError):
                # Only this process creates collections while it runs (the CLI does not),
                # so "absent" stays true until our own add creates it.
                self._cols[name] = _ABSENT
                return None
        _tune(col)
        self._cols[name] = col
        return col

    def _all(self) -> list[Any]:
        """Every scope collection of this embedding model (not the global copies)."""
        self.open()
        names = [c.name for c in self._client.list_collections()]
        own = [n for n in names if n.startswith(f"{self._prefix}-s")]
        return [self._client.get_collection(n, embedding_function=None) for n in sorted(own)]

    def embedding_functions(self) -> list[Any]:
        """What each collection would embed with on its own (always None)."""
        cols = self._all()
        return [c.configuration.get("embedding_function") for c in cols]

    def add(self, entries: Sequence[MemoryEntry], vectors: Sequence[Sequence[float]]) -> None:
        """Store entries with their vectors, each in its scope's collection."""
        by_scope: dict[str, list[int]] = {}
        for i, entry in enumerate(entries):
            by_scope.setdefault(entry.scope, []).append(i)
        for scope, rows in by_scope.items():
            self._col(scope, create=True).add(
                ids=[entries[i].id for i in rows],
                documents=[entries[i].text for i in rows],
                metadatas=[entries[i].metadata() for i in rows],
                embeddings=[list(vectors[i]) for i in rows],
            )

    def query(self, vector: Sequence[float], scope: str | None, k: int) -> list[MemoryEntry]:
        """The ``k`` entries of ``scope`` and the global ones nearest to ``vector``
        (every scope's when ``scope`` is None: the operator's CLI)."""
        cols = (
            self._all()
            if scope is None
            else [self._col(scope, create=False), self._col(None, create=False)]
        )
        hits: dict[str, tuple[float, MemoryEntry]] = {}
        for col in cols:
            if col is None:
                continue
            res = col.query(
                query_embeddings=[list(vector)],
                n_results=k,
                include=["documents", "metadatas", "distances"],
            )
            found = _entries({key: res[key][0] for key in ("ids", "documents", "metadatas")})
            for entry, dist in zip(found, res["distances"][0], strict=True):
                if entry.id not in hits or dist < hits[entry.id][0]:
                    hits[entry.id] = (float(dist), entry)
        return [entry for _, entry in sorted(hits.values(), key=lambda h: h[0])[:k]]

    def in_scope(
        self, scope: str, *, contains: str | None = None, limit: int | None = None
    ) -> list[MemoryEntry]:
        """Entries of ``scope`` (optionally only those whose text contains ``contains``)."""
        col = self._col(scope, create=False)
        if col is None:
            return []
        return _entries(
            col.get(
                where_document={"$contains": contains} if contains else None,
                limit=limit,
                include=["documents", "metadatas"],
            )
        )

    def globals(self, *, contains: str | None = None) -> list[MemoryEntry]:
        """The entries marked global."""
        col = self._col(None, create=False)
        if col is None:
            return []
        where_document = {"$contains": contains} if contains else None
        return _entries(col.get(where_document=where_document, include=["documents", "metadatas"]))

    def find(self, entry_id: str) -> MemoryEntry | None:
        """One entry by id, whichever scope holds it."""
        for col in self._all():
            found = _entries(col.get(ids=[entry_id], include=["documents", "metadatas"]))
            if found:
                return found[0]
        return None

    def walk(self) -> Iterator[MemoryEntry]:
        """Every entry of every scope, page by page."""
        for col in self._all():
            offset = 0
            while True:
                res = col.get(limit=PAGE, offset=offset, include=["documents", "metadatas"])
                page = _entries(res)
                yield from page
                if len(page) < PAGE:
                    break
                offset += PAGE

    def set_global(self, entry: MemoryEntry, value: bool) -> None:
        """Mark or unmark an entry for recall in every scope (a copy in the global set)."""
        col = self._col(entry.scope, create=True)
        meta = entry.metadata()
        meta["global"] = value
        col.update(ids=[entry.id], metadatas=[meta])
        if value:
            vector = col.get(ids=[entry.id], include=["embeddings"])["embeddings"][0]
            self._col(None, create=True).upsert(
                ids=[entry.id], documents=[entry.text], metadatas=[meta], embeddings=[vector]
            )
        else:
            self.delete(None, [entry.id])

    def count_scope(self, scope: str) -> int:
        """How many entries ``scope`` holds."""
        col = self._col(scope, create=False)
        return 0 if col is None else int(col.count())

    def delete(self, scope: str | None, ids: Sequence[str]) -> None:
        """Remove entries of ``scope`` (None: global copies) by id; global copies go too."""
        if not ids:
            return
        for name in {scope, None}:
            col = self._col(name, create=False)
            if col is not None:
                col.delete(ids=list(ids))

    def expired(self, cutoff: float, kind: str) -> list[MemoryEntry]:
        """Entries of ``kind`` created before ``cutoff``, in every scope."""
        where = {"$and": [{"kind": kind}, {"created_at": {"$lt": cutoff}}]}
        out: list[MemoryEntry] = []
        for col in self._all():
            out += _entries(col.get(where=where, include=["documents", "metadatas"]))
        return out

    def count(self) -> int:
        """How many entries the store holds."""
        return sum(int(c.count()) for c in self._all())
