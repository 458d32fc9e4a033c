"""Skills through the whole process as `hearth run` builds it: Slack, dispatcher, task pool,
skill shortcut, sandboxed runner — against the loopback Slack, Ollama and Anthropic fakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.app import App
from bot.config import Settings
from bot.wiring import build_app
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.fakes.slack import FakeSlack, SlackMessage

CHANNEL = "C0DEV"


async def until(predicate: Callable[[], object], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


@asynccontextmanager
async def running(
    tmp_path: Path, **env: str
) -> AsyncIterator[tuple[FakeSlack, FakeOllama, FakeAnthropic, App]]:
    async with FakeSlack() as slack, FakeOllama() as ollama, FakeAnthropic() as claude:
        settings = Settings.from_env(
            {
                "HEARTH_DATA_DIR": str(tmp_path / "data"),
                "HEARTH_WORKSPACE": str(tmp_path / "ws"),
                "OLLAMA_HOST": ollama.url,
                "ANTHROPIC_API_KEY": "sk-ant-test-key-123456",
                "ANTHROPIC_BASE_URL": claude.url,
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_APP_TOKEN": slack.app_token,
                "SLACK_API_URL": slack.base_url,
                "ALLOWED_USERS": "slack:UANA",
                "ADMINS": "slack:UBOSS",
                "VERIFICATION_ENABLED": "false",
                **env,
            }
        )
        (tmp_path / "ws").mkdir(exist_ok=True)
        app = build_app(settings, console=False)
        stop = asyncio.Event()
        task = asyncio.create_task(app.run(stop))
        try:
            await app.ready.wait()
            await slack.wait_socket()
            yield slack, ollama, claude, app
        finally:
            stop.set()
            await task


def _thread(slack: FakeSlack, root: str) -> list[SlackMessage]:
    return slack.in_thread(CHANNEL, root)


async def _ask(slack: FakeSlack, user: str, text: str, done: Callable[[str], bool]) -> list[str]:
    event = slack.mention(CHANNEL, user, text)
    root = event["event"]["ts"]
    await slack.send_envelope(event)
    await until(lambda: any(done(m.text) for m in _thread(slack, root)))
    return [m.text for m in _thread(slack, root)]


async def test_repeated_request_answered_by_a_skill_with_zero_model_calls(tmp_path: Path) -> None:
    async with running(tmp_path) as (slack, ollama, claude, _):
        answers = []
        for _ in range(2):
            texts = await _ask(slack, "UANA", "how full is the disk?", lambda t: "skill" in t)
            answers.append(next(t for t in texts if "answered by skill" in t))
        assert ollama.requests == [] and claude.requests == []
        assert ollama.paths == []  # not even a model list
        ollama.queue_json({"subtasks": ["report disk usage"]})
        ollama.queue_text("The disk is 42% full.\nCONFIDENCE: 0.9")
        forced = await _ask(slack, "UANA", "ask how full is the disk?", lambda t: "42%" in t)
    for answer in answers:
        assert "answered by skill `disk_usage`" in answer
        assert "Say `ask how full is the disk?` to use the agent" in answer
        assert "mount" in answer and "%" in answer
    assert len(ollama.requests) >= 2  # `ask` went to the agent: plan, execute (and memory)
    assert any("The disk is 42% full." in t for t in forced)


async def test_chat_commands_list_show_and_run(tmp_path: Path) -> None:
    async with running(tmp_path) as (slack, ollama, _, _app):
        listing = await _ask(slack, "UANA", "skills", lambda t: "Code skills" in t)
        details = await _ask(slack, "UANA", "skill port_check", lambda t: "Parameters" in t)
        ran = await _ask(slack, "UANA", "run disk_usage path=/", lambda t: "skill `disk" in t)
        bad = await _ask(slack, "UANA", "run port_check", lambda t: "Usage" in t)
        again = await _ask(slack, "UANA", "skills", lambda t: "Code skills" in t)
    text = "\n".join(listing)
    assert "`disk_usage`" in text and "ACTIVE, 0 runs" in text
    assert "`triage-failing-service`" in text and "`incident-note`" in text
    assert "Examples:" in "\n".join(details) and "`ports` (string, required)" in details[-1]
    assert any(t.startswith("All 1 file system(s)") and "— skill `disk_usage`" in t for t in ran)
    assert any("ports" in t and "required" in t for t in bad)
    assert "`disk_usage` — " in "\n".join(again) and "ACTIVE, 1 runs (1 ok, 0 failed)" in again[-1]
    assert ollama.requests == []


async def test_a_crashing_skill_is_a_clear_error_and_the_bot_goes_on(tmp_path: Path) -> None:
    skills = tmp_path / "data" / "skills"
    skills.mkdir(parents=True)
    (skills / "crashy.py").write_text(
        "import os\nNAME = 'crashy'\nDESCRIPTION = 'crashes'\n"
        "PARAMS = {'type': 'object', 'properties': {}}\nEXAMPLES = ['crash the skill please']\n"
        "def run(params):\n    os.abort()\n"
    )
    (skills / "broken.py").write_text("NAME = 'broken'\ndef run(:\n")
    async with running(tmp_path) as (slack, ollama, _, _app):
        crashed = await _ask(slack, "UANA", "crash the skill please", lambda t: "crashed" in t)
        fine = await _ask(slack, "UANA", "how full is the disk", lambda t: "answered by" in t)
        listing = await _ask(slack, "UBOSS", "skills", lambda t: "Not loaded" in t)
    assert any("`crashy` crashed (killed by signal 6)" in t for t in crashed), crashed
    assert any("disk_usage" in t for t in fine)
    assert any("broken.py: syntax error on line 2" in t for t in listing)
    assert "crashy" in "\n".join(listing) and "1 failed" in "\n".join(listing)
    assert ollama.requests == []


async def test_a_public_skill_md_runbook_guides_the_executor_and_its_script_is_approved(
    tmp_path: Path,
) -> None:
    team = tmp_path / "team-skills" / "pdf-report"
    (team / "scripts").mkdir(parents=True)
    (team / "SKILL.md").write_text(
        "---\nname: pdf-report\ndescription: Build the weekly PDF report from the CSV files.\n"
        "license: Apache-2.0\nmetadata:\n  author: example-team\n---\n\n# PDF report\n\n"
        "Always run `scripts/build.sh` first, then say where the report is.\n"
    )
    (team / "scripts" / "build.sh").write_text("echo built > report.pdf\necho REPORT-BUILT\n")
    async with running(tmp_path, SKILLS_DIRS=str(tmp_path / "team-skills")) as (
        slack,
        ollama,
        _,
        _app,
    ):
        ollama.queue_json({"subtasks": ["build the weekly report"], "runbook": "pdf-report"})
        ollama.queue_tool_calls(
            [("shell", {"command": "bash .hearth-runbooks/pdf-report/scripts/build.sh"})]
        )
        ollama.queue_text("The report is in report.pdf.\nCONFIDENCE: 0.9")
        event = slack.mention(CHANNEL, "UANA", "make the weekly pdf report for the team")
        root = event["event"]["ts"]
        await slack.send_envelope(event)
        await until(lambda: any(m.buttons for m in _thread(slack, root)))
        prompt = next(m for m in _thread(slack, root) if m.buttons)
        assert "scripts/build.sh" in prompt.block_text + prompt.text
        assert not (tmp_path / "ws" / "report.pdf").exists()  # nothing ran before approval
        approve = next(
            b["action_id"] for b in prompt.buttons if b["action_id"].endswith("approve")
        )
        await slack.send_envelope(slack.button_click("UBOSS", prompt, approve))
        await until(lambda: any("report.pdf." in m.text for m in _thread(slack, root)))
    planner, executor = ollama.requests[0], ollama.requests[1]
    planner_system = planner["messages"][0]["content"]
    assert "- pdf-report: Build the weekly PDF report" in planner_system
    assert "Always run" not in planner_system  # the planner sees the description only
    executor_system = executor["messages"][0]["content"]
    assert "Always run `scripts/build.sh` first" in executor_system
    assert (tmp_path / "ws" / "report.pdf").read_text() == "built\n"
    tool_result = ollama.requests[2]["messages"][-1]["content"]
    assert "REPORT-BUILT" in tool_result


async def test_slack_slash_command_is_acked_then_answered_in_a_thread(tmp_path: Path) -> None:
    async with running(tmp_path) as (slack, ollama, _, _app):
        ack = await slack.send_envelope(
            slack.slash_command(CHANNEL, "UANA", "how full is the disk?")
        )
        await until(lambda: any("answered by skill" in m.text for m in slack.messages.values()))
        roots = [m for m in slack.messages.values() if m.channel == CHANNEL and not m.thread_ts]
        await slack.send_envelope(slack.slash_command(CHANNEL, "UANA", "skills"))
        await until(lambda: any("Code skills" in m.text for m in slack.messages.values()))
    assert "envelope_id" in ack  # acknowledged before any work (Slack's 3 s window)
    root = roots[0]
    assert root.text.startswith("*uana* asked: `/hearth how full is the disk?`"), root.text
    answer = next(m for m in slack.messages.values() if "answered by skill" in m.text)
    assert answer.thread_ts == root.ts
    listing = next(m for m in slack.messages.values() if "Code skills" in m.text)
    assert listing.thread_ts and listing.thread_ts != root.ts
    assert ollama.requests == []


async def test_skills_are_offered_to_the_executor_as_tools(tmp_path: Path) -> None:
    async with running(tmp_path) as (slack, ollama, _, _app):
        await _ask(slack, "UBOSS", "skill top_processes disable", lambda t: "DISABLED" in t)
        ollama.queue_json({"subtasks": ["find out whether ssh is reachable"]})
        ollama.queue_tool_calls([("port_check", {"ports": "1"})])
        ollama.queue_text("Port 1 is closed.\nCONFIDENCE: 0.9")
        await _ask(
            slack, "UANA", "tell me if anything listens for ssh here", lambda t: "closed." in t
        )
    executor = ollama.requests[1]
    offered = {t["function"]["name"] for t in executor["tools"]}
    assert {"shell", "disk_usage", "port_check", "log_tail"} <= offered
    assert "top_processes" not in offered  # disabled: not offered
    result = ollama.requests[2]["messages"][-1]["content"]
    assert "127.0.0.1: 0 of 1 port(s) open." in result
