"""ProcessStore: process groups of running tool commands, for killing leftovers after a crash."""

from __future__ import annotations

import json

from core.ports import Clock
from core.storage.kv import KVStore
from core.tools.reaper import ProcessRecord

_PREFIX = "process:"


class ProcessStore:
    """A ProcessLedger in the ``kv`` table (one key per running group)."""

    def __init__(self, kv: KVStore, clock: Clock) -> None:
        self._kv = kv
        self._clock = clock

    async def add(self, record: ProcessRecord) -> None:
        """Record a started group."""
        value = json.dumps({"token": record.token, "owner": record.owner, "host": record.host})
        await self._kv.set(f"{_PREFIX}{record.pgid}", value, now=self._clock.now())

    async def remove(self, pgid: int) -> None:
        """Forget a finished group."""
        await self._kv.delete(f"{_PREFIX}{pgid}")

    async def all(self) -> list[ProcessRecord]:
        """Every group still recorded."""
        out = []
        for key, value in (await self._kv.with_prefix(_PREFIX)).items():
            try:
                data = json.loads(value)
                out.append(
                    ProcessRecord(
                        int(key.removeprefix(_PREFIX)),
                        str(data["token"]),
                        str(data.get("owner", "")),
                        bool(data.get("host", False)),
                    )
                )
            except (ValueError, KeyError, TypeError):
                await self._kv.delete(key)  # unreadable: nothing to recover from it
        return out
