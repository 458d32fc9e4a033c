"""Logging setup: human-readable text or JSON lines, task ids on every task line, secrets masked.

``setup_logging`` installs one handler on the root logger carrying two filters:

* ``TaskIdFilter`` stamps each record with the running task's id (``core.logctx``);
* ``RedactionFilter`` renders the message, the traceback and string ``extra`` values once and
  masks secrets in them, so every formatter (and every library logging through the root
  logger) only ever sees redacted text.

Filters sit on the handler, not on a logger: logger filters do not see records propagated
from child loggers, handler filters see them all.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from core.logctx import current_task_id
from core.redact import Redactor

if TYPE_CHECKING:
    from bot.config import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s%(task_tag)s: %(message)s"

# Libraries that log every request or job at INFO; hearth's own lines matter more.
QUIET_LOGGERS: dict[str, int] = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    "apscheduler": logging.WARNING,
    "chromadb": logging.WARNING,
    "nio": logging.WARNING,
    "discord.gateway": logging.WARNING,
    "discord.http": logging.WARNING,
    "slack_sdk": logging.WARNING,
    "asyncio": logging.WARNING,
}

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None).__dict__
) | {"message", "asctime", "task_id", "task_tag"}

_HANDLER_NAME = "hearth"


class TaskIdFilter(logging.Filter):
    """Adds ``task_id`` (None outside a task) and ``task_tag`` (" [task …]" or "")."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Stamp the record; never drops it."""
        task_id = getattr(record, "task_id", None) or current_task_id()
        record.task_id = task_id
        record.task_tag = f" [task {task_id}]" if task_id else ""
        return True


class OneLineErrorFilter(logging.Filter):
    """Chat SDKs log a traceback on every reconnect; unless at DEBUG, keep only the reason."""

    PREFIXES = ("discord", "slack_bolt", "slack_sdk", "nio", "aiohttp", "websockets")

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or not record.name.startswith(self.PREFIXES):
            return True
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            return True
        exc = record.exc_info[1]
        if exc is not None:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            record.msg = f"{record.getMessage()} ({reason})"
            record.args = None
        record.exc_info = None
        record.exc_text = None
        return True


class RedactionFilter(logging.Filter):
    """Renders message, traceback, stack and string extras once, with secrets masked."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redact = redactor
        self._plain = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format must not lose the line (or raise into the caller)
            message = f"{record.msg!r} (unformattable log arguments: {record.args!r})"
        record.msg = self._redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._plain.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, self._redact(value))
        return True


class TextFormatter(logging.Formatter):
    """One human-readable line per record (plus the traceback, if any)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT, defaults={"task_tag": ""})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, task_id, exc, and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise the record."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        task_id = getattr(record, "task_id", None)
        if task_id:
            entry["task_id"] = task_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in entry:
                entry[key] = value
        return json.dumps(entry, ensure_ascii=False, default=str)


def build_handler(
    *, fmt: str = "text", redactor: Redactor | None = None, stream: TextIO | None = None
) -> logging.Handler:
    """A stream handler with the task-id and redaction filters and the chosen formatter."""
    if fmt not in ("text", "json"):
        raise ValueError(f"unknown log format {fmt!r} (expected text or json)")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(TaskIdFilter())
    handler.addFilter(OneLineErrorFilter())
    handler.addFilter(RedactionFilter(redactor or Redactor()))
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    return handler


def setup_logging(
    *,
    level: str | int = "INFO",
    fmt: str = "text",
    redactor: Redactor | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Configure the root logger once for the process (calling again replaces the handler)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    handler = build_handler(fmt=fmt, redactor=redactor, stream=stream)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet)
    logging.captureWarnings(True)
    return handler


def configure_logging(settings: Settings, *, console: bool) -> None:
    """Logs to stderr; in the terminal chat, to a file so they don't mix with the conversation."""
    redactor = Redactor(settings.secrets)
    if console:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        stream: TextIO = (settings.data_dir / "hearth.log").open("a", encoding="utf-8")
    else:
        stream = sys.stderr
    setup_logging(
        level=settings.log_level, fmt=settings.log_format, redactor=redactor, stream=stream
    )
