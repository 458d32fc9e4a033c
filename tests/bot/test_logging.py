"""Logging: JSON lines carry the task id, secrets never reach a log line or traceback."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logging import build_handler, setup_logging
from core.logctx import bind_task, current_task_id
from core.redact import MASK, Redactor

SECRET = "xoxb-9999999999-8888888888-SeCrEtSeCrEtSeCrEt"
CONFIGURED = "plain-configured-password-42"


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO, list[logging.Handler]]]:
    """A private logger (no propagation) writing through hearth's handler into a buffer."""
    stream = io.StringIO()
    logger = logging.getLogger("hearth.test.logging")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handlers: list[logging.Handler] = []
    yield logger, stream, handlers
    for h in handlers:
        logger.removeHandler(h)


def _attach(capture, fmt: str) -> tuple[logging.Logger, io.StringIO]:
    logger, stream, handlers = capture
    handler = build_handler(fmt=fmt, redactor=Redactor([CONFIGURED]), stream=stream)
    logger.addHandler(handler)
    handlers.append(handler)
    return logger, stream


def _json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_json_lines_parse_and_carry_the_task_id(capture) -> None:
    logger, stream = _attach(capture, "json")

    async def child() -> None:
        logger.info("from a task created inside the task")

    logger.info("before")
    with bind_task("t-42"):
        logger.info("working on %s", "it", extra={"platform": "slack"})
        await asyncio.create_task(child(), name="child")
    logger.warning("after")

    lines = _json_lines(stream)
    assert [line["message"] for line in lines] == [
        "before",
        "working on it",
        "from a task created inside the task",
        "after",
    ]
    assert [line.get("task_id") for line in lines] == [None, "t-42", "t-42", None]
    assert lines[1]["platform"] == "slack"
    assert lines[1]["level"] == "INFO" and lines[1]["logger"] == "hearth.test.logging"
    assert lines[0]["ts"].endswith("+00:00")
    assert current_task_id() is None


async def test_concurrent_tasks_keep_their_own_ids(capture) -> None:
    logger, stream = _attach(capture, "json")

    async def work(task_id: str) -> None:
        with bind_task(task_id):
            for i in range(3):
                logger.info("%s step %d", task_id, i)
                await asyncio.sleep(0)

    await asyncio.gather(work("a"), work("b"))
    lines = _json_lines(stream)
    assert len(lines) == 6
    assert all(line["message"].startswith(line["task_id"] + " ") for line in lines)


def test_text_lines_show_the_task(capture) -> None:
    logger, stream = _attach(capture, "text")
    with bind_task("t-7"):
        logger.info("hello")
    logger.info("bye")
    first, second = stream.getvalue().splitlines()
    assert first.endswith("INFO    hearth.test.logging [task t-7]: hello")
    assert second.endswith("INFO    hearth.test.logging: bye")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secret_in_message_and_args_is_masked(capture, fmt: str) -> None:
    logger, stream = _attach(capture, fmt)
    logger.info("token is %s and password %s", SECRET, CONFIGURED)
    logger.info(f"inline {SECRET}", extra={"detail": f"pw={CONFIGURED}"})
    out = stream.getvalue()
    assert SECRET not in out
    assert "SeCrEt" not in out
    assert CONFIGURED not in out
    assert out.count(MASK) == (4 if fmt == "json" else 3)  # text lines do not show extras


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secret_in_exception_traceback_is_masked(capture, fmt: str) -> None:
    logger, stream = _attach(capture, fmt)

    def fail(token: str) -> None:
        raise RuntimeError(f"auth failed with {token} and {CONFIGURED}")

    try:
        fail(SECRET)
    except RuntimeError:
        logger.exception("call failed")

    out = stream.getvalue()
    assert "Traceback (most recent call last)" in out.replace("\\n", "\n")
    assert "RuntimeError: auth failed with xoxb-" + MASK in out
    assert SECRET not in out and CONFIGURED not in out
    if fmt == "json":
        (line,) = _json_lines(stream)
        assert "RuntimeError" in line["exc"]


def test_sdk_reconnect_tracebacks_are_one_line_unless_debugging() -> None:
    stream = io.StringIO()
    sdk = logging.getLogger("discord.client")
    handler = build_handler(stream=stream)
    sdk.addHandler(handler)
    root = logging.getLogger()
    level = root.level
    try:
        for debug in (False, True):
            root.setLevel(logging.DEBUG if debug else logging.INFO)
            try:
                raise OSError("Cannot connect to host gateway.discord.gg:443")
            except OSError:
                sdk.exception("Attempting a reconnect in %.2fs", 2.5)
    finally:
        root.setLevel(level)
        sdk.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith(
        "Attempting a reconnect in 2.50s (OSError: Cannot connect to host gateway.discord.gg:443)"
    )
    assert "Traceback (most recent call last)" not in lines[0]
    assert "Traceback (most recent call last):" in lines[2]  # at DEBUG it is all there


def test_bad_format_arguments_do_not_lose_the_line() -> None:
    stream = io.StringIO()
    handler = build_handler(fmt="json", stream=stream)
    # Straight into the handler: pytest's own capture handler would raise on this record.
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "two %s %s", ("one",), None)
    handler.handle(record)
    (line,) = _json_lines(stream)
    assert "unformattable" in line["message"]


def test_setup_logging_installs_one_root_handler() -> None:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        setup_logging(level="debug", fmt="json", redactor=Redactor([CONFIGURED]), stream=stream)
        handler = setup_logging(
            level="INFO", fmt="json", redactor=Redactor([CONFIGURED]), stream=stream
        )
        ours = [h for h in root.handlers if h.get_name() == "hearth"]
        assert ours == [handler]
        assert root.level == logging.INFO
        assert logging.getLogger("httpx").level == logging.WARNING
        logging.getLogger("some.library").info("connecting with %s", CONFIGURED)
        (line,) = _json_lines(stream)
        assert line["logger"] == "some.library"
        assert line["message"] == f"connecting with {MASK}"
    finally:
        for h in list(root.handlers):
            if h not in before:
                root.removeHandler(h)
        root.setLevel(level)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log format"):
        build_handler(fmt="xml")
