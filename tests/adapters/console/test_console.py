"""The terminal chat through the real core: streamed text, y/n approvals, bad answers."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from adapters.console import ConsoleAdapter
from adapters.console.translate import delta
from core.events import ChatRef, User
from tests.support.harness import ApprovalRunner, StreamingRunner, core_harness

ME = User("console", "ana", "ana")


async def _wait_for(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


def test_edits_print_only_what_grew() -> None:
    assert delta("Hello ▍", "Hello world ▍") == (" world", True)
    assert delta("⏳ step 1\n◻️ step 2", "✅ step 1\n⏳ step 2") == ("✅ step 1\n⏳ step 2", False)


async def test_streamed_answer_is_printed_once_in_order(tmp_path: Path) -> None:
    stdin, out = asyncio.StreamReader(), io.StringIO()
    term = ConsoleAdapter(user=ME, stdin=stdin, stdout=out)
    runner = StreamingRunner(["The answer", " is", " 42."])
    async with core_harness(
        {"console": term}, runner, db_path=tmp_path / "db", admins=frozenset({ME.qualified})
    ) as h:
        stdin.feed_data(b"what is the answer?\n")
        stdin.feed_eof()
        await term.run(h.dispatcher.handle)
        await _wait_for(lambda: runner.seen and not h.pool.active())
    assert "The answer is 42." in out.getvalue()
    assert out.getvalue().count("The answer") == 1


async def test_y_approves_and_garbage_is_asked_again(tmp_path: Path) -> None:
    stdin, out = asyncio.StreamReader(), io.StringIO()
    term = ConsoleAdapter(user=ME, stdin=stdin, stdout=out)
    async with core_harness(
        {"console": term},
        lambda b: ApprovalRunner(b, "rm -r build"),
        db_path=tmp_path / "db",
        admins=frozenset({ME.qualified}),
    ) as h:
        reading = asyncio.create_task(term.run(h.dispatcher.handle))
        stdin.feed_data(b"clean the build\n")
        await _wait_for(lambda: "Approve? [y/N]" in out.getvalue())
        assert "command: rm -r build" in out.getvalue()
        stdin.feed_data(b"maybe\n")
        await _wait_for(lambda: "Please answer y or n." in out.getvalue())
        stdin.feed_data(b"y\n")
        await _wait_for(lambda: "`rm -r build`: approved" in out.getvalue())
        stdin.feed_eof()
        await reading
    assert "✅ approved by ana" in out.getvalue()


async def test_enter_alone_denies(tmp_path: Path) -> None:
    stdin, out = asyncio.StreamReader(), io.StringIO()
    term = ConsoleAdapter(user=ME, stdin=stdin, stdout=out)
    async with core_harness(
        {"console": term},
        lambda b: ApprovalRunner(b, "kill 1"),
        db_path=tmp_path / "db",
        admins=frozenset({ME.qualified}),
    ) as h:
        reading = asyncio.create_task(term.run(h.dispatcher.handle))
        stdin.feed_data(b"kill it\n")
        await _wait_for(lambda: "Approve? [y/N]" in out.getvalue())
        stdin.feed_data(b"\n")
        await _wait_for(lambda: "`kill 1`: not run" in out.getvalue())
        stdin.feed_eof()
        await reading


async def test_an_image_is_named_with_its_caption() -> None:
    out = io.StringIO()
    term = ConsoleAdapter(user=ME, stdin=asyncio.StreamReader(), stdout=out)
    chat = ChatRef("console", "terminal", "main")
    await term.post_image(chat, b"\x89PNG" + b"0" * 4000, "heartbeat.png", "Heartbeat timeline")
    assert out.getvalue().strip() == "Heartbeat timeline\n[image heartbeat.png, 4 KiB]"
