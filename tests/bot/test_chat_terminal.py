"""`hearth chat` in a real terminal (a pty driven by pexpect) against the loopback fake Ollama."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pexpect

from tests.bot.test_chat_e2e import _chat, _env
from tests.fakes.ollama import FakeOllama

TIMEOUT = 30
# `hearth chat` whose core starts only once the file named by argv[1] exists: the prompt is up
# and takes lines while hearth is still being built (held so for as long as the test needs).
HELD = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from bot.app import App
    from bot.cli import main
    go, run = Path(sys.argv[1]), App.run
    async def held(self, stop=None):
        while not go.exists():
            await asyncio.sleep(0.01)
        await run(self, stop)
    App.run = held
    sys.exit(main(["chat"]))
    """
)

# `hearth chat` whose text commands wait, once begun (file argv[1] made), for file argv[2].
HELD_COMMAND = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from bot.cli import main
    from core.dispatch import Dispatcher
    begun, go, run = Path(sys.argv[1]), Path(sys.argv[2]), Dispatcher._run_command
    async def held(self, *args):
        begun.touch()
        while not go.exists():
            await asyncio.sleep(0.01)
        await run(self, *args)
    Dispatcher._run_command = held
    sys.exit(main(["chat"]))
    """
)


@asynccontextmanager
async def terminal(
    tmp_path: Path, fake: FakeOllama, args: Sequence[str] = ("-m", "bot", "chat")
) -> AsyncIterator[pexpect.spawn]:
    """`hearth chat` (or ``args`` for python) on a pty; the workspace is tmp_path/ws."""
    (tmp_path / "ws").mkdir(exist_ok=True)
    env = _env(
        tmp_path,
        fake.url,
        HEARTH_WORKSPACE=str(tmp_path / "ws"),
        TERM="xterm",
        PROMPT_TOOLKIT_NO_CPR="1",  # pexpect does not answer cursor-position requests
    )
    child = pexpect.spawn(
        sys.executable,
        list(args),
        env=env,
        cwd=str(tmp_path),
        encoding="utf-8",
        dimensions=(40, 140),
        timeout=TIMEOUT,
    )
    child.logfile_read = (tmp_path / "terminal.log").open("w")
    try:
        await expect(child, "type a task")
        yield child
    finally:
        if child.isalive():
            child.terminate(force=True)


async def expect(child: pexpect.spawn, pattern: str | type[pexpect.EOF]) -> None:
    """Wait for ``pattern`` (a plain string, or the end of output)."""
    await child.expect_exact([pattern], async_=True)


async def exit_code(child: pexpect.spawn) -> int:
    """Wait for the process to end; its exit status."""
    await expect(child, pexpect.EOF)
    child.close()
    return child.exitstatus if child.exitstatus is not None else -(child.signalstatus or 0)


async def until(predicate, timeout: float = TIMEOUT) -> None:
    """Wait for a condition in the test process (e.g. requests seen by the fake)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


def _queue_rm(fake: FakeOllama) -> None:
    fake.queue_json({"subtasks": ["delete the build directory"]})
    fake.queue_tool_calls([("shell", {"command": "rm -r build"})])
    fake.queue_text("Done with the build directory.\nCONFIDENCE: 0.9")


def _build(tmp_path: Path) -> Path:
    build = tmp_path / "ws" / "build"
    build.mkdir(parents=True)
    (build / "out.o").write_text("x")
    return build


async def test_two_sessions_in_a_row_both_answer(tmp_path: Path) -> None:
    async with FakeOllama() as fake:
        for n in (1, 2):
            fake.queue_json({"subtasks": ["answer"]})
            fake.queue_text(f"Answer number {n}.")
            async with terminal(tmp_path, fake) as child:
                child.sendline(f"question {n}")
                await expect(child, f"Answer number {n}.")
                child.sendcontrol("d")
                assert await exit_code(child) == 0
        # Piped, twice more: the second session's lines are not dropped as duplicates.
        for _ in (1, 2):
            code, out, err = await _chat(tmp_path, fake.url, "help\n")
            assert code == 0, err
            assert "• status — tasks running and queued" in out


async def test_lines_typed_before_hearth_is_up_wait_and_are_answered(tmp_path: Path) -> None:
    go = tmp_path / "go"
    async with FakeOllama() as fake, terminal(tmp_path, fake, ["-c", HELD, str(go)]) as child:
        fake.queue_json({"subtasks": ["answer"]})
        fake.queue_text("The early answer.")
        child.sendline("an early question")
        await expect(child, "starting…")  # its live line, while hearth is not up yet
        child.sendline("help")
        await expect(child, "[b] starting…")
        assert fake.requests == []  # held: nothing reached the core yet
        go.touch()
        # Both answered, in whichever order they finish (help does not wait for the task).
        either = ["The early answer.", "tasks running and queued"]
        seen: set[int] = set()
        while len(seen) < 2:
            seen.add(await child.expect_exact(either, async_=True))
        child.sendcontrol("d")
        assert await exit_code(child) == 0


async def test_ctrl_d_before_hearth_is_up_ends_the_chat_once_it_is(tmp_path: Path) -> None:
    go = tmp_path / "go"
    async with FakeOllama() as fake, terminal(tmp_path, fake, ["-c", HELD, str(go)]) as child:
        child.sendcontrol("d")
        await expect(child, "\x1b[?2004l")  # the prompt ended (after the banner: nothing else)
        go.touch()
        assert await exit_code(child) == 0
    assert (tmp_path / "terminal.log").read_text().count("type a task") == 1  # not read anew


async def test_ctrl_d_typed_while_a_reply_is_made_is_not_lost(tmp_path: Path) -> None:
    begun, go = tmp_path / "begun", tmp_path / "go"
    args = ["-c", HELD_COMMAND, str(begun), str(go)]
    async with FakeOllama() as fake, terminal(tmp_path, fake, args) as child:
        child.sendline("help")  # the first: answered once hearth is up
        await until(begun.exists)
        go.touch()
        await expect(child, "tasks running and queued")
        begun.unlink()
        go.unlink()
        child.sendline("help")  # hearth is up: made between two prompts
        await until(begun.exists)
        child.sendcontrol("d")  # no prompt is reading now
        go.touch()
        await expect(child, "tasks running and queued")
        assert await exit_code(child) == 0


async def test_approval_taken_with_y(tmp_path: Path) -> None:
    build = _build(tmp_path)
    async with FakeOllama() as fake, terminal(tmp_path, fake) as child:
        _queue_rm(fake)
        child.sendline("clean up the build dir")
        await expect(child, "Approve? [y/N]")
        assert build.exists()  # nothing runs before the answer
        child.sendline("y")
        await expect(child, "Done with the build directory.")
        assert not build.exists()
        child.sendcontrol("d")
        assert await exit_code(child) == 0


async def test_approval_refused_with_n_and_with_ctrl_d(tmp_path: Path) -> None:
    build = _build(tmp_path)
    async with FakeOllama() as fake, terminal(tmp_path, fake) as child:
        _queue_rm(fake)
        child.sendline("clean up the build dir")
        await expect(child, "Approve? [y/N]")
        child.sendline("n")
        await expect(child, "❌ Rejected by")
        await expect(child, "Done with the build directory.")
        _queue_rm(fake)
        child.sendline("clean up the build dir again")
        await expect(child, "Approve? [y/N]")
        child.sendcontrol("d")  # at a question, Ctrl-D means no (and does not quit)
        await expect(child, "❌ Rejected by")
        await expect(child, "Done with the build directory.")
        assert build.exists()
        child.sendcontrol("d")
        assert await exit_code(child) == 0


async def test_ctrl_c_at_an_approval_denies_and_cancels_then_twice_exits_130(
    tmp_path: Path,
) -> None:
    build = _build(tmp_path)
    async with FakeOllama() as fake, terminal(tmp_path, fake) as child:
        _queue_rm(fake)
        child.sendline("clean up the build dir")
        await expect(child, "Approve? [y/N]")
        child.sendcontrol("c")
        # The prompt's closing edit is paced with the task's other edits: either may come first.
        either = ["❌ Rejected by", "Ctrl-C again within 2 s quits"]
        seen: set[int] = set()
        while len(seen) < 2:
            seen.add(await child.expect_exact(either, async_=True))
        child.sendcontrol("c")
        assert await exit_code(child) == 130
    assert build.exists()


async def test_two_tasks_at_once_with_labels_then_ctrl_d_waits(tmp_path: Path) -> None:
    async with FakeOllama() as fake, terminal(tmp_path, fake) as child:
        fake.queue_json({"subtasks": ["wait for the slow thing"]})
        fake.queue_hang()  # task a's model call never answers
        child.sendline("a slow task")
        await until(lambda: len(fake.requests) == 2)
        fake.queue_json({"subtasks": ["answer"]})
        fake.queue_text("The quick answer.")
        child.sendline("a quick question")
        # b answered while a still runs; styles may sit between the label and the text.
        await child.expect(r"\[b\][^\n]*The quick answer\.", async_=True)
        await expect(child, "✅ Done: a quick question")  # the answer streams live, then b ends
        child.sendcontrol("d")
        await expect(child, "waiting for 1 task (Ctrl-C to stop it)")
        child.sendcontrol("c")
        await expect(child, "Stopped by")
        assert await exit_code(child) == 0


async def test_steer_and_stop_by_label_and_stop_with_nothing_running(tmp_path: Path) -> None:
    async with FakeOllama() as fake, terminal(tmp_path, fake) as child:
        child.sendline("stop")
        await expect(child, "nothing is running")
        fake.queue_json({"subtasks": ["wait for the slow thing"]})
        fake.queue_hang()
        child.sendline("a slow task")
        await until(lambda: len(fake.requests) == 2)
        child.sendline(">a also check the logs")
        await expect(child, "Noted")
        child.sendline("stop a")
        await expect(child, "Stopped by")
        child.sendcontrol("d")
        assert await exit_code(child) == 0
    assert len(fake.requests) == 2  # `stop` never became a model call


async def test_piped_input_answers_and_exits_0(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "notes.txt").write_text("milk\n")
    async with FakeOllama() as fake:
        fake.queue_json({"subtasks": ["list the files"]})
        fake.queue_tool_calls([("list_dir", {"path": "."})])
        fake.queue_text("There is one file: **notes.txt**.")
        code, out, err = await _chat(
            tmp_path, fake.url, "list the files\n", HEARTH_WORKSPACE=str(tmp_path / "ws")
        )
    assert code == 0, err
    assert "There is one file: notes.txt." in out  # Markdown rendered, not shown raw
