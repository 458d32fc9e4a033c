"""Settings.from_env: every variable parsed; bad values raise ConfigError naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, ensure_data_dir
from core.errors import ConfigError

FULL = {
    "HEARTH_DATA_DIR": "/srv/hearth",
    "HEARTH_WORKSPACE": "/srv/work",
    "OLLAMA_HOST": "http://gpu-box:11434",
    "PLANNER_MODEL": "llama3.2:3b",
    "EXECUTOR_MODEL": "qwen2.5:7b",
    "EMBED_MODEL": "mxbai-embed-large",
    "PLANNER_NUM_CTX": "8192",
    "EXECUTOR_NUM_CTX": "32768",
    "ANTHROPIC_API_KEY": "sk-ant-test-123456",
    "ANTHROPIC_BASE_URL": "http://127.0.0.1:9999",
    "CLAUDE_MODEL": "claude-sonnet-4-5",
    "ESCALATION_ENABLED": "false",
    "ESCALATION_THRESHOLD": "0.4",
    "ESCALATION_FAILURE_LIMIT": "5",
    "SUBTASK_TIMEOUT": "60",
    "VERIFICATION_ENABLED": "no",
    "CONTEXT_COMPRESS_AT": "0.5",
    "DAILY_BUDGET_USD": "2.50",
    "USER_DAILY_BUDGET_USD": "0.5",
    "ALLOWED_USERS": "slack:U1, discord:42 ,matrix:@ana:example.org",
    "ADMINS": "slack:UADMIN",
    "APPROVERS": "slack:UAPP,matrix:@ops:example.org",
    "APPROVAL_TIMEOUT": "600",
    "MAX_CONCURRENT_TASKS": "8",
    "MAX_TASKS_PER_USER": "3",
    "SLACK_BOT_TOKEN": "xoxb-1-2-3",
    "SLACK_APP_TOKEN": "xapp-1-2-3",
    "SLACK_API_URL": "http://127.0.0.1:1234/api",
    "DISCORD_TOKEN": "discord-token-abc",
    "DISCORD_API_URL": "http://127.0.0.1:8081/api/v10",
    "DISCORD_GATEWAY_URL": "ws://127.0.0.1:8081/gw/",
    "STREAM_ANSWERS": "final",
    "MATRIX_HOMESERVER": "https://matrix.example.org",
    "MATRIX_USER_ID": "@hearth:example.org",
    "MATRIX_ACCESS_TOKEN": "syt_matrix_token",
    "HEARTBEAT_CHANNEL": "slack:C0OPS",
    "HEARTBEAT_INTERVAL": "300",
    "HEARTBEAT_CHECKS": "/etc/hearth/checks.toml",
    "HEARTBEAT_DECIDE": "always",
    "HEARTBEAT_DIGEST_CRON": "0 9 * * *",
    "HEALTH_ADDR": "127.0.0.1:8080",
    "LOG_FORMAT": "json",
    "MEMORY_MAX_ENTRIES": "200",
    "MEMORY_TTL_DAYS": "30",
}


def test_defaults_match_the_contract() -> None:
    s = Settings.from_env({})
    assert s.data_dir == Path("data") and s.workspace == Path("data/workspace")
    assert s.ollama_host == "http://localhost:11434"
    assert (s.planner_model, s.executor_model, s.embed_model) == (
        "gemma3:4b",
        "qwen2.5:3b",
        "nomic-embed-text",
    )
    assert s.planner_num_ctx == s.executor_num_ctx == 16384
    assert s.claude_model == "claude-opus-4-6" and s.anthropic_api_key is None
    assert s.escalation_enabled and s.escalation_threshold == 0.6
    assert s.escalation_failure_limit == 3 and s.subtask_timeout == 120
    assert s.verification_enabled and s.context_compress_at == 0.7
    assert s.daily_budget_usd is None and s.user_daily_budget_usd is None
    assert s.allowed_users == s.admins == s.approvers == frozenset()
    assert s.approval_timeout == 1800
    assert (s.max_concurrent_tasks, s.max_tasks_per_user) == (4, 2)
    assert s.platforms == ()
    assert s.heartbeat_channel is None and s.heartbeat_interval == 600
    assert s.heartbeat_decide == "on_change" and s.heartbeat_digest_cron is None
    assert s.health_addr is None
    assert s.stream_answers == "live"
    assert not s.escalation_available
    assert (s.memory_max_entries, s.memory_ttl_days) == (5000, 180)
    assert s.memory_dir == Path("data/memory")
    assert s.pairing and s.admin_channel is None


def test_every_variable_is_parsed() -> None:
    s = Settings.from_env(FULL)
    assert s.data_dir == Path("/srv/hearth") and s.workspace == Path("/srv/work")
    assert s.db_path == Path("/srv/hearth/hearth.db")
    assert s.ollama_host == "http://gpu-box:11434"
    assert (s.planner_model, s.executor_model, s.embed_model) == (
        "llama3.2:3b",
        "qwen2.5:7b",
        "mxbai-embed-large",
    )
    assert (s.planner_num_ctx, s.executor_num_ctx) == (8192, 32768)
    assert s.anthropic_api_key == "sk-ant-test-123456"
    assert s.anthropic_base_url == "http://127.0.0.1:9999"
    assert s.claude_model == "claude-sonnet-4-5"
    assert not s.escalation_enabled and not s.escalation_available
    assert s.escalation_threshold == 0.4 and s.escalation_failure_limit == 5
    assert s.subtask_timeout == 60 and not s.verification_enabled
    assert s.context_compress_at == 0.5
    assert (s.daily_budget_usd, s.user_daily_budget_usd) == (2.5, 0.5)
    assert s.allowed_users == {"slack:U1", "discord:42", "matrix:@ana:example.org"}
    assert s.admins == {"slack:UADMIN"}
    assert s.approvers == s.effective_approvers == {"slack:UAPP", "matrix:@ops:example.org"}
    assert s.approval_timeout == 600
    assert (s.max_concurrent_tasks, s.max_tasks_per_user) == (8, 3)
    assert s.slack and s.slack.socket_mode and s.slack.api_url == "http://127.0.0.1:1234/api/"
    assert s.discord and s.discord.token == "discord-token-abc"
    assert s.discord.api_url == "http://127.0.0.1:8081/api/v10"
    assert s.discord.gateway_url == "ws://127.0.0.1:8081/gw/"
    assert s.stream_answers == "final"
    assert s.matrix and s.matrix.user_id == "@hearth:example.org"
    assert s.platforms == ("slack", "discord", "matrix")
    assert s.heartbeat_channel == "slack:C0OPS" and s.heartbeat_interval == 300
    assert s.heartbeat_checks == Path("/etc/hearth/checks.toml")
    assert s.heartbeat_decide == "always" and s.heartbeat_digest_cron == "0 9 * * *"
    assert s.health_addr == "127.0.0.1:8080" and s.log_format == "json"
    assert (s.memory_max_entries, s.memory_ttl_days) == (200, 30)


def test_secrets_are_collected_and_never_in_repr() -> None:
    s = Settings.from_env(FULL)
    assert set(s.secrets) == {
        "sk-ant-test-123456",
        "xoxb-1-2-3",
        "xapp-1-2-3",
        "discord-token-abc",
        "syt_matrix_token",
    }
    for secret in s.secrets:
        assert secret not in repr(s)


def test_approvers_fall_back_to_admins() -> None:
    s = Settings.from_env({"ADMINS": "slack:U9"})
    assert s.effective_approvers == {"slack:U9"}


@pytest.mark.parametrize(
    ("env", "variable", "hint"),
    [
        ({"PLANNER_NUM_CTX": "lots"}, "PLANNER_NUM_CTX", "whole number"),
        ({"EXECUTOR_NUM_CTX": "100"}, "EXECUTOR_NUM_CTX", "at least 512"),
        ({"ESCALATION_ENABLED": "maybe"}, "ESCALATION_ENABLED", "true or false"),
        ({"ESCALATION_THRESHOLD": "1.5"}, "ESCALATION_THRESHOLD", "at most 1.0"),
        ({"ESCALATION_FAILURE_LIMIT": "0"}, "ESCALATION_FAILURE_LIMIT", "at least 1"),
        ({"SUBTASK_TIMEOUT": "soon"}, "SUBTASK_TIMEOUT", "a number"),
        ({"CONTEXT_COMPRESS_AT": "0"}, "CONTEXT_COMPRESS_AT", "at least 0.1"),
        ({"DAILY_BUDGET_USD": "$5"}, "DAILY_BUDGET_USD", "US dollars"),
        ({"USER_DAILY_BUDGET_USD": "-1"}, "USER_DAILY_BUDGET_USD", ">= 0"),
        ({"ALLOWED_USERS": "U123"}, "ALLOWED_USERS", "platform:id"),
        ({"ADMINS": "irc:bob"}, "ADMINS", "unknown platform 'irc'"),
        ({"ALLOWED_USERS": "slack:U1,bogus:x"}, "ALLOWED_USERS", "unknown platform 'bogus'"),
        ({"HEARTBEAT_CHANNEL": "bogus:C1"}, "HEARTBEAT_CHANNEL", "unknown platform 'bogus'"),
        ({"APPROVERS": "slack:"}, "APPROVERS", "platform:id"),
        ({"APPROVAL_TIMEOUT": "0"}, "APPROVAL_TIMEOUT", "at least"),
        ({"MAX_CONCURRENT_TASKS": "0"}, "MAX_CONCURRENT_TASKS", "at least 1"),
        ({"MAX_TASKS_PER_USER": "two"}, "MAX_TASKS_PER_USER", "whole number"),
        ({"OLLAMA_HOST": "localhost:11434"}, "OLLAMA_HOST", "http://"),
        ({"ANTHROPIC_BASE_URL": "ftp://x"}, "ANTHROPIC_BASE_URL", "http://"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN", "xoxb-"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "SLACK_APP_TOKEN", "xapp-"),
        ({"MATRIX_USER_ID": "@a:b", "MATRIX_PASSWORD": "pw"}, "MATRIX_HOMESERVER", "required"),
        (
            {
                "MATRIX_HOMESERVER": "https://m.org",
                "MATRIX_USER_ID": "hearth",
                "MATRIX_PASSWORD": "x",
            },
            "MATRIX_USER_ID",
            "@hearth:example.org",
        ),
        (
            {"MATRIX_HOMESERVER": "https://m.org", "MATRIX_USER_ID": "@h:m.org"},
            "MATRIX_ACCESS_TOKEN",
            "MATRIX_PASSWORD",
        ),
        ({"HEARTBEAT_CHANNEL": "#ops"}, "HEARTBEAT_CHANNEL", "platform:channel"),
        ({"HEARTBEAT_INTERVAL": "0"}, "HEARTBEAT_INTERVAL", "at least"),
        ({"HEARTBEAT_DECIDE": "sometimes"}, "HEARTBEAT_DECIDE", "always, never, on_change"),
        ({"HEARTBEAT_DIGEST_CRON": "daily"}, "HEARTBEAT_DIGEST_CRON", "5-field cron"),
        ({"HEALTH_ADDR": "8080"}, "HEALTH_ADDR", "host:port"),
        ({"HEALTH_ADDR": "127.0.0.1:99999"}, "HEALTH_ADDR", "host:port"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT", "json, text"),
        ({"PAIRING": "maybe"}, "PAIRING", "true or false"),
        ({"ADMIN_CHANNEL": "#admins"}, "ADMIN_CHANNEL", "platform:channel"),
        ({"STREAM_ANSWERS": "sometimes"}, "STREAM_ANSWERS", "final, live"),
        ({"DISCORD_TOKEN": "t", "DISCORD_API_URL": "discord.com"}, "DISCORD_API_URL", "http://"),
        ({"DISCORD_TOKEN": "t", "DISCORD_GATEWAY_URL": "http://x"}, "DISCORD_GATEWAY_URL", "ws://"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], variable: str, hint: str) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env)
    assert variable in str(err.value)
    assert hint in str(err.value)


def test_blank_values_mean_unset() -> None:
    s = Settings.from_env({"ANTHROPIC_API_KEY": "  ", "DISCORD_TOKEN": ""})
    assert s.anthropic_api_key is None and s.discord is None


def test_dotenv_is_read_under_the_environment(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("EXECUTOR_MODEL=from-dotenv\nPLANNER_MODEL=from-dotenv\n")
    s = Settings.load({"PLANNER_MODEL": "from-env"}, dotenv=dotenv)
    assert s.executor_model == "from-dotenv"
    assert s.planner_model == "from-env"


def test_pairing_and_admin_channel() -> None:
    s = Settings.from_env({"PAIRING": "off", "ADMIN_CHANNEL": "Slack:C0ADMIN"})
    assert not s.pairing and s.admin_channel == "slack:C0ADMIN"


def test_env_example_lists_every_contract_variable() -> None:
    text = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    for name in FULL:
        assert f"{name}=" in text, name


def test_misspelled_variables_get_a_did_you_mean(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("SLACK_TOKEN=xoxb-1\nDISCORD_BOT_TOKEN=abc\nCOMPOSE_PROJECT_NAME=x\n")
    s = Settings.load({"MATRIX_HOMESERVR": "https://m.org", "PATH": "/bin"}, dotenv=dotenv)
    assert s.warnings == (
        f"SLACK_TOKEN (in {dotenv}) is not a hearth variable; did you mean SLACK_BOT_TOKEN?",
        f"DISCORD_BOT_TOKEN (in {dotenv}) is not a hearth variable; did you mean DISCORD_TOKEN?",
        "MATRIX_HOMESERVR (in the environment) is not a hearth variable; "
        "did you mean MATRIX_HOMESERVER?",
    )
    assert s.slack is None and s.discord is None  # ignored, not guessed


def test_known_variables_are_not_warned_about(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("".join(f"{name}=\n" for name in FULL) + "SLACK_HTTP_ADDR=\n")
    assert Settings.load({}, dotenv=dotenv).warnings == ()


def test_data_dir_errors_name_the_variable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings = Settings.from_env({"HEARTH_DATA_DIR": str(blocker / "data")})
    with pytest.raises(ConfigError) as err:
        ensure_data_dir(settings)
    assert str(err.value).startswith(f"HEARTH_DATA_DIR='{blocker / 'data'}' is not a writable")
    ensure_data_dir(Settings.from_env({"HEARTH_DATA_DIR": str(tmp_path / "new" / "data")}))
    assert (tmp_path / "new" / "data").is_dir()
