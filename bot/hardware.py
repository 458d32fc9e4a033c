"""What the machine can run: RAM, NVIDIA GPUs (nvidia-smi) and Ollama's own view (/api/ps).

Feeds `hearth doctor`: a suggested HEARTH_PRESET, and warnings for models that are not pulled
or do not fit the VRAM. Every probe is best effort: a missing tool is reported, never raised.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

import psutil

from bot.presets import suggest_preset

GIB = 1024**3
_HEADROOM = 1.15  # the KV cache and CUDA buffers need room beyond the weights


@dataclass(frozen=True, slots=True)
class Gpu:
    """One NVIDIA GPU as nvidia-smi reports it."""

    name: str
    vram_gib: float


@dataclass(frozen=True, slots=True)
class Hardware:
    """RAM, GPUs, and the models Ollama has loaded (size, size in VRAM) in bytes."""

    ram_gib: float
    gpus: tuple[Gpu, ...]
    gpu_note: str  # why no GPU is listed, or ""
    loaded: Mapping[str, tuple[int, int]]

    @property
    def vram_gib(self) -> float | None:
        """Total VRAM over every GPU found, None when unknown."""
        return sum(g.vram_gib for g in self.gpus) if self.gpus else None

    @property
    def suggested(self) -> str:
        """The HEARTH_PRESET this machine fits best."""
        return suggest_preset(self.vram_gib, self.ram_gib)

    def describe(self) -> str:
        """One line: RAM, GPUs (or why none), suggested preset."""
        parts = [f"{self.ram_gib:.0f} GiB RAM"]
        if self.gpus:
            parts += [f"{g.name} ({g.vram_gib:.0f} GiB VRAM)" for g in self.gpus]
        else:
            parts.append(self.gpu_note)
        in_vram = sum(v for _, v in self.loaded.values())
        if in_vram:
            parts.append(f"Ollama holds {in_vram / GIB:.1f} GiB in VRAM")
        return ", ".join(parts)


async def nvidia_gpus(nvidia_smi: str | None) -> tuple[tuple[Gpu, ...], str]:
    """GPUs from ``nvidia-smi`` (name and total memory), or () and why not."""
    if nvidia_smi is None:
        return (), "no NVIDIA GPU seen (nvidia-smi not found)"
    try:
        proc = await asyncio.create_subprocess_exec(
            nvidia_smi,
            "--query-gpu=name,memory.total",
            "--format=csv,noheader,nounits",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with asyncio.timeout(10):
            out, _ = await proc.communicate()
    except (OSError, TimeoutError) as exc:
        return (), f"nvidia-smi failed ({exc})"
    if proc.returncode != 0:
        return (), f"nvidia-smi exited with {proc.returncode}"
    gpus = []
    for line in out.decode(errors="replace").splitlines():
        name, _, mib = line.rpartition(",")
        try:
            gpus.append(Gpu(name.strip(), float(mib) / 1024))
        except ValueError:
            continue
    return tuple(gpus), "" if gpus else "nvidia-smi listed no GPU"


async def detect(
    loaded: Mapping[str, tuple[int, int]], *, nvidia_smi: str | None = "auto"
) -> Hardware:
    """Probe RAM and GPUs; ``loaded`` is Ollama's /api/ps (empty when unreachable)."""
    path = shutil.which("nvidia-smi") if nvidia_smi == "auto" else nvidia_smi
    gpus, note = await nvidia_gpus(path)
    return Hardware(psutil.virtual_memory().total / GIB, gpus, note, dict(loaded))


@dataclass(frozen=True, slots=True)
class Fit:
    """A model that does not fit: which, and the sentence saying so."""

    model: str
    detail: str


def misfits(hw: Hardware, models: Mapping[str, str], sizes: Mapping[str, int]) -> list[Fit]:
    """Configured models (variable -> name) too big for the VRAM, or partly on the CPU now."""
    out: list[Fit] = []
    vram = hw.vram_gib
    for variable, model in models.items():
        size = sizes.get(model) or sizes.get(f"{model}:latest")
        if vram and size and size * _HEADROOM / GIB > vram:
            out.append(
                Fit(
                    model,
                    f"needs about {size * _HEADROOM / GIB:.1f} GiB, more than the "
                    f"{vram:.0f} GiB of VRAM ({variable})",
                )
            )
            continue
        held = hw.loaded.get(model) or hw.loaded.get(f"{model}:latest")
        if held and held[0] and held[1] < held[0]:
            share = held[1] / held[0]
            out.append(
                Fit(
                    model,
                    f"does not fit the VRAM Ollama reports: only {share:.0%} of "
                    f"{held[0] / GIB:.1f} GiB is on the GPU, the rest runs on the CPU "
                    f"({variable})",
                )
            )
    return out
