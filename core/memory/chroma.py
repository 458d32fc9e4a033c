"""ChromaIndex: the one place chromadb is used. Blocking; MemoryStore calls it off the loop.

chromadb is imported on first open, not at import time: it is slow to import and most
commands (and the process start) never need it. The collection is created with no embedding
function at all, and every call passes vectors made by Ollama: Chroma's default embedder,
which downloads a model at run time, can never run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from core.memory.entry import MemoryEntry

PAGE = 1000  # rows per get() when walking a whole collection


def collection_name(embed_model: str) -> str:
    """One collection per embedding model: vectors of two models never mix."""
    slug = re.sub(r"[^a-zA-Z0-9._-]+", "-", embed_model).strip("-._") or "default"
    return f"hearth-{slug}"[:200]


class ChromaIndex:
    """A Chroma PersistentClient collection holding memory entries (not thread-safe: one
    worker thread calls it)."""

    def __init__(self, path: Path, embed_model: str) -> None:
        self._path = path
        self._name = collection_name(embed_model)
        self._col: Any = None

    def open(self) -> None:
        """Import chromadb, open (or create) the store under ``path``."""
        if self._col is not None:
            return
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self._path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(
            path=str(self._path),
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
        )
        self._col = client.get_or_create_collection(
            self._name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
        )

    @property
    def embedding_function(self) -> Any:
        """What Chroma would embed with on its own (always None)."""
        self.open()
        return self._col.configuration.get("embedding_function")

    def add(self, entries: Sequence[MemoryEntry], vectors: Sequence[Sequence[float]]) -> None:
        """Store entries with their vectors."""
        self.open()
        self._col.add(
            ids=[e.id for e in entries],
            documents=[e.text for e in entries],
            metadatas=[e.metadata() for e in entries],
            embeddings=[list(v) for v in vectors],
        )

    def query(
        self, vector: Sequence[float], where: dict[str, Any] | None, k: int
    ) -> list[tuple[MemoryEntry, float]]:
        """The ``k`` nearest entries matching ``where``, with their cosine distances."""
        self.open()
        res = self._col.query(
            query_embeddings=[list(vector)],
            n_results=k,
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        ids, docs, metas, dists = (
            res["ids"][0],
            res["documents"][0],
            res["metadatas"][0],
            res["distances"][0],
        )
        return [
            (MemoryEntry.from_stored(i, d or "", dict(m or {})), float(dist))
            for i, d, m, dist in zip(ids, docs, metas, dists, strict=True)
        ]

    def get(
        self,
        *,
        ids: Sequence[str] | None = None,
        where: dict[str, Any] | None = None,
        contains: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[MemoryEntry]:
        """Entries by id, metadata filter and/or a substring of their text."""
        self.open()
        res = self._col.get(
            ids=list(ids) if ids is not None else None,
            where=where,
            where_document={"$contains": contains} if contains else None,
            limit=limit,
            offset=offset,
            include=["documents", "metadatas"],
        )
        return [
            MemoryEntry.from_stored(i, d or "", dict(m or {}))
            for i, d, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True)
        ]

    def ids(self, where: dict[str, Any]) -> list[str]:
        """Ids of the entries matching ``where`` (no documents read)."""
        self.open()
        return list(self._col.get(where=where, include=[])["ids"])

    def walk(self) -> Iterator[MemoryEntry]:
        """Every entry, page by page."""
        offset = 0
        while True:
            page = self.get(limit=PAGE, offset=offset)
            yield from page
            if len(page) < PAGE:
                return
            offset += PAGE

    def set_global(self, entry: MemoryEntry, value: bool) -> None:
        """Mark or unmark an entry for recall in every scope."""
        self.open()
        meta = entry.metadata()
        meta["global"] = value
        self._col.update(ids=[entry.id], metadatas=[meta])

    def delete(self, ids: Sequence[str]) -> None:
        """Remove entries by id."""
        if ids:
            self.open()
            self._col.delete(ids=list(ids))

    def count(self) -> int:
        """How many entries the collection holds."""
        self.open()
        return int(self._col.count())
