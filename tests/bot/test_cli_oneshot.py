"""One-shot commands as an operator runs them: heartbeat --once, export, usage."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path

from tests.fakes.ollama import FakeOllama

ROOT = Path(__file__).resolve().parents[2]


def _closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


async def hearth(tmp_path: Path, *args: str, ollama: str, **extra: str) -> tuple[int, str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HEARTH_", "SLACK_", "DISCORD_", "MATRIX_", "HEARTBEAT_"))
    }
    env |= {
        "PYTHONPATH": str(ROOT),
        "HEARTH_DATA_DIR": str(tmp_path / "data"),
        "OLLAMA_HOST": ollama,
        **extra,
    }
    env |= extra
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_heartbeat_once_with_ollama_down_uses_the_rules_then_exports(
    tmp_path: Path,
) -> None:
    code, out, err = await hearth(tmp_path, "heartbeat", "--once", ollama=_closed_url())
    assert code == 1, err  # not ok: Ollama is down
    assert "CRITICAL" in out and "ollama" in out
    assert "probe failed" not in out  # hearth's own health probe works through the wiring
    code, out, err = await hearth(tmp_path, "export", "ticks", ollama=_closed_url())
    assert code == 0 and err.strip() == "exported 1 ticks"
    (tick,) = [json.loads(line) for line in out.splitlines()]
    assert tick["source"] == "fallback" and tick["severity"] == "critical"
    assert tick["label"] is None and tick["prompt"][0]["role"] == "system"


async def test_heartbeat_once_healthy_is_exit_zero(tmp_path: Path) -> None:
    async with FakeOllama(models=["gemma3:4b", "qwen2.5:3b", "nomic-embed-text"]) as fake:
        # Only checks whose result this test controls (machine load would make it flaky).
        checks = tmp_path / "checks.toml"
        checks.write_text(f'[ollama]\nhost = "{fake.url}"\nmodels = ["qwen2.5:3b"]\n[own]\n')
        code, out, err = await hearth(
            tmp_path, "heartbeat", "--once", ollama=fake.url, HEARTBEAT_CHECKS=str(checks)
        )
    assert code == 0, out + err
    assert "OK" in out.upper()


async def test_usage_and_bad_since(tmp_path: Path) -> None:
    code, out, _ = await hearth(tmp_path, "usage", ollama=_closed_url())
    assert code == 0 and "today: no model calls" in out
    code, out, err = await hearth(
        tmp_path, "export", "ticks", "--since", "soon", ollama=_closed_url()
    )
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "--since 'soon' is invalid" in err


async def test_heartbeat_digest_prints_the_text_and_writes_the_picture(tmp_path: Path) -> None:
    code, _out, err = await hearth(tmp_path, "heartbeat", "--once", ollama=_closed_url())
    assert code == 1, err  # a stored (critical) tick to draw
    png = tmp_path / "day.png"
    code, out, err = await hearth(
        tmp_path, "heartbeat", "--digest", "--since", "24h", "--out", str(png), ollama="http://x"
    )
    assert code == 0, err
    assert "**Heartbeat digest** — last 24 h" in out and "1 ticks (critical 1)" in out
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert err.strip() == f"wrote {png} ({png.stat().st_size / 1024:.0f} KiB)"
    code, out, err = await hearth(
        tmp_path, "heartbeat", "--digest", "--since", "yesterday", ollama="http://x"
    )
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--since" in err


async def test_users_from_the_command_line(tmp_path: Path) -> None:
    url = _closed_url()
    admins = {"ADMINS": "slack:UBOSS"}
    code, out, _ = await hearth(
        tmp_path, "users", "allow", "slack:U1", "--as", "approver", ollama=url, **admins
    )
    assert code == 0 and "Allowed `slack:U1` as approver" in out
    code, out, _ = await hearth(tmp_path, "users", "list", ollama=url, **admins)
    assert out.splitlines() == [
        "slack:U1  approver  grant  allowed",
        "slack:UBOSS  admin  env  allowed",
    ]
    code, _, err = await hearth(tmp_path, "users", "allow", "bogus", ollama=url, **admins)
    assert code == 2 and err.count("\n") == 1 and "platform:id" in err
