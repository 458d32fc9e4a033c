"""`hearth chat` starts without the heavy libraries it does not use yet (ready ≤ 0.5 s, #24).

The chat SDKs, the memory store's chromadb and the health server's aiohttp belong to parts that
are not configured; the Ollama SDK, httpx, pydantic, bashlex and rich's Markdown are imported by
the first task or by the warm-up once the prompt is up, as is the shell-risk walker with its
command tables; APScheduler once the prompt is drawn;
tomllib with a heartbeat checks file. jsonschema and yaml check skill files: a start after the
first reuses the verdicts kept on disk for unchanged files. A real `hearth chat` runs in a fresh
interpreter to its end (stdin is empty); what it had imported when it became ready is listed.
Before that, the prompt is drawn before hearth's core is even imported (the wiring, the
database, the agent, the tools and rich come behind it), so what was imported then is listed
too.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_AT_START = (
    "slack_bolt",
    "slack_sdk",
    "discord",
    "nio",
    "chromadb",
    "aiohttp",
    "anthropic",
    "ollama",
    "httpx",
    "pydantic",
    "bashlex",
    "psutil",
    "markdown_it",
    "jsonschema",
    "yaml",
    "apscheduler",
    "tomllib",
    "core.tools.risk.walker",  # the shell-risk walker and its command tables
)
# Built behind the prompt: none of them is imported before it is drawn.
NOT_AT_PROMPT = (
    "bot.wiring",
    "bot.app",
    "aiosqlite",
    "core.dispatch",
    "core.agent",
    "core.storage",
    "core.tools",
    "core.skills",
    "core.memory",
    "core.llm",
    "core.heartbeat",
    "core.thread",
    "rich",  # the terminal's printing: loaded in a thread once the prompt is up
)
# What was imported when the prompt was drawn (the terminal's ``shown``), and when the app
# became ready: the warm-up that then imports what the first task needs (in a thread) starts
# right after ``ready`` is set.
_CHILD = textwrap.dedent(
    """
    import gc, json, sys
    from adapters.console.adapter import ConsoleAdapter
    from bot.cli import main
    at_prompt, at_ready, collecting = [], [], []
    shown = ConsoleAdapter.shown
    async def drawn(self):
        await shown(self)
        if not at_prompt:
            at_prompt.extend(sys.modules)
            from bot.app import App  # behind the prompt, as hearth imports it
            warm = App._warm
            async def snapshot(self):
                at_ready.extend(sys.modules)
                collecting.append(gc.isenabled())
                await warm(self)
            App._warm = snapshot
    ConsoleAdapter.shown = drawn
    code = main(["chat"])
    with open(sys.argv[1], "w") as out:
        report = {"code": code, "prompt": sorted(at_prompt), "modules": sorted(at_ready)}
        json.dump({**report, "gc": collecting}, out)
    """
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chat(tmp_path: Path) -> tuple[set[str], set[str]]:
    """The modules (and top-level packages) a real `hearth chat` had imported when its prompt
    was drawn, and when it became ready."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "MATRIX_", "ANTHROPIC_", "HEARTH_", "HEALTH_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        HEARTH_DATA_DIR=str(tmp_path / "data"),
        OLLAMA_HOST=f"http://127.0.0.1:{_closed_port()}",
    )
    report = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(report)],
        cwd=tmp_path,
        env=env,
        input="",  # a pipe that ends at once (not /dev/null: the chat waits on it)
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(report.read_text())
    assert result["code"] == 0, done.stderr
    assert result["gc"] == [True]  # paused while starting up, collecting again once running
    return _with_packages(result["prompt"]), _with_packages(result["modules"])


def _with_packages(modules: list[str]) -> set[str]:
    """Each module, and every package it sits in (``core.agent.runner`` adds ``core.agent``)."""
    names = set(modules)
    for name in modules:
        parts = name.split(".")
        names.update(".".join(parts[:n]) for n in range(1, len(parts)))
    return names


def test_the_terminal_chat_starts_without_heavy_imports(tmp_path: Path) -> None:
    _, first = _chat(tmp_path)  # a new data dir: the skill files are checked (and kept)
    assert {"jsonschema", "yaml"} <= first
    at_prompt, loaded = _chat(tmp_path)
    assert "prompt_toolkit" in at_prompt  # the prompt was up
    assert sorted(at_prompt & set(NOT_AT_PROMPT)) == []
    assert "aiosqlite" in loaded and "bot.wiring" in loaded  # the chat did start
    assert sorted(loaded & set(NOT_AT_START)) == []
