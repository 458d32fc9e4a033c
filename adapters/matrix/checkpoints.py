"""Checkpoints: which sync token may be stored while a sync's events are still being handled.

The sync loop does not wait for handlers (see adapters/matrix/lanes.py), so the token it syncs
from runs ahead of the one it stores: a sync's token is stored once its events, and every
earlier sync's, are handled. A restart then resumes from a sync whose events all ran: one still
in a handler is synced again (the core drops what it already saw), never skipped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from adapters.matrix.lanes import Lanes

Handler = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Job:
    """One event to handle: its lane (thread), its id, and the handler."""

    lane: str
    event_id: str
    handler: Handler


@dataclass(slots=True)
class _Batch:
    token: str
    delivered: list[str]
    open: int  # jobs not yet ended


class Checkpoints:
    """Feeds each sync's jobs to the lanes and calls ``store`` with the token that may be kept.

    ``store(token, delivered)`` gets the newest token whose syncs' jobs all ended, with the ids
    of the events those syncs delivered; ``forget(event_id)`` is called for a job cancelled
    before it ended, and no later token is stored by this instance (shutdown).
    """

    def __init__(
        self,
        lanes: Lanes,
        store: Callable[[str, list[str]], None],
        forget: Callable[[str], None],
    ) -> None:
        self._lanes = lanes
        self._store = store
        self._forget = forget
        self._batches: deque[_Batch] = deque()
        self._unfinished = False

    def dispatch(self, token: str, delivered: list[str], jobs: list[Job]) -> None:
        """Start a sync's jobs in their lanes; ``token`` is stored when they end."""
        if not jobs and self._batches:
            self._batches[-1].token = token  # nothing new: stored along with the last one
            return
        batch = _Batch(token, delivered, len(jobs))
        self._batches.append(batch)
        for job in jobs:
            self._lanes.submit(job.lane, job.handler, self._finisher(batch, job.event_id))
        self._store_done()

    def _finisher(self, batch: _Batch, event_id: str) -> Callable[[bool], None]:
        def finish(ran: bool) -> None:
            batch.open -= 1
            if not ran:
                # Cancelled (shutdown): the next run syncs it again rather than skip it.
                self._unfinished = True
                self._forget(event_id)
            self._store_done()

        return finish

    def _store_done(self) -> None:
        done: list[_Batch] = []
        while self._batches and self._batches[0].open == 0 and not self._unfinished:
            done.append(self._batches.popleft())
        if done:
            self._store(done[-1].token, [e for batch in done for e in batch.delivered])
