"""Hardware presets (HEARTH_PRESET): model, context, concurrency and timeout defaults per tier.

A preset only fills in variables the operator left unset: explicit variables always win.
Sizes assume Ollama's default 4-bit quantisations; ``vram_gib`` is what a tier is meant for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Preset:
    """One hardware tier and the variables it sets."""

    name: str
    summary: str
    vram_gib: float  # 0 = CPU only
    values: Mapping[str, str] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "cpu-small",
            "no GPU, 8–16 GB RAM: small models, short contexts, one task at a time",
            0,
            {
                "PLANNER_MODEL": "qwen2.5:1.5b",
                "EXECUTOR_MODEL": "qwen2.5:1.5b",
                "EMBED_MODEL": "nomic-embed-text",
                "PLANNER_NUM_CTX": "4096",
                "EXECUTOR_NUM_CTX": "8192",
                "MAX_CONCURRENT_TASKS": "1",
                "SUBTASK_TIMEOUT": "600",
            },
        ),
        Preset(
            "gpu-8gb",
            "a GPU with 8 GB: the default 3–4B models",
            8,
            {
                "PLANNER_MODEL": "gemma3:4b",
                "EXECUTOR_MODEL": "qwen2.5:3b",
                "EMBED_MODEL": "nomic-embed-text",
                "PLANNER_NUM_CTX": "8192",
                "EXECUTOR_NUM_CTX": "16384",
                "MAX_CONCURRENT_TASKS": "2",
                "SUBTASK_TIMEOUT": "180",
            },
        ),
        Preset(
            "gpu-16gb",
            "a GPU with 16 GB: 7–12B models",
            16,
            {
                "PLANNER_MODEL": "gemma3:12b",
                "EXECUTOR_MODEL": "qwen2.5:7b",
                "EMBED_MODEL": "nomic-embed-text",
                "PLANNER_NUM_CTX": "16384",
                "EXECUTOR_NUM_CTX": "32768",
                "MAX_CONCURRENT_TASKS": "3",
                "SUBTASK_TIMEOUT": "120",
            },
        ),
        Preset(
            "gpu-24gb",
            "a GPU with 24 GB: 12–14B models and a 32B local step before the cloud",
            24,
            {
                "PLANNER_MODEL": "gemma3:12b",
                "EXECUTOR_MODEL": "qwen2.5:14b",
                "EMBED_MODEL": "nomic-embed-text",
                "PLANNER_NUM_CTX": "32768",
                "EXECUTOR_NUM_CTX": "32768",
                "MAX_CONCURRENT_TASKS": "4",
                "SUBTASK_TIMEOUT": "120",
                "ESCALATION_LOCAL_MODEL": "qwen2.5:32b",
            },
        ),
        Preset("custom", "every variable set by hand", 0, {}),
    )
}


def apply_preset(name: str | None, env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with the preset's values under it: a variable set in ``env`` wins."""
    merged = dict(env)
    if name is None:
        return merged
    for variable, value in PRESETS[name].values.items():
        if not (merged.get(variable) or "").strip():
            merged[variable] = value
    return merged


def suggest_preset(vram_gib: float | None, ram_gib: float | None) -> str:
    """The largest tier the detected hardware holds (VRAM unknown or none → cpu-small)."""
    if not vram_gib:
        return "cpu-small"
    for name in ("gpu-24gb", "gpu-16gb", "gpu-8gb"):
        # Cards report a little less than their nominal size (e.g. 23.6 GiB for "24 GB").
        if vram_gib >= PRESETS[name].vram_gib * 0.9:
            return name
    return "cpu-small"
