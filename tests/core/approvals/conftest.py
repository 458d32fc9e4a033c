"""Approval fixtures: a clock whose sleeps wait until the test advances time, a broker, and
helpers to ask, find the prompt and click."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from core.approvals.broker import ApprovalBroker
from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalResponse,
    ChatRef,
    Decision,
    MessageRef,
    User,
)
from core.metrics import Metrics
from core.storage.approvals import ApprovalStore
from core.storage.db import Database
from tests.fakes.adapter import FakeAdapter

ANA = User("fake", "U1", "Ana")  # approver
BOB = User("fake", "U2", "Bob")  # requester, not an approver
CARL = User("fake", "U3", "Carl")  # bystander
BOT = User("fake", "B1", "hearth", is_bot=True)
CHAT = ChatRef("fake", "C1", "T1")
TIMEOUT = 1800.0


class ManualClock:
    """Implements core.ports.Clock; ``sleep`` blocks until ``advance`` moves time past it.

    (tests/fakes/clock.py's FakeClock finishes every sleep at once, which would expire every
    approval immediately.)
    """

    def __init__(self) -> None:
        self._mono = 1000.0
        self._wall = 1_700_000_000.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        return self._mono

    def now(self) -> float:
        return self._wall

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._mono + seconds, future))
        await future

    @property
    def pending_sleeps(self) -> int:
        """How many sleeps are waiting for time to move."""
        return sum(1 for _, future in self._sleepers if not future.done())

    def advance(self, seconds: float) -> None:
        self._mono += seconds
        self._wall += seconds
        keep = []
        for deadline, future in self._sleepers:
            if future.done():
                continue
            if deadline <= self._mono:
                future.set_result(None)
            else:
                keep.append((deadline, future))
        self._sleepers = keep


async def eventually(check: Callable[[], bool], what: str = "condition") -> None:
    """Wait until ``check`` holds: SQLite work runs on aiosqlite's thread (bounded, ~5 s)."""
    for _ in range(2500):
        if check():
            return
        await asyncio.sleep(0.002)
    raise AssertionError(f"timed out waiting for {what}")


def ask(
    broker: ApprovalBroker,
    command: str = "rm -rf build",
    *,
    requester: User = BOB,
    chat: ChatRef = CHAT,
    task_id: str = "task-1",
) -> asyncio.Task[ApprovalOutcome]:
    """Ask ``broker`` for ``command`` in a task of its own (the waiting agent)."""
    return asyncio.create_task(
        broker.request(
            chat=chat,
            command=command,
            cwd="/srv/ws",
            task_id=task_id,
            requester=requester,
            reasons=("deletes files (rm)",),
        ),
        name=f"ask:{task_id}",
    )


async def shown_prompt(adapter: FakeAdapter, n: int = 1) -> tuple[ApprovalRequest, MessageRef]:
    """The ``n``-th approval request ``adapter`` was asked to show, and its prompt message."""
    await eventually(lambda: len(adapter.approval_requests) >= n, "approval prompt")
    request = adapter.approval_requests[n - 1]
    msg = next(m for m in adapter.messages.values() if m.buttons or request.id in m.text)
    prompts = [m for m in adapter.messages.values() if request.id in m.text]
    return request, (prompts[0].ref if prompts else msg.ref)


def click(
    request: ApprovalRequest, user: User, decision: Decision, prompt: MessageRef | None = None
) -> ApprovalResponse:
    """``user`` pressing ``decision`` on ``request`` (on the ``prompt`` message, if given)."""
    return ApprovalResponse(approval_id=request.id, decision=decision, user=user, prompt=prompt)


@pytest.fixture
def mclock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def store(db: Database) -> ApprovalStore:
    return ApprovalStore(db)


@pytest.fixture
def make_broker(
    store: ApprovalStore, adapter: FakeAdapter, mclock: ManualClock, metrics: Metrics
) -> Callable[..., ApprovalBroker]:
    def make(**overrides: object) -> ApprovalBroker:
        kwargs: dict[str, object] = {
            "approvers": frozenset({ANA.qualified}),
            "timeout": TIMEOUT,
            "clock": mclock,
            "metrics": metrics,
        }
        kwargs.update(overrides)
        adapters = kwargs.pop("adapters", {"fake": adapter})
        return ApprovalBroker(adapters, kwargs.pop("store", store), **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def broker(make_broker: Callable[..., ApprovalBroker]) -> ApprovalBroker:
    return make_broker()


AskFn = Callable[..., Awaitable[object]]
