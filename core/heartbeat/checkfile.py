"""The heartbeat checks file (TOML, named by HEARTBEAT_CHECKS): parsing with line-numbered errors.

Every table and key is validated; a mistake raises ConfigError naming the file, the line, the
check and the key. Shell checks must be low risk (``core.tools.risk.classify``): a heartbeat
runs unattended, so nothing that would need an approval may be configured as a check.
See ``examples/heartbeat.toml`` for every option.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.heartbeat.checks import (
    DEFAULT_TIMEOUT,
    Checks,
    DiskCheck,
    HttpCheck,
    OllamaCheck,
    OwnCheck,
    ProcessCheck,
    ShellCheck,
    SystemCheck,
    TcpCheck,
)
from core.heartbeat.values import SEVERITIES

Classify = Callable[[str], Any]  # command -> Risk with .level and .reasons

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_\-]+)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")
_TABLES = ("heartbeat", "ollama", "system", "own")
_ARRAYS = ("disk", "http", "tcp", "process", "shell")
_LOCATION = tuple[str, int | None, str | None]


def _locate(text: str) -> dict[_LOCATION, int]:
    """Map (table, array index, key) to the line it is written on.

    tomllib reports syntax errors with positions but forgets them once parsed; this simple scan
    of headers and ``key =`` lines recovers the line of every table and key we validate.
    """
    lines: dict[_LOCATION, int] = {}
    counts: dict[str, int] = {}
    table, index = "", None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = header.group(2)
            if header.group(1) == "[[":
                index = counts[table] = counts.get(table, -1) + 1
            else:
                index = None
            lines.setdefault((table, index, None), number)
            continue
        key = _KEY.match(line)
        if key:
            lines.setdefault((table, index, key.group(1)), number)
    return lines


class _Section:
    """One table of the file, read key by key with errors that say where."""

    def __init__(
        self,
        source: str,
        lines: Mapping[_LOCATION, int],
        table: str,
        index: int | None,
        data: Any,
    ) -> None:
        self._source, self._lines, self.table, self.index = source, lines, table, index
        self._data: dict[str, Any] = data if isinstance(data, dict) else {}
        self._used: set[str] = set()
        if not isinstance(data, dict):
            raise self.error(None, "must be a table")

    @property
    def label(self) -> str:
        if self.index is None:
            return f"[{self.table}]"
        name = self._data.get("name")
        named = f" {name!r}" if isinstance(name, str) else ""
        return f"[[{self.table}]] #{self.index + 1}{named}"

    def error(self, key: str | None, problem: str) -> ConfigError:
        line = self._lines.get((self.table, self.index, key)) or self._lines.get(
            (self.table, self.index, None)
        )
        where = f"{self._source}, line {line}" if line else self._source
        what = self.label + (f" key {key!r}" if key else "")
        return ConfigError(f"{where}: {what}: {problem}")

    def _get(self, key: str) -> Any:
        self._used.add(key)
        return self._data.get(key)

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str:
        value = self._get(key)
        if value is None:
            if required:
                raise self.error(None, f"missing required key {key!r}")
            return default or ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.error(key, "must be a non-empty string")
        return value

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise self.error(key, f"must be a number >= {minimum:g}, got {value!r}")
        return float(value)

    def has(self, key: str) -> bool:
        return self._data.get(key) is not None

    def optional_num(self, key: str) -> float | None:
        return self.number(key, 0.0) if self.has(key) else None

    def integer(
        self, key: str, default: int | None, *, minimum: int = 0, maximum: int = 2**31
    ) -> int:
        value = self._get(key)
        if value is None:
            if default is None:
                raise self.error(None, f"missing required key {key!r}")
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not minimum <= value <= maximum
        ):
            raise self.error(key, f"must be an integer from {minimum} to {maximum}, got {value!r}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(key, "must be a list of non-empty strings")
        return tuple(value)

    def severity(self, default: str) -> str:
        value = self.text("severity", default)
        if value not in SEVERITIES[1:]:
            raise self.error("severity", f"must be 'warning' or 'critical', got {value!r}")
        return value

    def thresholds(
        self, warn_key: str, crit_key: str, warn: float, crit: float
    ) -> tuple[float, float]:
        warning, critical = self.number(warn_key, warn), self.number(crit_key, crit)
        if critical < warning:
            raise self.error(crit_key, f"must be >= {warn_key} ({warning:g}), got {critical:g}")
        return warning, critical

    def finish(self) -> None:
        unknown = sorted(set(self._data) - self._used)
        if unknown:
            raise self.error(
                unknown[0],
                f"unknown key (expected one of: {', '.join(sorted(self._used))})",
            )


def _risk_classifier() -> Classify:
    from core.tools.risk import classify  # the tools package owns risk; loaded on demand

    return classify


def parse_checks(
    text: str,
    *,
    source: str = "<string>",
    classify: Classify | None = None,
    ollama_host: str = "http://localhost:11434",
    models: Sequence[str] = (),
) -> Checks:
    """Parse and validate a checks file's text; ConfigError names the line and key.

    ``[ollama]`` without ``host`` or ``models`` checks ``ollama_host`` and ``models`` (the
    configured OLLAMA_HOST and models), so the file follows the configuration.
    """
    import tomllib  # here: without a checks file, `hearth chat` starts without it

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    lines = _locate(text)

    def section(table: str, index: int | None, value: Any) -> _Section:
        return _Section(source, lines, table, index, value)

    for table in data:
        if table not in _TABLES + _ARRAYS:
            line = lines.get((table, None, None)) or lines.get((table, 0, None))
            where = f"{source}, line {line}" if line else source
            raise ConfigError(
                f"{where}: unknown table [{table}] (expected one of: "
                f"{', '.join(_TABLES + _ARRAYS)})"
            )
    for table in _ARRAYS:
        if table in data and not isinstance(data[table], list):
            raise ConfigError(f"{source}: [{table}] must be written as [[{table}]] (a list)")

    hb = section("heartbeat", None, data.get("heartbeat", {}))
    default_timeout = hb.number("timeout", DEFAULT_TIMEOUT, minimum=0.1)
    hb.finish()

    def common(s: _Section, *, timeout: float | None = None) -> dict[str, Any]:
        action = s.text("action", "")
        return {
            "timeout": s.number("timeout", timeout or default_timeout, minimum=0.1),
            "action": action,
        }

    ollama = None
    if "ollama" in data:
        s = section("ollama", None, data["ollama"])
        ollama = OllamaCheck(
            host=s.text("host", ollama_host),
            models=s.strings("models") or tuple(models),
            severity=s.severity("critical"),
            **common(s, timeout=5.0),
        )
        s.finish()

    system = None
    if "system" in data:
        s = section("system", None, data["system"])
        load_w, load_c = s.thresholds("load_warning", "load_critical", 2.0, 4.0)
        mem_w, mem_c = s.thresholds("memory_warning", "memory_critical", 90.0, 97.0)
        system = SystemCheck(
            load_warning=load_w,
            load_critical=load_c,
            memory_warning=mem_w,
            memory_critical=mem_c,
            **common(s, timeout=5.0),
        )
        s.finish()

    own = OwnCheck()
    if "own" in data:
        s = section("own", None, data["own"])
        own = OwnCheck(
            max_queue_depth=s.integer("max_queue_depth", 20),
            max_failures_last_hour=s.integer("max_failures_last_hour", 5),
            **common(s, timeout=2.0),
        )
        s.finish()

    def items(table: str) -> Iterator[tuple[_Section, str]]:
        seen: set[str] = set()
        for index, value in enumerate(data.get(table, [])):
            s = section(table, index, value)
            name = s.text("name", required=True)
            if name in seen:
                raise s.error("name", f"duplicate name {name!r} in [[{table}]]")
            seen.add(name)
            yield s, name

    disks = []
    for s, name in items("disk"):
        warning, critical = s.thresholds("warning", "critical", 85.0, 95.0)
        disks.append(
            DiskCheck(
                name=name,
                path=s.text("path", required=True),
                warning=warning,
                critical=critical,
                **common(s, timeout=5.0),
            )
        )
        s.finish()

    http = []
    for s, name in items("http"):
        url = s.text("url", required=True)
        if not url.startswith(("http://", "https://")):
            raise s.error("url", f"must be an http:// or https:// URL, got {url!r}")
        http.append(
            HttpCheck(
                name=name,
                url=url,
                expect_status=(
                    s.integer("expect_status", None, minimum=100, maximum=599)
                    if s.has("expect_status")
                    else None
                ),
                expect_text=s.text("expect_text", ""),
                latency_warning_ms=s.optional_num("latency_warning_ms"),
                severity=s.severity("critical"),
                **common(s),
            )
        )
        s.finish()

    tcp = []
    for s, name in items("tcp"):
        tcp.append(
            TcpCheck(
                name=name,
                host=s.text("host", "127.0.0.1"),
                port=s.integer("port", None, minimum=1, maximum=65535),
                severity=s.severity("critical"),
                **common(s, timeout=5.0),
            )
        )
        s.finish()

    processes = []
    for s, name in items("process"):
        processes.append(
            ProcessCheck(
                name=name,
                process=s.text("process", name),
                min_count=s.integer("min_count", 1, minimum=1),
                severity=s.severity("warning"),
                **common(s, timeout=5.0),
            )
        )
        s.finish()

    shell = []
    for s, name in items("shell"):
        command = s.text("command", required=True)
        classify = classify or _risk_classifier()
        risk = classify(command)
        if risk.level != "low":
            why = "; ".join(risk.reasons) or risk.level
            raise s.error(
                "command",
                f"only low-risk commands may run unattended; {command!r} is {risk.level} "
                f"risk ({why})",
            )
        shell.append(
            ShellCheck(name=name, command=command, severity=s.severity("warning"), **common(s))
        )
        s.finish()

    checks = Checks(
        ollama=ollama,
        system=system,
        disks=tuple(disks),
        http=tuple(http),
        tcp=tuple(tcp),
        processes=tuple(processes),
        shell=tuple(shell),
        own=own,
        source=source,
    )
    _check_actions(checks, lines, source, classify)
    return checks


def _check_actions(
    checks: Checks, lines: Mapping[_LOCATION, int], source: str, classify: Classify | None
) -> None:
    """Suggested actions need an approval anyway, but a blocked one is refused at load time."""
    for check in checks:
        if not check.action:
            continue
        classify = classify or _risk_classifier()
        risk = classify(check.action)
        if risk.level == "blocked":
            raise ConfigError(
                f"{source}: check {check.name!r} key 'action': {check.action!r} is blocked "
                f"({'; '.join(risk.reasons) or 'refused'})"
            )


def load_checks(
    path: Path | str,
    *,
    classify: Classify | None = None,
    ollama_host: str = "http://localhost:11434",
    models: Sequence[str] = (),
) -> Checks:
    """Read and validate the checks file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"HEARTBEAT_CHECKS={str(path)!r}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"HEARTBEAT_CHECKS={str(path)!r}: not UTF-8 text: {exc}") from exc
    return parse_checks(
        text, source=str(path), classify=classify, ollama_host=ollama_host, models=models
    )
