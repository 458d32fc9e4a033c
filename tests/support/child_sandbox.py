"""A stand-in for a hearth that gets killed: it records its process groups in DB, starts one
sandboxed and one approved (host) command that both leave children, and waits to be killed.

    python -m tests.support.child_sandbox DB WORKSPACE SANDBOXED_COMMAND HOST_COMMAND
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from core.clock import SystemClock
from core.storage import MIGRATIONS, Database
from core.storage.kv import KVStore
from core.storage.processes import ProcessStore
from core.tools.sandbox import Sandbox

ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


async def _main(db_path: str, workspace: Path, confined: str, host: str) -> None:
    db = Database(db_path, MIGRATIONS)
    await db.start()
    sandbox = Sandbox(
        "bwrap", workspace=workspace, ledger=ProcessStore(KVStore(db), SystemClock())
    )
    await asyncio.gather(
        sandbox.run(["bash", "-c", confined], cwd=workspace, env=ENV, timeout=60, owner="t1"),
        sandbox.run_host(["bash", "-c", host], cwd=workspace, env=ENV, timeout=60, owner="t2"),
    )


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]))
