"""What the heartbeat checks: one frozen dataclass per kind of check, and the defaults.

The TOML file that configures them is parsed in ``core.heartbeat.checkfile``;
``examples/heartbeat.toml`` documents every option.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class OllamaCheck:
    """Ollama reachable, configured models pulled (/api/tags), which are loaded (/api/ps)."""

    name: str = "ollama"
    host: str = "http://localhost:11434"
    models: tuple[str, ...] = ()
    timeout: float = 5.0
    severity: str = "critical"  # when unreachable; a missing model is a warning
    action: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemCheck:
    """1-minute load average per CPU and memory use, with thresholds."""

    name: str = "system"
    load_warning: float = 2.0  # per CPU
    load_critical: float = 4.0
    memory_warning: float = 90.0  # percent used
    memory_critical: float = 97.0
    timeout: float = 5.0
    action: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DiskCheck:
    """Usage of the filesystem holding ``path``, with percent thresholds."""

    name: str
    path: str
    warning: float = 85.0
    critical: float = 95.0
    timeout: float = 5.0
    action: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpCheck:
    """An HTTP GET: status, latency, expected text."""

    name: str
    url: str
    expect_status: int | None = None  # None: any status below 400
    expect_text: str = ""
    latency_warning_ms: float | None = None
    timeout: float = DEFAULT_TIMEOUT
    severity: str = "critical"
    action: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TcpCheck:
    """A TCP port accepts connections."""

    name: str
    host: str
    port: int
    timeout: float = 5.0
    severity: str = "critical"
    action: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessCheck:
    """At least ``min_count`` processes named ``process`` are running."""

    name: str
    process: str
    min_count: int = 1
    timeout: float = 5.0
    severity: str = "warning"
    action: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShellCheck:
    """A low-risk shell command; exit code 0 means ok."""

    name: str
    command: str
    timeout: float = DEFAULT_TIMEOUT
    severity: str = "warning"
    action: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnCheck:
    """hearth itself: adapters connected, queue depth, task failures in the last hour."""

    name: str = "hearth"
    max_queue_depth: int = 20
    max_failures_last_hour: int = 5
    timeout: float = 2.0
    action: str = ""


Check = OllamaCheck | SystemCheck | DiskCheck | HttpCheck | TcpCheck | ProcessCheck | ShellCheck


@dataclass(frozen=True, slots=True, kw_only=True)
class Checks:
    """Everything the heartbeat probes."""

    ollama: OllamaCheck | None = None
    system: SystemCheck | None = None
    disks: tuple[DiskCheck, ...] = ()
    http: tuple[HttpCheck, ...] = ()
    tcp: tuple[TcpCheck, ...] = ()
    processes: tuple[ProcessCheck, ...] = ()
    shell: tuple[ShellCheck, ...] = ()
    own: OwnCheck | None = field(default_factory=OwnCheck)
    source: str = "<defaults>"  # file the checks came from

    def __iter__(self) -> Iterator[Check | OwnCheck]:
        if self.ollama:
            yield self.ollama
        if self.system:
            yield self.system
        yield from self.disks
        yield from self.http
        yield from self.tcp
        yield from self.processes
        yield from self.shell
        if self.own:
            yield self.own

    def __len__(self) -> int:
        return sum(1 for _ in self)


def default_checks(
    *, ollama_host: str | None = None, models: Sequence[str] = (), data_dir: str | None = None
) -> Checks:
    """Checks used when no file is configured: Ollama, load/memory, the data dir's disk, hearth."""
    return Checks(
        ollama=OllamaCheck(host=ollama_host, models=tuple(models)) if ollama_host else None,
        system=SystemCheck(),
        disks=(DiskCheck(name="data", path=data_dir),) if data_dir else (),
    )
