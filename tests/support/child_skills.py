"""A stand-in for a hearth that gets killed while a skill worker waits for its request.

    python -m tests.support.child_skills DB WORKSPACE WORD

Records process groups in DB, fills a skill runner's pool (WORD is in the worker's argv),
prints ``ready`` and waits to be killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from core.clock import SystemClock
from core.skills.runner import SkillRunner
from core.storage import MIGRATIONS, Database
from core.storage.kv import KVStore
from core.storage.processes import ProcessStore
from core.tools.environment import MINIMAL_ENV
from core.tools.sandbox import Sandbox


async def _main(db_path: str, workspace: Path, word: str) -> None:
    db = Database(db_path, MIGRATIONS)
    await db.start()
    ledger = ProcessStore(KVStore(db), SystemClock())
    sandbox = Sandbox("bwrap", workspace=workspace, ledger=ledger)
    runner = SkillRunner(sandbox, workspace=workspace, env=MINIMAL_ENV, preload=(word,))
    assert runner.pool is not None
    await runner.pool.start()
    await runner.ready()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], Path(sys.argv[2]), sys.argv[3]))
