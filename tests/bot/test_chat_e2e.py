"""`hearth chat` end to end: the real CLI process, its stdin, and the loopback fake Ollama."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from tests.fakes.ollama import FakeOllama

HEARTH = [sys.executable, "-m", "bot"]
ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, ollama: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "MATRIX_", "ANTHROPIC_", "HEARTH_"))
    }
    env.update(HEARTH_DATA_DIR=str(tmp_path / "data"), OLLAMA_HOST=ollama, PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


async def _chat(tmp_path: Path, ollama: str, lines: str, **extra: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *HEARTH,
        "chat",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(tmp_path, ollama, **extra),
        cwd=tmp_path,
    )
    out, err = await asyncio.wait_for(proc.communicate(lines.encode()), 60)
    return proc.returncode or 0, out.decode(), err.decode()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_question_gets_a_streamed_answer(tmp_path: Path) -> None:
    async with FakeOllama() as fake:
        fake.queue_json({"subtasks": ["answer the question"]})
        fake.queue_text("The capital of France is Paris.", completion_tokens=9)
        code, out, err = await _chat(tmp_path, fake.url, "what is the capital of France?\n")
    assert code == 0, err
    assert "The capital of France is Paris." in out
    assert "Traceback" not in out + err
    assert "Unclosed" not in err  # every HTTP session to Ollama is closed on the way out
    assert [r["model"] for r in fake.requests][:2] == ["gemma3:4b", "qwen2.5:3b"]
    assert fake.requests[1]["stream"] is True


async def test_list_dir_tool_round_trip(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "notes.txt").write_text("remember the milk\n")
    async with FakeOllama() as fake:
        fake.queue_json({"subtasks": ["list the files in the workspace"]})
        fake.queue_tool_calls([("list_dir", {"path": "."})])
        fake.queue_text("The workspace holds one file: notes.txt.")
        code, out, err = await _chat(
            tmp_path, fake.url, "which files are there?\n", HEARTH_WORKSPACE=str(workspace)
        )
    assert code == 0, err
    assert "The workspace holds one file: notes.txt." in out
    tool_turns = [
        m for m in fake.requests[2]["messages"] if m["role"] == "tool"
    ]  # what the model got back from the tool
    assert len(tool_turns) == 1 and "notes.txt" in tool_turns[0]["content"]


async def test_ollama_down_is_explained_and_the_chat_stays_usable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    code, out, err = await _chat(tmp_path, url, "hello there\nhelp\n")
    assert code == 0, err
    assert "not reachable" in out and "ollama serve" in out
    assert out.count("not reachable") == 1  # the task says it once
    assert "Tried: local model qwen2.5:3b, which gave no answer, so nothing ran." in out
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert warnings == [
        f"hearth: warning: Ollama is not reachable at {url} — start it with `ollama serve`, "
        f"or set OLLAMA_HOST (now {url})"
    ]
    assert "• status — tasks running and queued" in out  # help after the failure: still usable
    assert "Traceback" not in out + err


async def test_piped_approval_nothing_between_the_question_and_the_answer(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "build").mkdir(parents=True)
    async with FakeOllama() as fake:
        fake.queue_json({"subtasks": ["delete the build directory"]})
        fake.queue_tool_calls([("shell", {"command": "rm -r build"})])
        fake.queue_text("Deleted the build directory.")
        code, out, err = await _chat(
            tmp_path, fake.url, "clean up the build dir\ny\n", HEARTH_WORKSPACE=str(workspace)
        )
    assert code == 0, err
    # The progress line ("🔧 shell …", tokens) is not printed over the open question.
    assert "---\nrm -r build\n---" in out and "Directory: " in out
    assert "Approve? [y/N] y\n" in out
    assert "Deleted the build directory." in out and not (workspace / "build").exists()


async def test_sigint_stops_a_piped_chat_with_130_and_a_second_one_cancels(
    tmp_path: Path,
) -> None:
    async with FakeOllama() as fake:
        fake.queue_json({"subtasks": ["wait"]})
        fake.queue_hang()
        proc = await asyncio.create_subprocess_exec(
            *HEARTH,
            "chat",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_env(tmp_path, fake.url),
            cwd=tmp_path,
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(b"a slow task\n")
        await proc.stdin.drain()
        async with asyncio.timeout(30):
            while len(fake.requests) < 2:
                await asyncio.sleep(0.02)
            proc.send_signal(signal.SIGINT)  # graceful: the task still has its grace period
            log = tmp_path / "data" / "hearth.log"
            while "interrupted: stopping" not in log.read_text():
                await asyncio.sleep(0.02)
            proc.send_signal(signal.SIGINT)  # now: cancel it
            out = (await proc.stdout.read()).decode()
            assert await proc.wait() == 130
    assert "hearth was interrupted; this task was stopped." in out


async def test_input_from_dev_null_or_a_file_ends_the_chat(tmp_path: Path) -> None:
    """`hearth chat < /dev/null` (a container without a terminal) exits; it used to hang."""
    (tmp_path / "lines.txt").write_text("help\n")
    async with FakeOllama() as fake:
        for source in (os.devnull, str(tmp_path / "lines.txt")):
            stdin = os.open(source, os.O_RDONLY)
            try:
                proc = await asyncio.create_subprocess_exec(
                    *HEARTH,
                    "chat",
                    stdin=stdin,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    env=_env(tmp_path, fake.url),
                    cwd=tmp_path,
                )
                out, err = await asyncio.wait_for(proc.communicate(), 60)
            finally:
                os.close(stdin)
            assert proc.returncode == 0, err.decode()
            if source != os.devnull:
                assert "usage" in out.decode()  # the help from the file was answered
