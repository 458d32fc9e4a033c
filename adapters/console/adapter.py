"""ConsoleAdapter: the terminal chat, through the same ChatAdapter port as the platforms."""

from __future__ import annotations

import asyncio
import getpass
import itertools
import logging
import sys
from typing import TextIO

from adapters.console import translate
from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalResponse,
    ChatRef,
    Decision,
    MessageRef,
    User,
)
from core.ports import Capabilities, EventSink

log = logging.getLogger(__name__)

CAPABILITIES = Capabilities(
    max_message_chars=100_000, min_edit_interval=0.05, buttons=False, reactions=False
)


class ConsoleAdapter:
    """Reads lines from stdin as messages; prints posts and the growing part of edits."""

    platform = "console"
    capabilities = CAPABILITIES

    def __init__(
        self,
        *,
        user: User | None = None,
        stdin: asyncio.StreamReader | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        self.user = user or User("console", getpass.getuser(), getpass.getuser())
        self._stdin = stdin
        self._out = stdout or sys.stdout
        self._shown: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._last: str | None = None  # id of the message printed last (we append to it)
        self._pending_approvals: list[str] = []  # ids waiting for a y/n, oldest first
        self._prompts: dict[str, str] = {}  # prompt message id → approval id
        self._sink: EventSink | None = None
        self.connected = False
        self.eof = asyncio.Event()

    async def run(self, sink: EventSink) -> None:
        """Read lines until EOF (then return) or cancellation."""
        self._sink = sink
        reader = self._stdin or await _stdin_reader()
        self.connected = True
        self._write("hearth terminal chat — type a task, `help`, or Ctrl-D to quit.\n")
        try:
            for seq in itertools.count(1):
                raw = await reader.readline()
                if not raw:
                    break
                line = raw.decode(errors="replace").strip()
                if self._pending_approvals:
                    await self._answer_approval(line, seq)
                elif line:
                    self._last = None
                    await sink(translate.to_message(line, user=self.user, seq=seq))
        finally:
            self.connected = False
            self.eof.set()

    async def _answer_approval(self, line: str, seq: int) -> None:
        approval_id = self._pending_approvals.pop(0)
        answer = line.lower()
        if answer not in translate.YES | translate.NO:
            self._write("Please answer y or n.\n")
            self._pending_approvals.insert(0, approval_id)
            return
        decision = Decision.APPROVE if answer in translate.YES else Decision.DENY
        assert self._sink is not None
        await self._sink(
            ApprovalResponse(
                approval_id=approval_id,
                decision=decision,
                user=self.user,
                event_id=f"console-{seq}",
            )
        )

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """Print a new message on its own line."""
        ref = MessageRef(chat, f"c{next(self._ids)}")
        self._shown[ref.message_id] = text
        self._write(("\n" if self._last else "") + translate.clean(text))
        self._last = ref.message_id
        return ref

    async def edit(self, ref: MessageRef, text: str) -> None:
        """Print what changed: the appended text, or the new lines of a rewritten message."""
        old = self._shown.get(ref.message_id, "")
        self._shown[ref.message_id] = text
        change, appended = translate.delta(old, text)
        if not change:
            return
        if appended and self._last == ref.message_id:
            self._write(change)
        else:
            self._write("\n" + change)
            self._last = ref.message_id
        if not text.endswith(translate.CURSOR):
            self._write("\n")
            self._last = None

    async def react(self, ref: MessageRef, key: str) -> None:
        """Terminals have no reactions; nothing to do."""

    async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
        """Print the y/n question; the next line typed answers it."""
        self._pending_approvals.append(request.id)
        ref = MessageRef(chat, f"c{next(self._ids)}")
        self._prompts[ref.message_id] = request.id
        self._write(translate.approval_prompt(request))
        self._last = None
        return ref

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> None:
        """Print how the approval ended."""
        approval_id = self._prompts.pop(prompt.message_id, None)
        self._pending_approvals = [a for a in self._pending_approvals if a != approval_id]
        self._write(translate.outcome_line(outcome) + "\n")
        self._last = None

    async def post_image(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """A terminal shows no pictures: print the caption and what the image was."""
        size = f"{len(data) / 1024:.0f} KiB" if len(data) >= 1024 else f"{len(data)} bytes"
        return await self.post(chat, f"{caption}\n[image {filename}, {size}]")


async def _stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader
