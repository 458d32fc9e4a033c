"""SkillShortcut: the task's card goes up before the skills are read, and a skill's answer
comes below it; the card ends with the task (done, failed or stopped)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from core.errors import TaskFailed
from core.events import ChatRef, User
from core.skills.library import BUILTIN_DIR, SkillLibrary
from core.skills.model import CodeSkill, Status
from core.skills.runner import SkillRunner
from core.skills.shortcut import SkillShortcut
from core.storage.db import Database
from core.storage.skills import SkillStore
from core.tasks import TaskContext
from core.thread import TaskThread
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock

CHAT = ChatRef("fake", "C1", "T1")


class SlowLibrary(SkillLibrary):
    """A library whose skill states take as long as the test says (a busy database)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.reading = asyncio.Event()
        self.release = asyncio.Event()

    async def code_skills(self, statuses: frozenset[Status]) -> list[CodeSkill]:
        self.reading.set()
        await self.release.wait()
        return await super().code_skills(statuses)


class Agent:
    """The wrapped agent: records the goals it was given."""

    def __init__(self) -> None:
        self.goals: list[str] = []

    async def run(self, task: TaskContext) -> str:
        self.goals.append(task.goal)
        card = task.thread.card(task.goal)
        await card.start()
        card.close_soon("✅ Done")
        return "agent"


async def until(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


def _task(adapter: FakeAdapter, goal: str) -> TaskContext:
    thread = TaskThread(adapter, CHAT, FakeClock())
    return TaskContext(
        task_id="t1", goal=goal, chat=CHAT, requester=User("fake", "U1"), thread=thread
    )


@pytest.fixture
async def library(db: Database) -> SlowLibrary:
    lib = SlowLibrary(SkillStore(db), builtin_dir=BUILTIN_DIR, clock=FakeClock())
    await lib.load()
    return lib


def _texts(adapter: FakeAdapter) -> list[str]:
    return [m.text for m in adapter.messages.values()]


async def test_the_card_is_up_while_the_skills_are_still_being_read(
    library: SlowLibrary, runner: SkillRunner
) -> None:
    library._runner = runner
    adapter = FakeAdapter()
    shortcut = SkillShortcut(library, Agent())
    run = asyncio.create_task(shortcut.run(_task(adapter, "how full is the disk?")))
    await library.reading.wait()
    await until(lambda: adapter.messages)  # the card, though no skill state has come back
    assert _texts(adapter) == ["⏳ Working on: how full is the disk?"]
    library.release.set()
    assert await run == "answered by skill disk_usage"
    await until(lambda: _texts(adapter)[0].startswith("✅ Done"))
    card, answer = _texts(adapter)
    assert card == "✅ Done: how full is the disk?"
    assert "answered by skill `disk_usage`" in answer


async def test_the_agent_reuses_the_card_and_ask_goes_straight_to_it(
    library: SlowLibrary,
) -> None:
    library.release.set()
    adapter = FakeAdapter()
    agent = Agent()
    shortcut = SkillShortcut(library, agent)
    assert await shortcut.run(_task(adapter, "write a haiku about disks")) == "agent"
    assert await shortcut.run(_task(adapter, "ask how full is the disk?")) == "agent"
    await until(lambda: all(t.startswith("✅") for t in _texts(adapter)))
    # One card per task, not one from the shortcut and another from the agent.
    assert _texts(adapter) == [
        "✅ Done: write a haiku about disks",
        "✅ Done: how full is the disk?",
    ]
    assert agent.goals == ["write a haiku about disks", "how full is the disk?"]


async def test_a_stopped_skill_task_closes_its_card(library: SlowLibrary) -> None:
    adapter = FakeAdapter()
    task = _task(adapter, "how full is the disk?")
    run = asyncio.create_task(SkillShortcut(library, Agent()).run(task))
    await library.reading.wait()
    task.thread.stop_note = "Stopped by ana."
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    await until(lambda: _texts(adapter) and _texts(adapter)[0].startswith("⏹"))
    assert _texts(adapter) == ["⏹ Stopped by ana: how full is the disk?"]


async def test_a_failed_skill_task_closes_its_card_failed(library: SlowLibrary) -> None:
    library.release.set()
    adapter = FakeAdapter()
    await library.set_status("disk_usage", Status.DISABLED)
    with pytest.raises(TaskFailed, match="disabled"):
        await SkillShortcut(library, Agent()).run(_task(adapter, "run disk_usage"))
    await until(lambda: any(t.startswith("❌") for t in _texts(adapter)))
    assert "❌ Failed: run disk_usage" in _texts(adapter)
    assert "`disk_usage` is disabled (an admin can enable it)." in _texts(adapter)
