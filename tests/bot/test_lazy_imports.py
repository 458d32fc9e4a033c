"""`hearth chat` starts without the heavy libraries it does not use yet (ready ≤ 0.5 s, #24).

The chat SDKs, the memory store's chromadb and the health server's aiohttp belong to parts that
are not configured; the Ollama SDK, httpx, pydantic, bashlex and rich's Markdown are imported by
the first task or by the warm-up once the prompt is up, as is the shell-risk walker with its
command tables; APScheduler once the prompt is drawn;
tomllib with a heartbeat checks file. jsonschema and yaml check skill files: a start after the
first reuses the verdicts kept on disk for unchanged files. A real `hearth chat` runs in a fresh
interpreter to its end (stdin is empty); what it had imported when it became ready is listed.
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
# What was imported when the app became ready: the warm-up that then imports what the first
# task needs (in a thread) starts right after ``ready`` is set.
_CHILD = textwrap.dedent(
    """
    import gc, json, sys
    from bot.app import App
    from bot.cli import main
    at_ready = []
    collecting = []
    warm = App._warm
    async def snapshot(self):
        at_ready.extend(sys.modules)
        collecting.append(gc.isenabled())
        await warm(self)
    App._warm = snapshot
    code = main(["chat"])
    with open(sys.argv[1], "w") as out:
        json.dump({"code": code, "modules": sorted(at_ready), "gc": collecting}, out)
    """
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chat(tmp_path: Path) -> set[str]:
    """The top-level packages a real `hearth chat` had imported when it became ready."""
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
    return {name.split(".")[0] for name in result["modules"]} | set(result["modules"])


def test_the_terminal_chat_starts_without_heavy_imports(tmp_path: Path) -> None:
    first = _chat(tmp_path)  # a new data dir: the skill files are checked (and kept)
    assert {"jsonschema", "yaml"} <= first
    loaded = _chat(tmp_path)
    assert "prompt_toolkit" in loaded and "aiosqlite" in loaded  # the chat did start
    assert sorted(loaded & set(NOT_AT_START)) == []
