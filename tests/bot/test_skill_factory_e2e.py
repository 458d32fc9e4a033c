"""The skill factory through the whole process: repeated work → a generated skill → a human
reviews the code → TESTING → promoted → answered with zero model calls → demoted."""

from __future__ import annotations

import html
import json
from pathlib import Path

from core.redact import Redactor
from tests.bot.test_skills_e2e import CHANNEL, _ask, _thread, running, until
from tests.fakes.slack import FakeSlack

MODULE = '''"""Count the lines of a text file in the workspace."""

from pathlib import Path

from core.skills.api import SkillResult, fail, ok

NAME = "line_count"
DESCRIPTION = "Count the lines of a text file in the workspace."
PARAMS = {
    "type": "object",
    "properties": {
        "path": {"type": "string", "pattern": "^[\\\\w./-]+$", "examples": ["notes.txt"]}
    },
    "required": ["path"],
}
EXAMPLES = ["how many lines are in {path}", "count the lines of {path}"]


def run(params: dict) -> SkillResult:
    path = Path(params["path"])
    if not path.is_file():
        return fail(f"{path} is not a file")
    return ok(f"{path} has {len(path.read_text().splitlines())} lines")
'''
ENV = {"EMBED_MODEL": "not-pulled-embed", "SKILL_PROMOTION_THRESHOLD": "2"}


async def _agent_task(slack: FakeSlack, ollama, name: str, lines: int) -> str:
    ollama.queue_json({"subtasks": [f"count the lines of {name}"]})
    ollama.queue_tool_calls([("shell", {"command": f"wc -l {name}"})])
    ollama.queue_text(f"{name} has {lines} lines.\nCONFIDENCE: 0.9")
    event = slack.mention(CHANNEL, "UANA", f"how many lines are in {name}")
    root = event["event"]["ts"]
    await slack.send_envelope(event)
    await until(lambda: any("✅ Done" in m.text for m in _thread(slack, root)))
    return root


async def test_repeated_work_becomes_a_reviewed_skill_that_earns_its_place(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    for name, lines in (("notes.txt", 3), ("todo.txt", 2), ("log.txt", 4), ("b.txt", 7)):
        (ws / name).write_text("x\n" * lines)
    async with running(tmp_path, **ENV) as (slack, ollama, claude, _app):
        await _agent_task(slack, ollama, "notes.txt", 3)
        await _agent_task(slack, ollama, "todo.txt", 2)
        assert claude.requests == []  # two successes: not yet
        claude.queue_text(f"Here is the skill:\n```python\n{MODULE}```")
        root = await _agent_task(slack, ollama, "log.txt", 4)
        await until(lambda: any(m.buttons for m in _thread(slack, root)))
        thread = _thread(slack, root)
        assert any("succeeded 3 times" in m.text for m in thread)
        code = [m.text for m in thread if "def run(params: dict)" in m.text]
        assert code and 'NAME = "line_count"' in code[0]
        assert any("notes.txt → ok: notes.txt has 3 lines" in m.text for m in thread)  # dry run
        prompt = next(m for m in thread if m.buttons)
        assert "install skill line_count v1" in prompt.block_text + prompt.text
        assert "Claude" not in prompt.text and len(claude.requests) == 1
        approve = next(
            b["action_id"] for b in prompt.buttons if b["action_id"].endswith("approve")
        )
        await slack.send_envelope(slack.button_click("UBOSS", prompt, approve))
        await until(
            lambda: any("Saved `line_count` v1 as TESTING" in m.text for m in _thread(slack, root))
        )
        calls_before = (len(ollama.requests), len(claude.requests))
        # TESTING: runs when asked for explicitly; two successes promote it (threshold 2).
        await _ask(slack, "UANA", "run line_count path=todo.txt", lambda t: "2 lines" in t)
        promoted = await _ask(
            slack, "UANA", "run line_count path=log.txt", lambda t: "ACTIVE" in t
        )
        # ACTIVE: a matching request is answered with no model call.
        answered = await _ask(
            slack, "UANA", "how many lines are in b.txt", lambda t: "7 lines" in t
        )
        assert (len(ollama.requests), len(claude.requests)) == calls_before
        # Three failures in a row disable it, and the thread is told.
        for _ in range(2):
            await _ask(slack, "UANA", "run line_count path=gone.txt", lambda t: "not a file" in t)
        demoted = await _ask(
            slack, "UANA", "run line_count path=gone.txt", lambda t: "DISABLED" in t
        )
        listing = await _ask(slack, "UANA", "skills", lambda t: "Code skills" in t)
    assert any("⬆️ `line_count` v1 is now ACTIVE after 2 successful runs" in t for t in promoted)
    assert any("answered by skill `line_count`" in t for t in answered)
    assert any(
        "⬇️ `line_count` v1 failed 3 times in a row and is now DISABLED" in t for t in demoted
    )
    assert any("`line_count` — Count the lines" in t and "DISABLED" in t for t in listing)
    # Generation was metered under its own purpose, on the cloud model.
    usage = await _usage_purposes(tmp_path)
    assert usage.get("skill", 0) == 1


async def test_a_rejected_skill_is_never_runnable_and_the_budget_keeps_it_local(
    tmp_path: Path,
) -> None:
    env = {**ENV, "DAILY_BUDGET_USD": "0"}  # the cloud call would pass the cap
    async with running(tmp_path, **env) as (slack, ollama, claude, _app):
        ollama.queue_text(f"```python\n{MODULE}```")
        event = slack.mention(CHANNEL, "UANA", "learn count the lines of a file")
        root = event["event"]["ts"]
        await slack.send_envelope(event)
        await until(lambda: any(m.buttons for m in _thread(slack, root)))
        prompt = next(m for m in _thread(slack, root) if m.buttons)
        reject = next(b["action_id"] for b in prompt.buttons if b["action_id"].endswith("deny"))
        await slack.send_envelope(slack.button_click("UBOSS", prompt, reject))
        await until(lambda: any("Not saved" in m.text for m in _thread(slack, root)))
        listing = await _ask(slack, "UANA", "skills", lambda t: "Code skills" in t)
    assert claude.requests == []  # over budget: never called
    assert ollama.requests[0]["messages"][0]["content"].startswith("You write code skills")
    assert not any("line_count" in t for t in listing)
    trail = await _reviews(tmp_path)
    assert [(r["name"], r["decision"], r["decided_by"]) for r in trail] == [
        ("line_count", "rejected", "slack:UBOSS")
    ]
    assert await _skill_rows(tmp_path, "line_count") == 0


async def test_a_long_module_is_attached_before_the_buttons(tmp_path: Path) -> None:
    table = "".join(f'    "{n}": {n},\n' for n in range(50))
    long = MODULE.replace("\n\ndef run(", f"\nSIZES = {{\n{table}}}\n\n\ndef run(")
    assert len(long.splitlines()) > 40
    env = {**ENV, "DAILY_BUDGET_USD": "0"}
    async with running(tmp_path, **env) as (slack, ollama, _claude, _app):
        ollama.queue_text(f"```python\n{long}```")
        event = slack.mention(CHANNEL, "UANA", "learn count the lines of a file")
        root = event["event"]["ts"]
        await slack.send_envelope(event)
        await until(lambda: any(m.buttons for m in _thread(slack, root)))
        thread = _thread(slack, root)
        prompt = next(m for m in thread if m.buttons)
        (upload,) = slack.files.values()
        approve = next(
            b["action_id"] for b in prompt.buttons if b["action_id"].endswith("approve")
        )
        await slack.send_envelope(slack.button_click("UBOSS", prompt, approve))
        await until(lambda: any("as TESTING" in m.text for m in _thread(slack, root)))
    # Through the real wiring (secret redaction included) the file is the module, byte for byte.
    assert upload.filename == "line_count.py" and upload.data == long.encode()
    assert upload.thread_ts == root
    order = [m.ts for m in thread]
    assert order.index(upload.message_ts) < order.index(prompt.ts)
    assert "code in line_count.py above" in prompt.block_text
    assert not any("SIZES = {" in m.text for m in thread if m.ts != upload.message_ts)


# Literals pattern redaction masks (a password assignment, an OpenAI-shaped key) that are not
# hearth's configured secrets: the approver must see them exactly as they would be installed.
LOOKALIKES = '\nDEMO_PASSWORD = "hunter2-staging"\nEXAMPLE_KEY = "sk-proj-abcdefghijklmnop1234"\n'


def _with(module: str, extra: str) -> str:
    return module.replace("\n\ndef run(", f"{extra}\n\ndef run(")


async def _learn(slack: FakeSlack, ollama, module: str) -> str:  # type: ignore[no-untyped-def]
    ollama.queue_text(f"```python\n{module}```")
    event = slack.mention(CHANNEL, "UANA", "learn count the lines of a file")
    await slack.send_envelope(event)
    return event["event"]["ts"]


async def test_the_code_reaches_the_approver_verbatim_as_a_file_and_inline(
    tmp_path: Path,
) -> None:
    table = "".join(f'    "{n}": {n},\n' for n in range(50))
    short = MODULE.replace('NAME = "line_count"\n', f'NAME = "line_count"{LOOKALIKES}')
    long = _with(short, f"\nSIZES = {{\n{table}}}\n")
    redactor = Redactor()
    assert redactor(long) != long and redactor(short) != short  # patterns would mask them
    env = {**ENV, "DAILY_BUDGET_USD": "0"}
    async with running(tmp_path, **env) as (slack, ollama, _claude, _app):
        root = await _learn(slack, ollama, long)
        await until(lambda: any(m.buttons for m in _thread(slack, root)))
        (upload,) = slack.files.values()
        inline_root = await _learn(slack, ollama, short)
        await until(lambda: len([m for m in slack.messages.values() if m.buttons]) == 2)
        inline = _thread(slack, inline_root)
    assert upload.filename == "line_count.py" and upload.data == long.encode()
    # Slack drops a fence's language and shows &, < and > escaped; nothing else may differ.
    fenced = [html.unescape(m.text) for m in inline if m.text.startswith("```\n")]
    code = "".join(t.removeprefix("```\n").removesuffix("\n```") + "\n" for t in fenced)
    assert code == short
    card = next(m.text for m in _thread(slack, root) if "It begins:" in m.text)
    assert 'DEMO_PASSWORD = "hunter2-staging"' in card  # the head of the code, unmasked


async def test_a_skill_holding_a_configured_secret_is_never_shown_nor_saved(
    tmp_path: Path,
) -> None:
    secrets = ("xoxb-fake-bot", "sk-ant-test-key-123456")  # SLACK_BOT_TOKEN, ANTHROPIC_API_KEY
    module = _with(MODULE, f'\nTOKEN = "{secrets[0]}"\nBACKUP = "{secrets[1]}"\n')
    env = {**ENV, "DAILY_BUDGET_USD": "0"}
    async with running(tmp_path, **env) as (slack, ollama, _claude, app):
        assert slack.bot_token == secrets[0]
        root = await _learn(slack, ollama, module)
        # Whatever happens, it ends in a note or at the buttons: then everything is on the server.
        ended = ("hearth's secrets", "Not saved")
        await until(
            lambda: any(m.buttons or any(e in m.text for e in ended) for m in _thread(slack, root))
        )
        await until(lambda: not app.pool.active() or any(m.buttons for m in _thread(slack, root)))
        listing = await _ask(slack, "UANA", "skills", lambda t: "Code skills" in t)
        thread = _thread(slack, root)
    seen = [
        *(t for m in slack.messages.values() for t in (m.text, m.block_text, *m.history)),
        *(f.data.decode(errors="replace") + f.title for f in slack.files.values()),
        *(json.dumps(c.params) for c in slack.calls),
    ]
    leaked = [t for t in seen if any(s in t for s in secrets)]
    assert leaked == []
    assert slack.files == {} and not any(m.buttons for m in slack.messages.values())
    assert not any("def run(" in m.text for m in thread)  # nothing of the code was posted
    note = "the generated skill contains one of hearth's secrets; it was not shown or saved"
    assert any(note in m.text.lower() for m in thread)
    assert not any("line_count" in t for t in listing)
    assert await _skill_rows(tmp_path, "line_count") == 0
    (row,) = await _db_rows(tmp_path, "SELECT decision, reason, code FROM skill_reviews")
    assert row["decision"] == "rejected" and "secret" in row["reason"]
    assert not any(s in row["code"] for s in secrets) and 'NAME = "line_count"' in row["code"]


async def _db_rows(tmp_path: Path, sql: str, params: tuple = ()) -> list:
    from core.storage import MIGRATIONS, Database

    db = Database(tmp_path / "data" / "hearth.db", MIGRATIONS)
    await db.start()
    try:
        return [dict(r) for r in await db.fetchall(sql, params)]
    finally:
        await db.close()


async def _usage_purposes(tmp_path: Path) -> dict[str, int]:
    rows = await _db_rows(tmp_path, "SELECT purpose, COUNT(*) AS n FROM usage GROUP BY purpose")
    return {r["purpose"]: r["n"] for r in rows}


async def _reviews(tmp_path: Path) -> list:
    return await _db_rows(tmp_path, "SELECT name, decision, decided_by FROM skill_reviews")


async def _skill_rows(tmp_path: Path, name: str) -> int:
    return len(await _db_rows(tmp_path, "SELECT 1 FROM skills WHERE name = ?", (name,)))


async def _approve_next(slack: FakeSlack, root: str, version: int, saved: str) -> None:
    wanted = f"install skill line_count v{version}"
    try:
        await until(
            lambda: any(m.buttons and wanted in m.block_text for m in _thread(slack, root))
        )
    except TimeoutError:
        raise AssertionError([m.text[:200] for m in _thread(slack, root)]) from None
    prompt = next(m for m in _thread(slack, root) if m.buttons and wanted in m.block_text)
    approve = next(b["action_id"] for b in prompt.buttons if b["action_id"].endswith("approve"))
    await slack.send_envelope(slack.button_click("UBOSS", prompt, approve))
    await until(lambda: any(saved in m.text for m in _thread(slack, root)))


async def test_learn_again_in_its_thread_makes_a_new_reviewed_version(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "notes.txt").write_text("a b\nc\n")
    words = MODULE.replace(
        'return ok(f"{path} has {len(path.read_text().splitlines())} lines")',
        "text = path.read_text()\n"
        '    return ok(f"{path} has {len(text.splitlines())} lines, {len(text.split())} words")',
    )
    async with running(tmp_path, **ENV) as (slack, _ollama, claude, app):
        claude.queue_text(f"```python\n{MODULE}```")
        event = slack.mention(CHANNEL, "UANA", "learn count the lines of a file")
        root = event["event"]["ts"]
        await slack.send_envelope(event)
        await _approve_next(slack, root, 1, "v1 as TESTING")
        # The first `learn` task must have ended: a message in the thread of a running task
        # steers it instead of starting a new one.
        await until(lambda: not app.pool.active())
        claude.queue_text(f"```python\n{words}```")
        await slack.send_envelope(
            slack.mention(CHANNEL, "UANA", "learn also count words", thread_ts=root)
        )
        await _approve_next(slack, root, 2, "v2 as TESTING")
        ran = await _ask(slack, "UANA", "run line_count path=notes.txt", lambda t: "words" in t)
        history = await _ask(slack, "UANA", "skill line_count history", lambda t: "versions" in t)
    feedback_prompt = claude.requests[1]["messages"][-1]["content"][0]["text"]
    assert "Feedback on the last version: also count words" in feedback_prompt
    assert 'NAME = "line_count"' in feedback_prompt  # the current code came along
    assert any("notes.txt has 2 lines, 3 words" in t for t in ran)
    text = "\n".join(history)
    assert "v1 (generated" in text and "v2 (generated" in text and "← in use" in text
    trail = await _reviews(tmp_path)
    assert [r["decision"] for r in trail] == ["approved", "approved"]


async def test_a_skill_review_waiting_for_an_approver_holds_no_task_slot(
    tmp_path: Path,
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    for name in ("notes.txt", "todo.txt", "log.txt"):
        (ws / name).write_text("x\n")
    env = {**ENV, "MAX_CONCURRENT_TASKS": "1"}
    async with running(tmp_path, **env) as (slack, ollama, claude, app):
        await _agent_task(slack, ollama, "notes.txt", 1)
        await _agent_task(slack, ollama, "todo.txt", 1)
        claude.queue_text(f"Here is the skill:\n```python\n{MODULE}```")
        root = await _agent_task(slack, ollama, "log.txt", 1)
        await until(lambda: any(m.buttons for m in _thread(slack, root)))
        # Nobody has decided yet; the one slot is free for the next request all the same.
        ollama.queue_json({"subtasks": ["say hello"]})
        ollama.queue_text("Hello there.\nCONFIDENCE: 0.9")
        answer = await _ask(slack, "UANA", "say hello", lambda t: "Hello there." in t)
        await until(lambda: not app.pool.active())  # and the draft is no task at all
        assert not any("Saved" in m.text for m in _thread(slack, root))
    assert any("Hello there." in t for t in answer)
