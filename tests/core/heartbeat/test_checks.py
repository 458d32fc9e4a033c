"""The checks file parser: good files, and bad ones that name the line and key."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from core.errors import ConfigError
from core.heartbeat.checkfile import load_checks, parse_checks
from core.heartbeat.checks import default_checks

ROOT = Path(__file__).resolve().parents[3]


def fake_classify(command: str) -> SimpleNamespace:
    """Low for read-only commands, high for anything with rm, blocked for rm -rf /."""
    if "rm -rf /" in command:
        return SimpleNamespace(level="blocked", reasons=("deletes everything",))
    if "rm" in command.split():
        return SimpleNamespace(level="high", reasons=("rm deletes files",))
    return SimpleNamespace(level="low", reasons=())


GOOD = """\
[heartbeat]
timeout = 7

[ollama]
host = "http://127.0.0.1:11434"
models = ["qwen2.5:3b"]

[system]
load_warning = 1.5
load_critical = 3

[[disk]]
name = "root"
path = "/"
warning = 80
critical = 90
action = "du -sh /var/log"

[[http]]
name = "api"
url = "http://127.0.0.1:8000/health"
expect_status = 200
expect_text = "ok"

[[tcp]]
name = "db"
port = 5432

[[process]]
name = "nginx"

[[shell]]
name = "uptime"
command = "uptime"
severity = "critical"

[own]
max_queue_depth = 3
"""


def test_a_good_file_parses_every_kind() -> None:
    checks = parse_checks(GOOD, source="hb.toml", classify=fake_classify)
    assert checks.ollama is not None and checks.ollama.models == ("qwen2.5:3b",)
    assert checks.system is not None and checks.system.load_critical == 3.0
    assert checks.disks[0].path == "/" and checks.disks[0].action == "du -sh /var/log"
    assert checks.http[0].expect_status == 200 and checks.http[0].timeout == 7.0
    assert checks.tcp[0].host == "127.0.0.1" and checks.tcp[0].port == 5432
    assert checks.processes[0].process == "nginx"  # defaults to the check's name
    assert checks.shell[0].severity == "critical"
    assert checks.own is not None and checks.own.max_queue_depth == 3
    assert len(checks) == 8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[disk]]\nname = "d"\npath = "/"\nwarning = "high"\n',
            "line 4: [[disk]] #1 'd' key 'warning'",
        ),
        (
            '[[disk]]\nname = "d"\npath = "/"\nwarning = 90\ncritical = 80\n',
            "line 5: [[disk]] #1 'd' key 'critical'",
        ),
        ('[[http]]\nname = "a"\nurl = "x"\n', "line 3: [[http]] #1 'a' key 'url'"),
        ('[[http]]\nname = "a"\n', "line 1: [[http]] #1 'a': missing required key 'url'"),
        ('[[tcp]]\nname = "a"\nport = 70000\n', "line 3: [[tcp]] #1 'a' key 'port'"),
        ("[system]\nload_warnign = 2\n", "line 2: [system] key 'load_warnign': unknown key"),
        (
            '[[process]]\nname = "a"\n\n[[process]]\nname = "a"\n',
            "line 5: [[process]] #2 'a' key 'name'",
        ),
        (
            '[[shell]]\nname = "s"\ncommand = "true"\nseverity = "fatal"\n',
            "line 4: [[shell]] #1 's' key 'severity'",
        ),
        ("[disks]\n", "line 1: unknown table [disks]"),
        (
            '[[http]]\nname = "a"\nurl = "http://x"\n\n[[http]]\nname = "b"\nurl = 5\n',
            "line 7: [[http]] #2 'b' key 'url'",
        ),
    ],
)
def test_bad_files_name_the_line_and_key(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_checks(text, source="hb.toml", classify=fake_classify)
    assert f"hb.toml, {expected}" in str(err.value)


def test_a_toml_syntax_error_names_the_line() -> None:
    with pytest.raises(ConfigError, match=r"hb\.toml: not valid TOML: .*line 2"):
        parse_checks("[system]\nload_warning = = 2\n", source="hb.toml", classify=fake_classify)


def test_a_risky_shell_check_is_refused_at_load_time() -> None:
    text = '[[shell]]\nname = "cleanup"\ncommand = "rm -f /tmp/x"\n'
    with pytest.raises(ConfigError) as err:
        parse_checks(text, source="hb.toml", classify=fake_classify)
    message = str(err.value)
    assert "line 3: [[shell]] #1 'cleanup' key 'command'" in message
    assert "only low-risk commands" in message and "rm deletes files" in message


def test_a_blocked_suggested_action_is_refused() -> None:
    text = '[[disk]]\nname = "root"\npath = "/"\naction = "rm -rf /"\n'
    with pytest.raises(ConfigError, match=r"'root' key 'action'.*blocked"):
        parse_checks(text, source="hb.toml", classify=fake_classify)


def test_real_risk_classifier_refuses_a_risky_shell_check() -> None:
    with pytest.raises(ConfigError, match="only low-risk"):
        parse_checks('[[shell]]\nname = "x"\ncommand = "curl http://x | sh"\n')
    checks = parse_checks('[[shell]]\nname = "x"\ncommand = "df -h /"\n')
    assert checks.shell[0].command == "df -h /"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"HEARTBEAT_CHECKS=.*nope.toml.*cannot read"):
        load_checks(tmp_path / "nope.toml", classify=fake_classify)


def test_the_example_file_parses_with_the_real_risk_classifier() -> None:
    checks = load_checks(
        ROOT / "examples" / "heartbeat.toml", ollama_host="http://gpu:11434", models=["m:1"]
    )
    assert len(checks) == 9
    assert checks.shell[0].command.startswith("docker ps")
    assert checks.ollama is not None  # it follows OLLAMA_HOST and the configured models
    assert (checks.ollama.host, checks.ollama.models) == ("http://gpu:11434", ("m:1",))


def test_default_checks_without_a_file() -> None:
    checks = default_checks(ollama_host="http://o:11434", models=["m"], data_dir="/data")
    kinds = [type(c).__name__ for c in checks]
    assert kinds == ["OllamaCheck", "SystemCheck", "DiskCheck", "OwnCheck"]
