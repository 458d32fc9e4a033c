"""Configured secrets never reach a tool's child process, through the real wiring, even under an
innocent variable name (a password inside DATABASE_URL)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from bot.config import Settings
from bot.wiring import build_app
from core.tools.sandbox import Sandbox
from tests.bot.test_wiring_e2e import CHANNEL, _thread, until
from tests.fakes.ollama import FakeOllama
from tests.fakes.slack import FakeSlack


async def test_a_configured_secret_inside_database_url_never_reaches_the_shell(
    tmp_path: Path,
) -> None:
    async with FakeSlack() as slack, FakeOllama() as ollama:
        token = slack.bot_token
        environ = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "HEARTH_DATA_DIR": str(tmp_path / "data"),
            "HEARTH_WORKSPACE": str(tmp_path / "ws"),
            "OLLAMA_HOST": ollama.url,
            "SLACK_BOT_TOKEN": token,
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.base_url,
            "ALLOWED_USERS": "slack:UANA",
            "VERIFICATION_ENABLED": "false",
            # the operator's own variable, innocently named, holding the configured secret
            "DATABASE_URL": f"postgres://hearth:{token}@db.internal/hearth",
            "INNOCENT": "keep-me",
            # About the environment, not the sandbox: without bwrap every command would ask.
            "TOOL_SANDBOX": "auto" if Sandbox("auto", workspace=tmp_path).confines else "off",
        }
        settings = Settings.load(environ=environ, dotenv=tmp_path / "no.env")
        (tmp_path / "ws").mkdir()
        # Counts, not values: a leaked secret would be redacted in the tool's output anyway.
        command = (
            f"env | grep -cF '{token}'; echo db=${{DATABASE_URL:+present}} innocent=$INNOCENT"
        )
        app = build_app(settings, console=False)
        stop = asyncio.Event()
        task = asyncio.create_task(app.run(stop))
        try:
            await app.ready.wait()
            await slack.wait_socket()
            ollama.queue_json({"subtasks": ["look at the environment"]})
            ollama.queue_tool_calls([("shell", {"command": command})])
            ollama.queue_text("Looked.\nCONFIDENCE: 0.9")
            event = slack.mention(CHANNEL, "UANA", "what is in the environment?")
            await slack.send_envelope(event)
            root = event["event"]["ts"]
            await until(lambda: any("Looked." in m.text for m in _thread(slack, root)))
        finally:
            stop.set()
            await task
    tool_results = [
        m["content"] for r in ollama.requests for m in r["messages"] if m["role"] == "tool"
    ]
    assert tool_results, "the shell tool never ran"
    output = tool_results[-1]
    assert "exit code" in output and "innocent=keep-me" in output, output  # it ran, with env
    assert "stdout:\n0\ndb= innocent=keep-me" in output, output
