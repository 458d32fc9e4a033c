"""Skills benchmark: a repeated request answered by a skill vs. by the agent.

The skill path is what `hearth run` does for "how full is the disk?": the shortcut matches the
request to the built-in ``disk_usage`` skill and runs it in a sandboxed subprocess (bubblewrap
when available), a worker the runner started ahead of the request. Requests in a chat come
seconds apart, so the pool has refilled before each one; the "back to back" row does not wait
for that (each request then waits for the replacement still starting). The agent path is the
same request with ``ask`` in front: the real AgentRunner plans, calls ``df -h`` through the
sandboxed shell tool and answers, with a scripted model streaming 20 tokens/s (a 3B model on a
small GPU) and answering with the same table the skill prints (4 characters = one token, as in
the agent benchmark). The floor rows are a skill that does nothing: on a pre-started worker,
and on a child started for the run (the path without the pool).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import BenchAdapter, ModelRequest, ScriptedModel, Table, ms, verdict
from core.agent.config import AgentConfig
from core.agent.runner import AgentRunner
from core.agent.summary import SUMMARY_SYSTEM
from core.events import ChatRef, User
from core.llm.base import StreamEvent, TextDelta, ToolCall, TurnEnd, Usage
from core.metrics import Metrics
from core.skills.library import SkillLibrary
from core.skills.runner import SkillRunner
from core.skills.shortcut import SkillShortcut
from core.storage import MIGRATIONS, Database
from core.storage.skills import SkillStore
from core.storage.usage import UsageStore
from core.tasks import TaskContext
from core.thread import TaskThread
from core.tools.builtin import build_tools
from core.tools.environment import MINIMAL_ENV
from core.tools.sandbox import Sandbox
from core.usage import UsageRecorder

NOTE = "skill: pre-started sandboxed worker; agent: scripted model at 20 tokens/s"
TOKENS_PER_S = 20.0
REQUEST = "how full is the disk?"
TARGET_RATIO = 100.0
CHARS_PER_TOKEN = 4


def text_turn(text: str) -> list[StreamEvent]:
    """A turn streaming ``text`` one token (4 characters) at a time."""
    tokens = [text[i : i + CHARS_PER_TOKEN] for i in range(0, len(text), CHARS_PER_TOKEN)]
    usage = Usage(200, len(tokens))
    return [*(TextDelta(t) for t in tokens), TurnEnd("end_turn", usage=usage, text=text)]


DF = ToolCall("c1", "shell", {"command": "df -h"})


def _agent_script(answer: str):
    """Plan; call `df -h` (its tokens streamed like any answer); answer with the table."""

    def script(request: ModelRequest) -> list[StreamEvent]:
        if request.format is not None:
            return text_turn(json.dumps({"subtasks": ["report disk usage by mount"]}))
        if request.system == SUMMARY_SYSTEM:
            return text_turn(answer)
        if request.messages[-1].role != "tool":
            call = json.dumps({"name": DF.name, "arguments": DF.arguments})
            streamed = text_turn(call)[:-1]
            return [*streamed, TurnEnd("tool_use", (DF,), Usage(200, len(streamed)), "")]
        return text_turn(f"{answer}\nCONFIDENCE: 0.9")

    return script


async def _measure(runs: int, data: Path) -> Table:
    workspace = data / "workspace"
    workspace.mkdir(parents=True)
    db = Database(data / "hearth.db", MIGRATIONS)
    await db.start()
    closing: list[SkillRunner] = []
    try:
        sandbox = Sandbox("auto", workspace=workspace, hide=[data])
        runner = SkillRunner(sandbox, workspace=workspace, env=MINIMAL_ENV)
        cold = SkillRunner(sandbox, workspace=workspace, env=MINIMAL_ENV, warm=0)
        closing.extend((runner, cold))
        library = SkillLibrary(SkillStore(db), runner=runner)
        await library.load()
        metrics = Metrics()
        adapter = BenchAdapter()
        answer_holder: list[str] = []
        model = ScriptedModel(
            lambda r: _agent_script(answer_holder[0])(r), tokens_per_s=TOKENS_PER_S
        )
        agent = AgentRunner(
            model,
            model,
            cloud=None,
            tools=build_tools(workspace=workspace, broker=None, secrets=(), sandbox=sandbox),
            recorder=UsageRecorder(UsageStore(db), cloud_model="claude-opus-4-6"),
            budget=None,
            channels=None,
            config=AgentConfig(workspace=workspace, escalation_enabled=False, verification=False),
            metrics=metrics,
        )
        shortcut = SkillShortcut(library, agent, metrics=metrics)
        ids = itertools.count(1)
        user = User("bench", "U1", "bench")

        async def once(goal: str, *, refilled: bool = True) -> float:
            if refilled:  # outside the timing: chat requests come seconds apart
                await runner.ready()
            n = next(ids)
            chat = ChatRef("bench", "C1", f"th{n}")
            task = TaskContext(
                task_id=f"t{n}",
                goal=goal,
                chat=chat,
                requester=user,
                thread=TaskThread(adapter, chat),  # type: ignore[arg-type]
            )
            started = time.perf_counter()
            await shortcut.run(task)
            return time.perf_counter() - started

        await once(REQUEST)  # warm the page cache and imports
        skill_times = [await once(REQUEST) for _ in range(runs)]
        skill_calls = model.calls
        rushed_times = [await once(REQUEST, refilled=False) for _ in range(runs)]
        # The agent answers with what the skill printed, so both say the same thing.
        answer_holder.append(" ".join(adapter.texts[max(adapter.texts)].split()))
        agent_times = [await once(f"ask {REQUEST}") for _ in range(max(1, runs // 10))]
        agent_calls = (model.calls - skill_calls) / max(1, runs // 10)
        noop = data / "skills" / "noop.py"
        noop.parent.mkdir()
        noop.write_text(
            "from core.skills.api import ok\nNAME = 'noop'\nDESCRIPTION = 'nothing'\n"
            "PARAMS = {'type': 'object'}\nEXAMPLES = ['do nothing at all']\n"
            "def run(params):\n    return ok('done')\n"
        )
        floor_times, cold_times = [], []
        for skill_runner, times in ((runner, floor_times), (cold, cold_times)):
            floor_lib = SkillLibrary(
                SkillStore(db), runner=skill_runner, builtin_dir=None, data_dir=noop.parent
            )
            await floor_lib.load()
            floor_skill = floor_lib.get("noop")
            for _ in range(runs):
                await runner.ready()
                t0 = time.perf_counter()
                await floor_lib.run(floor_skill, {})  # type: ignore[arg-type]
                times.append(time.perf_counter() - t0)
    finally:
        for each in closing:
            await each.close()
        await db.close()
    skill = statistics.median(skill_times)
    agent_t = statistics.median(agent_times)
    ratio = agent_t / skill
    return (
        ["path", "runs", "median", "model calls per request", "note"],
        [
            [
                "skill (disk_usage)",
                str(len(skill_times)),
                ms(skill),
                str(skill_calls),
                f"sandbox: {sandbox.mode}, pre-started worker",
            ],
            [
                "agent (ask …)",
                str(len(agent_times)),
                ms(agent_t),
                f"{agent_calls:g}",
                f"{TOKENS_PER_S:g} tokens/s",
            ],
            [
                "ratio agent/skill",
                "",
                f"{ratio:.0f}×",
                "",
                f"target ≥{TARGET_RATIO:g}× and 0 calls: "
                + verdict(ratio >= TARGET_RATIO and skill_calls == 0),
            ],
            [
                "skill, back to back",
                str(len(rushed_times)),
                ms(statistics.median(rushed_times)),
                "0",
                "no wait for the pool to refill",
            ],
            [
                "floor: empty skill",
                str(len(floor_times)),
                ms(statistics.median(floor_times)),
                "0",
                "pre-started worker: request + result",
            ],
            [
                "floor: empty skill, cold",
                str(len(cold_times)),
                ms(statistics.median(cold_times)),
                "0",
                "sandboxed child start + result",
            ],
        ],
    )


def run(smoke: bool = False) -> Table:
    """Median latency of both paths and their ratio."""
    with tempfile.TemporaryDirectory(prefix="hearth-bench-skills-") as tmp:
        return asyncio.run(_measure(3 if smoke else 30, Path(tmp)))
