"""SkillReview: a human sees a generated skill's full code before it can ever run as a skill.

Short code is posted inline in the thread. Long code is attached as ``<skill>.py`` with a
card (name, full sha256, the first lines, examples and the sandbox dry run) below it; if the
upload fails the code is posted as fenced messages instead. Only then does an approval name
the skill, its version and the code's sha256. Approved: saved as the next TESTING version.
Rejected or expired: never saved as runnable; the decision and the code seen are kept in the
review trail.

The code is shown verbatim, like an approval prompt's command: never pattern-redacted, so the
approver reads exactly what would be installed. Code holding one of hearth's configured secret
values is refused before anything of it is posted, and the trail keeps it masked.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Sequence

from core.clock import SystemClock
from core.errors import PlatformError
from core.events import ChatRef, User
from core.ports import ApprovalRequester, ChatAdapter, Clock
from core.redact import Redactor, verbatim
from core.skills.factory import Draft
from core.skills.library import SkillLibrary
from core.skills.model import CodeSkill
from core.storage.skills import SkillStore
from core.textsplit import split_text

log = logging.getLogger(__name__)

INLINE_MAX_LINES = 40  # longer code goes up as a file: a chat message is no place to read it
INLINE_MAX_CHARS = 3000  # ... and so does code that does not fit one message
HEAD_LINES = 12  # how much of an attached module the card beside it shows
PYTHON = "text/x-python"
SECRET_NOTE = "⛔ The generated skill contains one of hearth's secrets; it was not shown or saved."


class SkillReview:
    """Posts a draft for review and saves it when approved."""

    def __init__(
        self,
        library: SkillLibrary,
        store: SkillStore,
        broker: ApprovalRequester | None,
        *,
        promote_after: int = 5,
        clock: Clock | None = None,
        secrets: Sequence[str] = (),
    ) -> None:
        self._library = library
        self._secrets = Redactor(secrets, patterns=False)
        self._store = store
        self._broker = broker
        self._promote_after = promote_after
        self._clock = clock or SystemClock()

    async def review(
        self,
        draft: Draft,
        *,
        chat: ChatRef,
        adapter: ChatAdapter,
        task_id: str,
        requester: User,
        note: str,
    ) -> CodeSkill | None:
        """Show the code, ask the approvers, save on approval; the saved skill or None."""
        skill = draft.skill
        sha = hashlib.sha256(skill.source.encode()).hexdigest()
        version = 1 + max((s.version for s in await self._library.history(skill.name)), default=0)
        if self._secrets.has_secret(skill.source):
            # Never shown, never saved; the trail keeps the code with the secret masked.
            log.warning("skill %s: the generated code contains a configured secret", skill.name)
            masked = self._secrets.redact(skill.source)
            await self._trail(
                skill,
                version,
                "rejected",
                "",
                "contains one of hearth's configured secrets; not shown to approvers",
                hashlib.sha256(masked.encode()).hexdigest(),
                code=masked,
            )
            with contextlib.suppress(PlatformError):
                await adapter.post(chat, SECRET_NOTE)
            return None
        try:
            # The approval is asked for only once the whole code is on screen: on any
            # failure to show it, no approver is ever asked.
            where = await show_code(adapter, chat, draft, version, sha)
        except PlatformError as exc:
            log.warning("skill %s: the code could not be shown: %s", skill.name, exc)
            with contextlib.suppress(PlatformError):
                await adapter.post(
                    chat, "Not saved: the code could not be shown to the approvers."
                )
            await self._trail(skill, version, "rejected", "", f"code not shown: {exc}", sha)
            return None
        if self._broker is None:
            await adapter.post(chat, "Not saved: no approver is configured to review skills.")
            await self._trail(skill, version, "rejected", "", "no approver configured", sha)
            return None
        outcome = await self._broker.request(
            chat=chat,
            command=f"install skill {skill.name} v{version} (sha256 {sha[:16]}, code {where})",
            cwd="skill sandbox",
            task_id=task_id,
            requester=requester,
            tool_name="skill",
            reasons=(f"new code written by {draft.model}", "runs sandboxed once installed"),
            kind="skill",
        )
        who = outcome.decided_by.qualified if outcome.decided_by else ""
        if not outcome.approved:
            decision = "rejected" if outcome.decided_by else "expired"
            await self._trail(skill, version, decision, who, outcome.reason, sha)
            await adapter.post(chat, f"Not saved: the skill was {decision}. Nothing will run it.")
            return None
        await self._trail(skill, version, "approved", who, outcome.reason, sha)
        saved = await self._library.add_generated(skill.source, note=note)
        await adapter.post(
            chat,
            f"✅ Saved `{saved.name}` v{saved.version} as TESTING: `run {saved.name} …` uses it "
            f"and the agent may call it; after {self._promote_after} successful runs it answers "
            "matching requests with no model call.",
        )
        return saved

    async def _trail(
        self,
        skill: CodeSkill,
        version: int,
        decision: str,
        who: str,
        reason: str,
        sha: str,
        *,
        code: str | None = None,
    ) -> None:
        await self._store.add_review(
            skill.name,
            version,
            decision=decision,
            decided_by=who,
            reason=reason,
            code_sha=sha,
            code=skill.source if code is None else code,
            now=self._clock.now(),
        )


def attaches(source: str, limit: int) -> bool:
    """True when code is too long to read inline: it goes up as a file instead."""
    fenced = len(source) + len("```python\n\n```")
    return len(source.splitlines()) > INLINE_MAX_LINES or fenced > min(INLINE_MAX_CHARS, limit)


async def show_code(
    adapter: ChatAdapter, chat: ChatRef, draft: Draft, version: int, sha: str
) -> str:
    """Post the whole code, its examples and dry run; where the code is ("above", "in x.py
    above"). Raises PlatformError when the code could not be shown one way or the other.

    Everything taken from the code goes up verbatim; the dry run's output, like any output,
    stays pattern-redacted."""
    skill = draft.skill
    shown = verbatim(adapter)
    source, limit = skill.source, adapter.capabilities.max_message_chars
    lines = len(source.splitlines())
    filename = f"{skill.name}.py"
    title = f"🛠 Proposed skill `{skill.name}` v{version} — {skill.description}"
    written = f"Written by {draft.model}; {lines} lines, sha256 `{sha}`."
    attached, failed = False, ""
    if attaches(source, limit):
        caption = f"📎 `{filename}`: the full code of `{skill.name}` v{version} ({lines} lines)."
        try:
            await shown.post_file(chat, source.encode(), filename, caption, PYTHON)
            attached = True
        except PlatformError as exc:
            log.warning("skill %s: could not attach %s: %s", skill.name, filename, exc)
            failed = f" (`{filename}` could not be attached: {str(exc)[:200]})"
    if attached:
        code = f"The full code is attached above as `{filename}`. It begins:\n{head(source)}"
    else:
        parts = code_messages(source, limit)
        await shown.post(chat, f"{title}\n{written} The full code{failed}:")
        for part in parts:
            await shown.post(chat, part)
        title, written, code = "", "", ""
    examples = "\n".join(f"• {e}" for e in skill.examples)
    dry = "\n".join(draft.verdict.dry_runs) or "(nothing ran)"
    warnings = "".join(f"\n⚠️ {w}" for w in draft.verdict.warnings)
    card = "\n".join(x for x in (title, written, code, f"Examples:\n{examples}") if x)
    for part in split_text(card, limit):
        await shown.post(chat, part)
    for part in split_text(f"Dry run in the sandbox:\n```\n{dry}\n```{warnings}", limit):
        await adapter.post(chat, part)
    return f"in {filename} above" if attached else "above"


def head(source: str) -> str:
    """The first lines of the code, fenced, for the card beside an attachment."""
    shown = source.splitlines()[:HEAD_LINES]
    text = "\n".join(line if len(line) <= 120 else line[:119] + "…" for line in shown)
    more = len(source.splitlines()) - len(shown)
    return f"```python\n{text}\n```" + (f"\n… {more} more lines in the file." if more else "")


def code_messages(source: str, limit: int) -> list[str]:
    """The code as fenced messages of at most ``limit`` characters, split between lines."""
    room = max(200, limit - 20)
    parts: list[str] = []
    current = ""
    for line in source.splitlines(keepends=True):
        while len(line) > room:  # a very long line: cut it, never drop it
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:room])
            line = line[room:]
        if len(current) + len(line) > room:
            parts.append(current)
            current = ""
        current += line
    if current:
        parts.append(current)
    return [f"```python\n{p.rstrip()}\n```" for p in parts]
