"""The factory's checks loop, the learner's similarity, and rollback."""

from __future__ import annotations

from pathlib import Path

from core.events import ChatRef, User
from core.skills.factory import SkillFactory
from core.skills.learning import REDRAFT_AFTER, Learner
from core.skills.library import SkillLibrary
from core.skills.review import SkillReview, code_messages
from core.skills.runner import SkillRunner
from core.storage.db import Database
from core.storage.skills import SkillStore
from core.storage.traces import TraceStore
from core.storage.usage import UsageStore
from core.tasks import TaskContext
from core.thread import TaskThread
from core.usage import UsageRecorder
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock
from tests.fakes.llm import ScriptedLLM, Turn

SKILL = """from core.skills.api import SkillResult, ok

NAME = "say_{word}"
DESCRIPTION = "Say {word}."
PARAMS = {{"type": "object", "properties": {{}}}}
EXAMPLES = ["say {word} please", "please say {word}"]


def run(params: dict) -> SkillResult:
    return ok("{word}")
"""


def _fenced(source: str) -> Turn:
    return Turn(text=f"```python\n{source}```")


def _factory(db: Database, llm: ScriptedLLM, runner: SkillRunner) -> SkillFactory:
    return SkillFactory(
        local=llm,
        cloud=None,
        escalation_enabled=False,
        recorder=UsageRecorder(UsageStore(db), cloud_model="claude-opus-4-6"),
        budget=None,
        runner=runner,
    )


async def test_a_failing_module_is_regenerated_once_with_its_problems_then_dropped(
    db: Database, runner: SkillRunner
) -> None:
    llm = ScriptedLLM(Turn(text="no code at all"), _fenced("import os\nos.system('id')\n"))
    said: list[str] = []

    async def say(text: str) -> None:
        said.append(text)

    draft = await _factory(db, llm, runner).draft(
        description="say x", traces=[], task_id="t1", user="u", local_only=False, say=say
    )
    assert draft is None and len(llm.seen) == 2
    retry = llm.seen[1].messages[-1].text
    assert "the answer held no ```python block" in retry
    assert said[-1].startswith("🗑 The generated skill failed its checks twice and was dropped")
    assert "missing NAME" in said[-1]


async def test_rollback_restores_the_previous_versions_behaviour(
    db: Database, runner: SkillRunner, tmp_path: Path
) -> None:
    lib = SkillLibrary(SkillStore(db), runner=runner, builtin_dir=None, clock=FakeClock())
    await lib.load()
    one = SKILL.format(word="one").replace('NAME = "say_one"', 'NAME = "say"')
    two = SKILL.format(word="two").replace('NAME = "say_two"', 'NAME = "say"')
    await lib.add_generated(one, note="first")
    await lib.add_generated(two, note="second")
    assert (await lib.run(lib.get("say"), {})).text == "two"  # type: ignore[arg-type]
    assert [s.version for s in await lib.history("say")] == [1, 2]
    assert await lib.rollback("say", 1) is not None
    assert (await lib.run(lib.get("say"), {})).text == "one"  # type: ignore[arg-type]
    again = SkillLibrary(SkillStore(db), runner=runner, builtin_dir=None, clock=FakeClock())
    await again.load()  # a restart keeps the rollback
    assert again.get("say").version == 1  # type: ignore[union-attr]
    assert await lib.rollback("say", 9) is None


async def test_similar_goals_by_embeddings_when_available(
    db: Database, runner: SkillRunner
) -> None:
    traces = TraceStore(db)
    vectors = {"a": [1.0, 0.0], "b": [0.95, 0.05], "c": [0.0, 1.0]}

    async def embed(texts):
        return [vectors[t[0]] for t in texts]

    lib = SkillLibrary(SkillStore(db), runner=runner, builtin_dir=None, clock=FakeClock())
    llm = ScriptedLLM(fallback="no code")
    learner = Learner(
        _factory(db, llm, runner),
        SkillReview(lib, SkillStore(db), None),
        traces,
        suggest_after=2,
        embed=embed,
    )
    adapter = FakeAdapter()
    for i, goal in enumerate(["a: disk on web1", "c: unrelated", "b: disk on web2"]):
        chat = ChatRef("fake", "C", f"th{i}")
        task = TaskContext(
            task_id=f"t{i}",
            goal=goal,
            chat=chat,
            requester=User("fake", "U"),
            thread=TaskThread(adapter, chat),
        )
        await learner.after_success(task, "")
    await learner.drain()
    texts = [m.text for m in adapter.messages.values()]
    assert sum("succeeded 2 times" in t for t in texts) == 1  # a and b, never c
    [said] = [m for m in adapter.messages.values() if "succeeded 2 times" in m.text]
    assert said.ref.chat.thread_id == "th2"  # after b, the task alike a
    assert len(llm.seen) == 2  # one draft (and its retry)


async def test_one_draft_per_kind_of_request_even_when_it_fails(
    db: Database, runner: SkillRunner
) -> None:
    """A kind drafted lately (here: every draft fails) is left alone for REDRAFT_AFTER: no
    second 💡 in the channel and no model calls, across a restart too."""
    lib = SkillLibrary(SkillStore(db), runner=runner, builtin_dir=None, clock=FakeClock())
    llm = ScriptedLLM(fallback="no code")  # every draft fails: no module in the answer
    clock = FakeClock()
    adapter = FakeAdapter()

    def learner() -> Learner:
        return Learner(
            _factory(db, llm, runner),
            SkillReview(lib, SkillStore(db), None),
            TraceStore(db),
            suggest_after=2,
            clock=clock,
        )

    async def succeed(who: Learner, i: int, goal: str = "how full is the disk on web") -> None:
        chat = ChatRef("fake", "C", f"th{i}")
        task = TaskContext(
            task_id=f"t{i}",
            goal=f"{goal}{i}",
            chat=chat,
            requester=User("fake", "U"),
            thread=TaskThread(adapter, chat),
        )
        await who.after_success(task, "")
        await who.drain()

    def drafts() -> int:
        return sum("I'm drafting a skill" in m.text for m in adapter.messages.values())

    first = learner()
    for i in range(6):
        await succeed(first, i)
    assert drafts() == 1  # t0+t1 drafted; t2…t5 are that kind: left alone
    assert len(llm.seen) == 2  # one draft and its one retry
    await succeed(first, 6, "restart the queue worker on web")
    await succeed(first, 7, "restart the queue worker on web")
    assert drafts() == 2  # another kind is drafted as usual
    again = learner()  # a restart remembers what was drafted lately
    await succeed(again, 8)
    await succeed(again, 9)
    assert drafts() == 2 and len(llm.seen) == 4
    clock.advance(REDRAFT_AFTER + 1)  # a week later, one more try
    await succeed(again, 10)
    await succeed(again, 11)
    assert drafts() == 3 and len(llm.seen) == 6


def test_long_code_is_split_between_lines_never_lost() -> None:
    source = "".join(f"line_{i} = {i}\n" for i in range(400))
    parts = code_messages(source, 500)
    assert all(len(p) <= 500 for p in parts) and len(parts) > 5
    joined = "".join(p.removeprefix("```python\n").removesuffix("\n```") + "\n" for p in parts)
    assert joined == source
