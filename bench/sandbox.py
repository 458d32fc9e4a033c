"""sandbox: the latency bubblewrap adds to one command, compared with the plain subprocess.

``true`` and ``ls`` in the workspace, each run N times three ways: the plain subprocess (own
process group, capped output, as ``Sandbox("off")``), through the bubblewrap sandbox, and as
an approved command on the host (``run_host``: setpriv for the death signal, the environment
marker and the sweep for escaped children). Reported: p50 and p99 of each, and the p50 added
over the plain subprocess. Target: under 15 ms p50 added by the sandbox.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.common import Table, percentile, verdict
from core.clock import SystemClock
from core.storage import MIGRATIONS, Database
from core.storage.kv import KVStore
from core.storage.processes import ProcessStore
from core.tools.sandbox import Sandbox

NAME = "sandbox"
TARGET_ADDED_MS = 15.0
RUNS = 200
NOTE = (
    "Added latency = p50(way) - p50(plain). Workspace inside a hidden data dir; bwrap and "
    "host runs recorded in SQLite as in production."
)
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


async def _times(run, argv: list[str], cwd: Path, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        result = await run(argv, cwd=cwd, env=ENV, timeout=30)
        out.append((time.perf_counter() - started) * 1000)
        if not result.ok:
            raise RuntimeError(f"{argv} failed: {result.stderr.strip()[:200]}")
    return out


async def _measure(runs: int) -> Table:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        workspace = data / "workspace"
        workspace.mkdir(parents=True)
        db = Database(data / "hearth.db", MIGRATIONS)
        await db.start()
        try:
            # As the wiring builds it: every run recorded in SQLite for crash recovery.
            ledger = ProcessStore(KVStore(db), SystemClock())
            plain = Sandbox("off", workspace=workspace)
            host = Sandbox("off", workspace=workspace, ledger=ledger)
            boxed = Sandbox("auto", workspace=workspace, hide=[data], ledger=ledger)
            return await _table(plain, host, boxed, workspace, runs)
        finally:
            await db.close()


HEADERS = ["command", "way", "p50 ms", "p99 ms", "added p50 ms", f"< {TARGET_ADDED_MS:g} ms"]


async def _table(
    plain: Sandbox, host: Sandbox, boxed: Sandbox, workspace: Path, runs: int
) -> Table:
    rows: list[list[str]] = []
    for argv in (["true"], ["ls", "-la"]):
        shown = " ".join(argv)
        base = await _times(plain.run, argv, workspace, runs)
        base50 = percentile(base, 50)
        rows.append([shown, "plain", f"{base50:.1f}", f"{percentile(base, 99):.1f}", "", ""])
        ways = [("host (approved)", host.run_host)]
        if boxed.confines:
            ways.insert(0, ("bwrap", boxed.run))
        else:
            rows.append([shown, f"bwrap unavailable: {boxed.reason}", "", "", "", ""])
        for label, run in ways:
            times = await _times(run, argv, workspace, runs)
            p50, p99 = percentile(times, 50), percentile(times, 99)
            ok = verdict(p50 - base50 < TARGET_ADDED_MS) if label == "bwrap" else ""
            rows.append([shown, label, f"{p50:.1f}", f"{p99:.1f}", f"{p50 - base50:+.1f}", ok])
    return HEADERS, rows


def run(smoke: bool = False) -> Table:
    """The table; smoke runs each way a few times."""
    return asyncio.run(_measure(3 if smoke else RUNS))
