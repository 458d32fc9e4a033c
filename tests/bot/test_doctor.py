"""`hearth doctor`: one line per check, the fix on every FAIL, exit code 1 on any FAIL."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from bot.doctor import _sandbox, run_doctor
from core.tools.sandbox import Sandbox
from tests.fakes.ollama import FakeOllama

ROOT = Path(__file__).resolve().parents[2]


def _closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def _env(tmp_path: Path, ollama: str, **extra: str) -> dict[str, str]:
    return {"HEARTH_DATA_DIR": str(tmp_path / "data"), "OLLAMA_HOST": ollama, **extra}


async def test_everything_ok(tmp_path: Path) -> None:
    models = ["gemma3:4b", "qwen2.5:3b", "nomic-embed-text:latest"]
    async with FakeOllama(models=models) as fake:
        checks = await run_doctor(_env(tmp_path, fake.url), dotenv=tmp_path / "none")
    # The sandbox line depends on the machine (bubblewrap installed or not): tested below.
    checks = [c for c in checks if c.name != "sandbox"]
    assert all(c.ok for c in checks), [c.line() for c in checks]
    lines = [c.line() for c in checks]
    assert lines[0] == "OK   config: valid"
    assert any(line.startswith("OK   model nomic-embed-text: pulled") for line in lines)
    assert any("terminal chat" in line for line in lines)


async def test_unreachable_ollama_is_one_line_with_the_fix(tmp_path: Path) -> None:
    url = _closed_url()
    checks = await run_doctor(_env(tmp_path, url), dotenv=tmp_path / "none")
    failed = [c.line() for c in checks if not c.ok and c.name != "sandbox"]  # machine-dependent
    assert len(failed) == 1
    assert failed[0].startswith("FAIL ollama: ")
    assert url in failed[0] and "fix: start it with `ollama serve`" in failed[0]


async def test_missing_model_says_which_pull_to_run(tmp_path: Path) -> None:
    async with FakeOllama(models=["gemma3:4b", "nomic-embed-text:latest"]) as fake:
        checks = await run_doctor(_env(tmp_path, fake.url), dotenv=tmp_path / "none")
    failed = [c.line() for c in checks if not c.ok and c.name != "sandbox"]  # machine-dependent
    assert failed == [
        "FAIL model qwen2.5:3b: not pulled (EXECUTOR_MODEL) — fix: run `ollama pull qwen2.5:3b` "
        "or change EXECUTOR_MODEL"
    ]


async def test_platform_without_admins_fails_access(tmp_path: Path) -> None:
    async with FakeOllama(models=["gemma3:4b", "qwen2.5:3b", "nomic-embed-text"]) as fake:
        env = _env(tmp_path, fake.url, DISCORD_TOKEN="x" * 30)
        checks = await run_doctor(env, dotenv=tmp_path / "none")
    failed = [c.line() for c in checks if not c.ok and c.name != "sandbox"]  # machine-dependent
    assert len(failed) == 1 and failed[0].startswith("FAIL access:")
    assert "ADMINS" in failed[0]


async def test_admins_only_on_another_platform_fail_access(tmp_path: Path) -> None:
    async with FakeOllama(models=["gemma3:4b", "qwen2.5:3b", "nomic-embed-text"]) as fake:
        env = _env(tmp_path, fake.url, DISCORD_TOKEN="x" * 30, ADMINS="slack:U1")
        checks = await run_doctor(env, dotenv=tmp_path / "none")
    failed = [c.line() for c in checks if not c.ok]
    assert failed == [
        "FAIL access: nobody may use hearth on discord (ADMINS and ALLOWED_USERS name only "
        "slack) — fix: set ADMINS (and ALLOWED_USERS), e.g. ADMINS=discord:YOUR_USER_ID"
    ]


async def test_misspelled_variable_is_named_with_the_likely_one(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("DISCORD_BOT_TOKEN=abc\n")
    async with FakeOllama(models=["gemma3:4b", "qwen2.5:3b", "nomic-embed-text"]) as fake:
        checks = await run_doctor(_env(tmp_path, fake.url), dotenv=dotenv)
    failed = [c.line() for c in checks if not c.ok]
    assert failed == [
        f"FAIL config: DISCORD_BOT_TOKEN (in {dotenv}) is not a hearth variable; did you mean "
        "DISCORD_TOKEN? — fix: rename or remove it"
    ]


async def test_bad_config_stops_at_one_line(tmp_path: Path) -> None:
    checks = await run_doctor({"MAX_CONCURRENT_TASKS": "many"}, dotenv=tmp_path / "none")
    assert [c.line() for c in checks] == [
        "FAIL config: MAX_CONCURRENT_TASKS='many' is invalid: expected a whole number — fix: "
        "edit .env or the environment (see .env.example)"
    ]


async def _cli(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HEARTH_", "SLACK_", "DISCORD_", "MATRIX_"))
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_cli_doctor_exit_code_and_config_error_line(tmp_path: Path) -> None:
    code, out, _ = await _cli("doctor", env=_env(tmp_path, _closed_url()), cwd=tmp_path)
    assert code == 1 and "FAIL ollama" in out and "Traceback" not in out
    code, out, err = await _cli("run", env={"MAX_TASKS_PER_USER": "0"}, cwd=tmp_path)
    assert code == 2 and out == ""
    assert err.strip() == (
        "hearth: configuration error: MAX_TASKS_PER_USER=0 is invalid: expected at least 1"
    )


def _fake_nvidia_smi(tmp_path: Path, output: str) -> Path:
    """A stand-in nvidia-smi on PATH that prints what a real one prints for our query."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "nvidia-smi"
    script.write_text(f"#!/bin/sh\nprintf '{output}'\n")
    script.chmod(0o755)
    return bin_dir


async def test_gpu_is_detected_a_preset_suggested_and_too_big_models_warned(
    tmp_path: Path, monkeypatch
) -> None:
    bin_dir = _fake_nvidia_smi(tmp_path, "NVIDIA GeForce RTX 3070, 8192\\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    models = ["gemma3:4b", "qwen2.5:14b", "nomic-embed-text"]
    async with FakeOllama(models=models) as fake:
        fake.sizes["qwen2.5:14b"] = 9_000_000_000
        env = _env(tmp_path, fake.url, EXECUTOR_MODEL="qwen2.5:14b")
        checks = await run_doctor(env, dotenv=tmp_path / "none")
    lines = [c.line() for c in checks]
    assert all(c.ok for c in checks), lines
    assert "OK   hardware: " in "\n".join(lines)
    assert any("NVIDIA GeForce RTX 3070 (8 GiB VRAM)" in line for line in lines)
    assert "OK   preset: none set; this machine suits HEARTH_PRESET=gpu-8gb" in lines
    warned = [line for line in lines if line.startswith("WARN")]
    assert warned == [
        "WARN model qwen2.5:14b: needs about 9.6 GiB, more than the 8 GiB of VRAM "
        "(EXECUTOR_MODEL) — fix: choose a smaller model or HEARTH_PRESET=gpu-8gb"
    ]


async def test_a_loaded_model_partly_on_the_cpu_is_warned(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi: VRAM from Ollama only
    models = ["gemma3:4b", "qwen2.5:3b", "nomic-embed-text"]
    async with FakeOllama(models=models, loaded=["qwen2.5:3b"]) as fake:
        fake.vram["qwen2.5:3b"] = 500_000_000
        checks = await run_doctor(_env(tmp_path, fake.url), dotenv=tmp_path / "none")
    lines = [c.line() for c in checks]
    assert any("no NVIDIA GPU seen (nvidia-smi not found)" in line for line in lines)
    assert "OK   preset: none set; this machine suits HEARTH_PRESET=cpu-small" in lines
    assert any(
        line.startswith("WARN model qwen2.5:3b: does not fit the VRAM Ollama reports: only 25%")
        for line in lines
    ), lines


async def test_preset_mismatch_and_unpulled_local_escalation_model(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    async with FakeOllama(models=["gemma3:12b", "qwen2.5:14b", "nomic-embed-text"]) as fake:
        env = _env(tmp_path, fake.url, HEARTH_PRESET="gpu-24gb")
        checks = await run_doctor(env, dotenv=tmp_path / "none")
    lines = [c.line() for c in checks]
    assert (
        "WARN preset: HEARTH_PRESET=gpu-24gb, but this machine suits cpu-small — fix: set "
        "HEARTH_PRESET=cpu-small unless you know better"
    ) in lines
    failed = [line for line in lines if line.startswith("FAIL") and " sandbox: " not in line]
    assert failed == [
        "FAIL model qwen2.5:32b: not pulled (ESCALATION_LOCAL_MODEL) — fix: run "
        "`ollama pull qwen2.5:32b` or change ESCALATION_LOCAL_MODEL"
    ]


def test_the_sandbox_line_says_which_protection_is_in_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def line(**extra: str) -> str:
        settings = Settings.from_env(_env(tmp_path, "http://127.0.0.1:1", **extra))
        return _sandbox(settings).line()

    if shutil.which("bwrap") and Sandbox("bwrap", workspace=tmp_path).confines:
        assert line().startswith("OK   sandbox: bwrap")
    assert line(TOOL_SANDBOX="off").startswith("WARN sandbox: TOOL_SANDBOX=off")
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap to be found
    missing = line()
    assert missing.startswith("FAIL sandbox: no OS sandbox"), missing
    assert "install bubblewrap" in missing and "TOOL_SANDBOX=off" in missing
