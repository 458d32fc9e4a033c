"""The command line's rough edges, as an operator meets them: version, help, exports, errors."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.events import ApprovalRequest, ChatRef, User
from core.storage import MIGRATIONS, Database
from core.storage.approvals import ApprovalStore
from tests.bot.test_cli_oneshot import _closed_url, hearth


async def test_version_and_a_description_for_every_command(tmp_path: Path) -> None:
    code, out, _ = await hearth(tmp_path, "--version", ollama=_closed_url())
    assert code == 0 and out.startswith("hearth ")
    code, out, _ = await hearth(tmp_path, "--help", ollama=_closed_url())
    listed = out.split("COMMAND\n", 1)[1].split("options:")[0]
    for command in ("run", "chat", "doctor", "heartbeat", "usage", "export"):
        line = next(x for x in listed.splitlines() if x.strip().startswith(command + " "))
        assert len(line.split()) > 2, line  # a description follows the name
        code, sub, _ = await hearth(tmp_path, command, "--help", ollama=_closed_url())
        assert code == 0 and sub.split("\n\n")[1].strip(), sub  # its own description


async def test_export_without_what_lists_what_can_be_exported(tmp_path: Path) -> None:
    code, out, err = await hearth(tmp_path, "export", ollama=_closed_url())
    assert code == 0, err
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["ticks", "tasks", "approvals"]


async def test_export_approvals_is_the_audit_trail_since(tmp_path: Path) -> None:
    db = Database(tmp_path / "data" / "hearth.db", MIGRATIONS)
    (tmp_path / "data").mkdir()
    await db.start()
    store = ApprovalStore(db)
    ana = User("slack", "U1", "ana")
    now = time.time()
    for approval_id, age in (("old", 30 * 86400), ("new", 60)):
        request = ApprovalRequest(
            id=approval_id,
            chat=ChatRef("slack", "C1", "t1"),
            command=f"rm -r build-{approval_id}",
            cwd="/w",
            task_id="T1",
            requester=ana,
            expires_at=datetime.now(UTC) + timedelta(minutes=30),
        )
        await store.add(request, created_at=now - age, expires_at=now - age + 1800)
        await store.decide(
            approval_id, status="approved", decided_by="slack:U2", reason="ok", at=now - age + 5
        )
    await db.close()
    code, out, err = await hearth(
        tmp_path, "export", "approvals", "--since", "7d", ollama=_closed_url()
    )
    assert code == 0 and err.strip() == "exported 1 approvals", err
    (line,) = [json.loads(x) for x in out.splitlines()]
    assert line["command"] == "rm -r build-new" and line["status"] == "approved"
    assert [e["action"] for e in line["events"]] == ["requested", "approved"]
    assert line["events"][1]["actor"] == "slack:U2"


async def test_heartbeat_runs_one_tick_without_once(tmp_path: Path) -> None:
    code, out, err = await hearth(tmp_path, "heartbeat", ollama=_closed_url())
    assert code == 1 and "CRITICAL" in out, err  # Ollama is down: one tick ran and said so


async def test_missing_env_file_is_an_error(tmp_path: Path) -> None:
    code, out, err = await hearth(
        tmp_path, "--env-file", str(tmp_path / "nope.env"), "usage", ollama=_closed_url()
    )
    assert code == 2 and out == ""
    assert err.strip() == f"hearth: --env-file {tmp_path / 'nope.env'}: no such file"


async def test_data_dir_error_names_the_variable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    code, _, err = await hearth(
        tmp_path, "usage", ollama=_closed_url(), HEARTH_DATA_DIR=str(tmp_path / "file" / "d")
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("hearth: configuration error: HEARTH_DATA_DIR=")


async def test_run_without_platform_or_terminal_exits_2(tmp_path: Path) -> None:
    # stdin is /dev/null: no one can type, and no platform would ever deliver a message.
    code, out, err = await asyncio.wait_for(hearth(tmp_path, "run", ollama=_closed_url()), 15)
    assert code == 2 and out == ""
    assert err.strip() == (
        "hearth: no chat platform is configured (set SLACK_BOT_TOKEN, DISCORD_TOKEN or "
        "MATRIX_HOMESERVER and the rest, see .env.example) and stdin is not a terminal"
    )


async def test_misspelled_variable_warns_on_start(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_TOKEN=xoxb-1\n")
    code, _, err = await hearth(tmp_path, "usage", ollama=_closed_url())
    assert code == 0
    assert err.strip() == (
        "hearth: warning: SLACK_TOKEN (in .env) is not a hearth variable; "
        "did you mean SLACK_BOT_TOKEN?"
    )


async def test_usage_renders_markdown_instead_of_showing_markup(tmp_path: Path) -> None:
    code, out, _ = await hearth(tmp_path, "usage", ollama=_closed_url())
    assert code == 0 and out.splitlines()[0] == "LLM usage"
    assert "*" not in out


async def test_pair_approve_of_an_unknown_code_fails(tmp_path: Path) -> None:
    """A typo in a pairing code must not look like success to a script or an operator."""
    code, out, err = await hearth(tmp_path, "pair", "approve", "ZZZZ2222", ollama=_closed_url())
    assert code == 1, (out, err)
    assert "No pairing code `ZZZZ2222`" in out
    code, out, _ = await hearth(tmp_path, "pair", "reject", "short", ollama=_closed_url())
    assert code == 1 and "is not a pairing code" in out
    code, out, _ = await hearth(tmp_path, "pair", "list", ollama=_closed_url())
    assert code == 0 and "no pairing requests are waiting" in out
