"""SkillLibrary: built-in, data-dir and SKILLS_DIRS skills, their statuses and counters.

Statuses are read from SQLite on every lookup, so `hearth skills disable` in another process
takes effect at once. A skill that fails to load is logged once, listed as a problem, skipped.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.clock import SystemClock
from core.ports import Clock
from core.skills.loader import SkillLoadError, parse_code_skill, scan
from core.skills.model import CodeSkill, LoadProblem, RunbookSkill, Skill, SkillState, Status
from core.skills.runner import SkillOutcome, SkillRunner
from core.skills.verdicts import Verdicts
from core.storage.skills import SkillStore

log = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "skills"
DEMOTE_AFTER = 3  # consecutive failures of a generated skill
PROMOTE_RATE = 0.8  # success rate a TESTING skill needs to become ACTIVE


class SkillLibrary:
    """Every loaded skill by name, with its stored state; runs code skills through the runner."""

    def __init__(
        self,
        store: SkillStore,
        *,
        runner: SkillRunner | None = None,
        builtin_dir: Path | None = BUILTIN_DIR,
        data_dir: Path | None = None,
        extra_dirs: Sequence[Path] = (),
        clock: Clock | None = None,
        promote_after: int = 5,
        verdicts: Verdicts | None = None,
    ) -> None:
        self._store = store
        self._verdicts = verdicts  # checks of unchanged skill texts, kept from earlier starts
        self._runner = runner
        self._folders: list[tuple[Path, str]] = []
        if builtin_dir is not None:
            self._folders.append((builtin_dir, "builtin"))
        if data_dir is not None:
            self._folders.append((data_dir, "data"))
        self._folders += [(d, "dir") for d in extra_dirs]
        self._clock = clock or SystemClock()
        self._promote_after = promote_after  # SKILL_PROMOTION_THRESHOLD
        self._skills: dict[str, Skill] = {}
        self._problems: list[LoadProblem] = []
        self._status: dict[str, Status] = {}  # as last read from the store

    @property
    def runner(self) -> SkillRunner | None:
        """The sandboxed runner (None in one-shot CLI commands)."""
        return self._runner

    @property
    def problems(self) -> list[LoadProblem]:
        """Skill files that could not be loaded."""
        return list(self._problems)

    async def load(self) -> int:
        """Scan every folder; store a state for each new skill; the number loaded."""
        skills: dict[str, Skill] = {}
        problems: list[LoadProblem] = []
        for folder, origin in self._folders:
            found, bad = scan(folder, origin, self._verdicts)
            problems += bad
            for skill in found:
                if skill.name in skills:
                    first = skills[skill.name].path
                    problems.append(
                        LoadProblem(
                            skill.path,
                            f"a skill named {skill.name!r} is already "
                            f"loaded from {first}; this one is skipped",
                        )
                    )
                    continue
                skills[skill.name] = skill
        for name, version in (await self._store.heads()).items():
            generated = await self._generated(name, version)
            if isinstance(generated, LoadProblem):
                problems.append(generated)
            elif name in skills:
                problems.append(
                    LoadProblem(generated.path, f"{name!r} is also a skill file; skipped")
                )
            else:
                skills[name] = generated
        if self._verdicts is not None:
            self._verdicts.save()
        for problem in problems:
            log.warning("skill not loaded: %s", problem.line())
        now = self._clock.now()
        for skill in skills.values():
            if skill.origin == "generated":
                continue  # stored with its status when it was approved
            await self._store.ensure(
                skill.name,
                skill.version,
                kind=skill.kind,
                origin=skill.origin,
                status=Status.ACTIVE,
                now=now,
            )
        self._skills, self._problems = skills, problems
        log.info("skills: %d loaded, %d not loaded", len(skills), len(problems))
        await self.states()
        return len(skills)

    async def _generated(self, name: str, version: int) -> CodeSkill | LoadProblem:
        path = Path(f"<generated {name} v{version}>")
        source = await self._store.code(name, version)
        try:
            meta = parse_code_skill(source, str(path), self._verdicts)
        except SkillLoadError as exc:
            return LoadProblem(path, str(exc))
        meta["name"] = name  # the stored name wins over an edited NAME
        return CodeSkill(source=source, path=path, origin="generated", version=version, **meta)

    async def add_generated(self, source: str, *, note: str) -> CodeSkill:
        """Store reviewed code as the next TESTING version of its skill and use it."""
        meta = parse_code_skill(source)
        name = meta["name"]
        version = await self._store.add_version(
            name, code=source, note=note, status=Status.TESTING, now=self._clock.now()
        )
        skill = await self._generated(name, version)
        assert isinstance(skill, CodeSkill)
        self._skills[name] = skill
        await self.states()
        return skill

    async def history(self, name: str) -> list[SkillState]:
        """Every stored version of ``name``, oldest first."""
        return await self._store.versions(name)

    async def rollback(self, name: str, version: int) -> CodeSkill | None:
        """Use an earlier (or later) stored version of a generated skill; None if unknown."""
        versions = {s.version: s for s in await self._store.versions(name)}
        state = versions.get(version)
        if state is None or state.origin != "generated":
            return None
        skill = await self._generated(name, version)
        if not isinstance(skill, CodeSkill):
            return None
        now = self._clock.now()
        await self._store.set_head(name, version, now=now)
        if state.status is Status.DISABLED:  # it has to earn its place again
            await self._store.set_status(name, version, Status.TESTING, now=now)
        self._skills[name] = skill
        await self.states()
        return skill

    def get(self, name: str) -> Skill | None:
        """A loaded skill by name."""
        return self._skills.get(name)

    def all(self) -> list[Skill]:
        """Every loaded skill, by name."""
        return [self._skills[n] for n in sorted(self._skills)]

    async def states(self) -> dict[str, SkillState]:
        """The stored state of each loaded skill's current version."""
        out: dict[str, SkillState] = {}
        for state in await self._store.all():
            skill = self._skills.get(state.name)
            if skill is not None and skill.version == state.version:
                out[state.name] = state
        self._status = {name: state.status for name, state in out.items()}
        return out

    def offered(self) -> list[CodeSkill]:
        """Code skills the executor may call as tools (ACTIVE or TESTING, as last read)."""
        usable = {Status.ACTIVE, Status.TESTING}
        return [
            s
            for s in self.all()
            if isinstance(s, CodeSkill) and self._status.get(s.name) in usable
        ]

    async def state(self, name: str) -> SkillState | None:
        """One loaded skill's stored state."""
        skill = self._skills.get(name)
        return None if skill is None else await self._store.get(name, skill.version)

    async def code_skills(self, statuses: frozenset[Status]) -> list[CodeSkill]:
        """Loaded code skills whose status is in ``statuses``."""
        states = await self.states()
        return [
            s
            for s in self.all()
            if isinstance(s, CodeSkill) and s.name in states and states[s.name].status in statuses
        ]

    async def runbooks(self) -> list[RunbookSkill]:
        """Runbook skills that are not disabled."""
        states = await self.states()
        return [
            s
            for s in self.all()
            if isinstance(s, RunbookSkill)
            and s.name in states
            and states[s.name].status is not Status.DISABLED
        ]

    async def set_status(self, name: str, status: Status) -> bool:
        """Enable or disable a loaded skill; False when no such skill is loaded."""
        skill = self._skills.get(name)
        if skill is None:
            return False
        done = await self._store.set_status(name, skill.version, status, now=self._clock.now())
        await self.states()
        return done

    async def count_use(self, skill: RunbookSkill) -> None:
        """Count a runbook chosen by the planner (its outcome is the task's)."""
        await self._store.record_run(
            skill.name, skill.version, ok=True, error="", now=self._clock.now()
        )

    async def run(
        self, skill: CodeSkill, params: Mapping[str, Any], *, owner: str | None = None
    ) -> SkillOutcome:
        """Run a code skill in the sandbox and count the run."""
        if self._runner is None:
            raise RuntimeError("this SkillLibrary has no runner")
        outcome = await self._runner.run(skill, params, owner=owner)
        if outcome.error == "params":  # bad input is the caller's mistake, not the skill's
            return outcome
        state = await self._store.record_run(
            skill.name,
            skill.version,
            ok=outcome.ok,
            error="" if outcome.ok else outcome.text,
            now=self._clock.now(),
        )
        if skill.origin == "generated" and state is not None:
            note = await self._life_cycle(skill, state)
            if note:
                outcome = dataclasses.replace(outcome, lifecycle=note)
        return outcome

    async def _life_cycle(self, skill: CodeSkill, state: SkillState) -> str:
        """Promote a TESTING skill that earned it; disable one that keeps failing."""
        now = self._clock.now()
        tag = f"`{skill.name}` v{skill.version}"
        if state.consecutive_failures >= DEMOTE_AFTER and state.status is not Status.DISABLED:
            await self._store.set_status(skill.name, skill.version, Status.DISABLED, now=now)
            await self.states()
            return (
                f"⬇️ {tag} failed {state.consecutive_failures} times in a row and is now "
                f"DISABLED. An admin can re-enable it or roll back: `skill {skill.name} history`."
            )
        rate = state.successes / state.runs if state.runs else 0.0
        if (
            state.status is Status.TESTING
            and state.successes >= self._promote_after
            and rate >= PROMOTE_RATE
        ):
            await self._store.set_status(skill.name, skill.version, Status.ACTIVE, now=now)
            await self.states()
            return (
                f"⬆️ {tag} is now ACTIVE after {state.successes} successful runs "
                f"({rate:.0%} of {state.runs}): matching requests get it with no model call."
            )
        return ""
