"""HEARTH_PRESET: what each preset resolves to, and explicit variables winning."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.presets import PRESETS, suggest_preset
from core.errors import ConfigError

RESOLVED = {
    "cpu-small": ("qwen2.5:1.5b", "qwen2.5:1.5b", 4096, 8192, 1, 600.0, None),
    "gpu-8gb": ("gemma3:4b", "qwen2.5:3b", 8192, 16384, 2, 180.0, None),
    "gpu-16gb": ("gemma3:12b", "qwen2.5:7b", 16384, 32768, 3, 120.0, None),
    "gpu-24gb": ("gemma3:12b", "qwen2.5:14b", 32768, 32768, 4, 120.0, "qwen2.5:32b"),
    "custom": ("gemma3:4b", "qwen2.5:3b", 16384, 16384, 4, 120.0, None),
}


def resolved(s: Settings) -> tuple[object, ...]:
    return (
        s.planner_model,
        s.executor_model,
        s.planner_num_ctx,
        s.executor_num_ctx,
        s.max_concurrent_tasks,
        s.subtask_timeout,
        s.escalation_local_model,
    )


@pytest.mark.parametrize("name", sorted(RESOLVED))
def test_each_preset_resolves_its_settings(name: str) -> None:
    s = Settings.from_env({"HEARTH_PRESET": name})
    assert s.preset == name
    assert resolved(s) == RESOLVED[name]
    assert s.embed_model == "nomic-embed-text"


def test_every_preset_is_tested() -> None:
    assert set(RESOLVED) == set(PRESETS)


def test_explicit_variables_win_over_the_preset() -> None:
    s = Settings.from_env(
        {
            "HEARTH_PRESET": "gpu-24gb",
            "EXECUTOR_MODEL": "llama3.2:3b",
            "EXECUTOR_NUM_CTX": "4096",
            "MAX_CONCURRENT_TASKS": "1",
            "ESCALATION_LOCAL_MODEL": "qwen2.5:14b",
        }
    )
    assert s.executor_model == "llama3.2:3b"
    assert s.executor_num_ctx == 4096
    assert s.max_concurrent_tasks == 1
    assert s.escalation_local_model == "qwen2.5:14b"
    assert s.planner_model == "gemma3:12b"  # not set explicitly: the preset's


def test_no_preset_keeps_the_contract_defaults() -> None:
    s = Settings.from_env({})
    assert s.preset is None and s.escalation_local_model is None
    assert (s.planner_model, s.executor_model, s.heartbeat_redecide_every) == (
        "gemma3:4b",
        "qwen2.5:3b",
        12,
    )


def test_an_unknown_preset_names_the_variable_and_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"HEARTH_PRESET='gpu-4gb' .*cpu-small.*gpu-8gb"):
        Settings.from_env({"HEARTH_PRESET": "gpu-4gb"})


@pytest.mark.parametrize(
    ("vram", "expected"),
    [
        (None, "cpu-small"),
        (0, "cpu-small"),
        (4, "cpu-small"),
        (7.8, "gpu-8gb"),
        (12, "gpu-8gb"),
        (15.7, "gpu-16gb"),
        (23.6, "gpu-24gb"),
        (80, "gpu-24gb"),
    ],
)
def test_suggested_preset_from_vram(vram: float | None, expected: str) -> None:
    assert suggest_preset(vram, 32) == expected
