"""chroma: what one task's memory costs in Chroma alone, in CPU (all of the process's threads).

Every finished task stores a memory note and every task recalls before planning (#18), so a
mention costs one Chroma add and one query. This measures both on hearth's own ChromaIndex
(its collection tuning, 768-dimensional vectors like nomic-embed-text, an in-process fake
embedder: no model time), with the store already holding entries, so the floor they put
under ``bench e2e``'s CPU per mention is visible. Adds of 8 at once show what GroupCommit
saves when tasks end together.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import Table, ms
from core.memory import TASK, MemoryEntry
from core.memory.chroma import ChromaIndex

NAME = "chroma"
DIM = 768
SCOPE = "bench:ch:C0"
NOTE = "hearth's ChromaIndex on local disk; process CPU (Chroma's Rust threads included)."
HEADERS = ["operation", "entries held", "calls", "CPU per call ms", "CPU per entry ms"]


def _entry(i: int) -> MemoryEntry:
    text = f"Task: check the disks ({i}) (done)\nThe workspace uses {i % 97} GB; nothing to do."
    return MemoryEntry(
        id=f"e{i}",
        scope=SCOPE,
        kind=TASK,
        text=text,
        author="slack:UANA",
        author_name="Ana",
        task_id=f"t{i}",
        created_at=float(i),
    )


def _cpu_per_call(calls: int, op: Callable[[int], None]) -> float:
    began = time.process_time()
    for i in range(calls):
        op(i)
    return (time.process_time() - began) / calls


def run(smoke: bool = False) -> Table:
    """Run the benchmark; returns (headers, rows)."""
    held, calls = (20, 5) if smoke else (500, 200)
    rnd = random.Random(7)

    def vector() -> list[float]:
        return [rnd.uniform(-1, 1) for _ in range(DIM)]

    rows = []
    with tempfile.TemporaryDirectory(prefix="hearth-bench-chroma-") as tmp:
        index = ChromaIndex(Path(tmp), "bench-embed")
        index.add([_entry(i) for i in range(held)], [vector() for _ in range(held)])
        vectors = [vector() for _ in range(calls * 10)]  # made before timing
        base = held

        def add_one(i: int) -> None:
            index.add([_entry(base + i)], [vectors[i]])

        def add_eight(i: int) -> None:
            first = base + calls + 8 * i
            batch = [_entry(first + k) for k in range(8)]
            index.add(batch, vectors[calls + 8 * i : calls + 8 * i + 8])

        def query(i: int) -> None:
            index.query(vectors[i], SCOPE, 10)

        one = _cpu_per_call(calls, add_one)
        rows.append(["add 1 entry", f"{held:,}", str(calls), ms(one), ms(one)])
        eight = _cpu_per_call(calls // 4, add_eight)
        held8 = f"{held + calls:,}"
        rows.append(["add 8 entries", held8, str(calls // 4), ms(eight), ms(eight / 8)])
        q = _cpu_per_call(calls, query)
        rows.append(["query (recall)", f"{held + calls * 3:,}", str(calls), ms(q), "–"])
    return HEADERS, rows
