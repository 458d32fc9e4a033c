"""memory: recall latency p50/p99 at 1k, 10k and 50k stored entries, and event-loop lag.

A real Chroma store on disk, seeded with N entries (768-dimensional vectors, like
nomic-embed-text) spread over scopes of at most 5,000 entries (MEMORY_MAX_ENTRIES' default).
Recall goes through MemoryStore as the agent calls it: embed the goal (a fake, in-process
embedder, so the model's own time is not measured), then a scoped nearest-neighbour query on
the memory thread. A ticker on the event loop records how late it wakes while recalls run,
and again as long with the loop idle ("idle lag": what the machine's own load costs).
Targets: p99 < 50 ms at 10k entries; the loop never blocked for more than 20 ms.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.common import LagMonitor, Table, ms, percentile, verdict
from core.memory import FACT, TASK, MemoryEntry, MemoryStore
from core.memory.chroma import ChromaIndex
from core.redact import Redactor

NAME = "memory"
DIM = 768
PER_SCOPE = 5000
LEVELS = ((1_000, 200), (10_000, 200), (50_000, 200))  # (entries, recalls)
SMOKE_LEVELS = ((200, 10),)
TARGET_P99_S = 0.050
TARGET_AT = 10_000
TARGET_LAG_S = 0.020
BATCH = 5000
WORDS = [
    "deploy",
    "staging",
    "port",
    "database",
    "nginx",
    "config",
    "backup",
    "runner",
    "logs",
    "disk",
    "cert",
    "vpn",
]
NOTE = "Embeddings by an in-process fake (no model time); Chroma on local disk."


class FakeEmbedder:
    """Deterministic bag-of-words vectors, computed in-process (no network, no model)."""

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit vector per text."""
        return [_vector(t) for t in texts]


def _vector(text: str) -> list[float]:
    total = np.zeros(DIM)
    for word in text.lower().split():
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
        total += np.random.default_rng(seed).standard_normal(DIM)
    norm = float(np.linalg.norm(total)) or 1.0
    return (total / norm).tolist()


def _seed(path: Path, n: int) -> None:
    """Write ``n`` entries straight through the index (seeding is not what is measured)."""
    index = ChromaIndex(path, "bench-embed")
    rng = np.random.default_rng(7)
    now = time.time()
    for start in range(0, n, BATCH):
        size = min(BATCH, n - start)
        vectors = rng.standard_normal((size, DIM))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        entries = [
            MemoryEntry(
                id=f"e{start + i}",
                scope=f"bench:ch:C{(start + i) // PER_SCOPE}",
                kind=TASK if i % 3 else FACT,
                text=f"entry {start + i}: {WORDS[i % len(WORDS)]} note",
                author="bench:U1",
                author_name="bench",
                task_id="",
                created_at=now - (n - start - i),
            )
            for i in range(size)
        ]
        index.add(entries, vectors.tolist())


async def _level(n: int, recalls: int, path: Path) -> tuple[list[float], float, float]:
    await asyncio.to_thread(_seed, path, n)
    store = MemoryStore(
        path,
        embedder=FakeEmbedder(),
        embed_model="bench-embed",
        redactor=Redactor(),
        max_entries=PER_SCOPE,
    )
    await store.start()
    latencies: list[float] = []
    try:
        for i in range(5):  # warm the index into memory; not counted
            await store.recall("bench:ch:C0", WORDS[i])
        began = time.perf_counter()
        async with LagMonitor() as lag:
            for i in range(recalls):
                goal = f"check the {WORDS[i % len(WORDS)]} {WORDS[(i * 7) % len(WORDS)]}"
                started = time.perf_counter()
                found = await store.recall("bench:ch:C0", goal)
                latencies.append(time.perf_counter() - started)
                assert found and all(e.scope == "bench:ch:C0" for e in found)
        # The same time with the loop idle: how late this machine wakes a ticker anyway.
        async with LagMonitor() as idle:
            await asyncio.sleep(time.perf_counter() - began)
    finally:
        await store.close()
    return latencies, lag.max_lag, idle.max_lag


HEADERS = [
    "entries",
    "scopes",
    "recalls",
    "p50 ms",
    "p99 ms",
    "max ms",
    "loop lag ms",
    "idle lag ms",
    "target",
]


async def _main(smoke: bool) -> Table:
    logging.getLogger("chromadb").setLevel(logging.ERROR)
    rows = []
    for n, recalls in SMOKE_LEVELS if smoke else LEVELS:
        with tempfile.TemporaryDirectory(prefix="hearth-bench-memory-") as tmp:
            latencies, lag, idle = await _level(n, recalls, Path(tmp))
        p99 = percentile(latencies, 99)
        checks = [f"lag < {TARGET_LAG_S * 1000:.0f} ms: {verdict(lag < TARGET_LAG_S)}"]
        if n == TARGET_AT:
            checks.insert(0, f"p99 < {TARGET_P99_S * 1000:.0f} ms: {verdict(p99 < TARGET_P99_S)}")
        rows.append(
            [
                f"{n:,}",
                str(-(-n // PER_SCOPE)),
                str(len(latencies)),
                ms(percentile(latencies, 50)),
                ms(p99),
                ms(max(latencies)),
                ms(lag),
                ms(idle),
                ", ".join(checks),
            ]
        )
    return HEADERS, rows


def run(smoke: bool = False) -> Table:
    """Run the benchmark; returns (headers, rows)."""
    return asyncio.run(_main(smoke))
