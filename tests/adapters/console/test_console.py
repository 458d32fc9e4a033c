"""The terminal chat through the real core, on a pipe: answers, y/n approvals, unique ids."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from adapters.console import ConsoleAdapter
from adapters.console.translate import (
    Help,
    NewTask,
    Steer,
    Stop,
    hard_breaks,
    live_line,
    parse,
)
from core.events import ChatRef, User
from core.redact import RedactingAdapter, Redactor
from core.storage.approvals import ApprovalStore
from tests.support.harness import ApprovalRunner, StreamingRunner, core_harness
from tests.support.prompts import UNRELATED_SECRET, VERBATIM

ME = User("console", "ana", "ana")


async def _wait_for(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


def _terminal(h=None) -> tuple[ConsoleAdapter, asyncio.StreamReader, io.StringIO]:
    stdin, out = asyncio.StreamReader(), io.StringIO()
    return ConsoleAdapter(user=ME, stdin=stdin, stdout=out), stdin, out


def _watch(term: ConsoleAdapter, h) -> None:
    term.watch_tasks(lambda: {t.chat.key for t in h.pool.active()})


def test_lines_start_tasks_steer_or_stop_by_label() -> None:
    assert parse("list the files") == NewTask("list the files")
    assert parse(">b use python") == Steer("b", "use python")
    assert parse("> use python") == Steer(None, "use python")
    assert parse("stop") == Stop(None)
    assert parse("stop b") == Stop("b")
    assert parse("Cancel [a]") == Stop("a")
    assert parse("stop the web server") == NewTask("stop the web server")
    assert parse("help") == Help()
    assert parse("   ") is None


def test_the_live_line_is_the_current_activity_or_the_last_line() -> None:
    card = "⏳ Working on: x\n⏳ 1. step\n🔧 shell: ls\nlocal: 10 tokens · $0.0000"
    assert live_line(card) == "🔧 shell: ls"
    assert live_line("The answer is▍") == "The answer is"
    assert live_line("x" * 100, width=10) == "…" + "x" * 9


def test_chat_newlines_stay_line_breaks_outside_code() -> None:
    assert hard_breaks("a\nb\n```\nx\ny\n```") == "a  \nb  \n```\nx\ny\n```"


async def test_streamed_answer_is_printed_once_in_order(tmp_path: Path) -> None:
    term, stdin, out = _terminal()
    runner = StreamingRunner(["The answer", " is", " 42."])
    async with core_harness(
        {"console": term}, runner, db_path=tmp_path / "db", admins=frozenset({ME.qualified})
    ) as h:
        _watch(term, h)
        stdin.feed_data(b"what is the answer?\n")
        stdin.feed_eof()
        await term.run(h.dispatcher.handle)
    assert "The answer is 42." in out.getvalue()
    assert out.getvalue().count("The answer") == 1


async def test_a_second_session_is_not_dropped_as_duplicates(tmp_path: Path) -> None:
    for session in (1, 2):
        term, stdin, out = _terminal()
        async with core_harness(
            {"console": term},
            StreamingRunner([f"Answer {session}."]),
            db_path=tmp_path / "db",  # the same database: seen delivery ids persist
            admins=frozenset({ME.qualified}),
        ) as h:
            _watch(term, h)
            stdin.feed_data(b"hello\n")
            stdin.feed_eof()
            await term.run(h.dispatcher.handle)
        assert f"Answer {session}." in out.getvalue(), out.getvalue()


async def test_y_approves_and_garbage_is_asked_again(tmp_path: Path) -> None:
    term, stdin, out = _terminal()
    async with core_harness(
        {"console": term},
        lambda b: ApprovalRunner(b, "rm -r build"),
        db_path=tmp_path / "db",
        admins=frozenset({ME.qualified}),
    ) as h:
        _watch(term, h)
        reading = asyncio.create_task(term.run(h.dispatcher.handle))
        stdin.feed_data(b"clean the build\n")
        await _wait_for(lambda: out.getvalue().endswith("Approve? [y/N] "))
        assert "---\nrm -r build\n---" in out.getvalue()
        stdin.feed_data(b"maybe\n")
        await _wait_for(lambda: "Please answer y or n." in out.getvalue())
        stdin.feed_data(b"y\n")
        await _wait_for(lambda: "rm -r build: approved" in out.getvalue())
        stdin.feed_eof()
        await reading
    assert "✅ Approved by ana" in out.getvalue()


async def test_enter_alone_denies_and_the_end_of_input_denies(tmp_path: Path) -> None:
    term, stdin, out = _terminal()
    async with core_harness(
        {"console": term},
        lambda b: ApprovalRunner(b, "kill 1"),
        db_path=tmp_path / "db",
        admins=frozenset({ME.qualified}),
    ) as h:
        _watch(term, h)
        reading = asyncio.create_task(term.run(h.dispatcher.handle))
        stdin.feed_data(b"kill it\n")
        await _wait_for(lambda: "Approve? [y/N]" in out.getvalue())
        stdin.feed_data(b"\n")
        await _wait_for(lambda: "kill 1: not run" in out.getvalue())
        stdin.feed_data(b"kill it again\n")
        await _wait_for(lambda: out.getvalue().count("Approve? [y/N]") == 2)
        stdin.feed_eof()  # nobody is left to answer: no
        await reading
    assert out.getvalue().count("kill 1: not run") == 2


async def test_an_image_is_named_with_its_caption() -> None:
    out = io.StringIO()
    term = ConsoleAdapter(user=ME, stdin=asyncio.StreamReader(), stdout=out)
    chat = ChatRef("console", "terminal", "main")
    await term.post_image(chat, b"\x89PNG" + b"0" * 4000, "heartbeat.png", "Heartbeat timeline")
    assert out.getvalue().strip() == "Heartbeat timeline\n[image heartbeat.png, 4 KiB]"


@pytest.mark.parametrize("command", VERBATIM)
async def test_prompt_and_stored_request_hold_the_whole_command(
    command: str, tmp_path: Path
) -> None:
    stdin, out = asyncio.StreamReader(), io.StringIO()
    term = ConsoleAdapter(user=ME, stdin=stdin, stdout=out)
    shown = RedactingAdapter(term, Redactor([UNRELATED_SECRET]))  # as the wiring does
    async with core_harness(
        {"console": shown},
        lambda b: ApprovalRunner(b, command),
        db_path=tmp_path / "db",
        admins=frozenset({ME.qualified}),
    ) as h:
        reading = asyncio.create_task(term.run(h.dispatcher.handle))
        stdin.feed_data(b"clean up\n")
        await _wait_for(lambda: "Approve? [y/N]" in out.getvalue())
        assert f"---\n{command}\n---" in out.getvalue()
        [record] = await ApprovalStore(h.db).pending()
        assert record.command == command
        stdin.feed_data(b"n\n")
        await _wait_for(lambda: "not run" in out.getvalue())
        stdin.feed_eof()
        await reading
