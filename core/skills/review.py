"""SkillReview: a human sees a generated skill's full code before it can ever run as a skill.

The code is posted in the thread (split into fenced messages when long), with its examples
and the sandbox dry run, then an approval names the skill, its version and the code's
sha256. Approved: saved as the next TESTING version. Rejected or expired: never saved as
runnable; the decision and the code seen are kept in the review trail.
"""

from __future__ import annotations

import hashlib
import logging

from core.clock import SystemClock
from core.events import ChatRef, User
from core.ports import ApprovalRequester, ChatAdapter, Clock
from core.skills.factory import Draft
from core.skills.library import SkillLibrary
from core.skills.model import CodeSkill
from core.storage.skills import SkillStore

log = logging.getLogger(__name__)


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
    ) -> None:
        self._library = library
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
        lines = skill.source.count("\n")
        await adapter.post(
            chat,
            f"🛠 Proposed skill `{skill.name}` v{version} — {skill.description}\n"
            f"Written by {draft.model}; {lines} lines, sha256 `{sha[:16]}`. The full code:",
        )
        for part in code_messages(skill.source, adapter.capabilities.max_message_chars):
            await adapter.post(chat, part)
        examples = "\n".join(f"• {e}" for e in skill.examples)
        dry = "\n".join(draft.verdict.dry_runs) or "(nothing ran)"
        warnings = "".join(f"\n⚠️ {w}" for w in draft.verdict.warnings)
        await adapter.post(
            chat, f"Examples:\n{examples}\nDry run in the sandbox:\n```\n{dry}\n```{warnings}"
        )
        if self._broker is None:
            await adapter.post(chat, "Not saved: no approver is configured to review skills.")
            await self._trail(skill, version, "rejected", "", "no approver configured", sha)
            return None
        outcome = await self._broker.request(
            chat=chat,
            command=f"install skill {skill.name} v{version} (sha256 {sha[:16]}, code above)",
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
        self, skill: CodeSkill, version: int, decision: str, who: str, reason: str, sha: str
    ) -> None:
        await self._store.add_review(
            skill.name,
            version,
            decision=decision,
            decided_by=who,
            reason=reason,
            code_sha=sha,
            code=skill.source,
            now=self._clock.now(),
        )


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
