"""A hearth-like layout on disk (data dir, workspace inside it, .env, Matrix session, a file
outside) and real bubblewrap sandboxes over it; tests skip with a reason when bwrap cannot run."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.events import ApprovalOutcome, Decision, User
from core.tools.sandbox import Sandbox

SECRET = "xoxb-sandbox-secret-0123456789"
DB_PASSWORD = "correct-horse-battery-staple"
ORIGINAL = "original\n"
# The escape tests' sandbox. Set it to "off" by hand once to watch them fail.
SETTING = "bwrap"


def require_bwrap() -> Sandbox:
    """A probe sandbox; skips the test with the reason when bubblewrap is not usable here."""
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap (bwrap) is not installed: sandbox tests need it")
    probe = Sandbox("bwrap", workspace=Path("/"))
    if not probe.confines:
        pytest.skip(f"bubblewrap cannot run here: {probe.reason}")
    return probe


@dataclass(frozen=True)
class Layout:
    """Where things are: hearth's cwd, its data dir, the workspace inside it, a victim outside."""

    root: Path
    data: Path
    workspace: Path
    env_file: Path
    session: Path
    outside: Path
    victim: Path

    def sandbox(self, setting: str = SETTING, **kwargs: object) -> Sandbox:
        """The sandbox bot/wiring.py would build for this layout."""
        return Sandbox(
            setting,
            workspace=self.workspace,
            hide=[self.data, self.env_file],
            **kwargs,  # type: ignore[arg-type]
        )

    def outside_untouched(self) -> bool:
        """The victim file holds what it held, and nothing new appeared beside it."""
        return self.victim.read_text() == ORIGINAL and sorted(
            p.name for p in self.outside.iterdir()
        ) == ["victim"]


def make_layout(tmp_path: Path) -> Layout:
    """Files as a deployed hearth has them, with secrets in each place a command could look."""
    root = tmp_path.resolve()
    data = root / "data"
    workspace = data / "workspace"
    workspace.mkdir(parents=True)
    env_file = root / ".env"
    env_file.write_text(
        f"SLACK_BOT_TOKEN={SECRET}\nDATABASE_URL=postgres://u:{DB_PASSWORD}@db/x\n"
    )
    session = data / "matrix" / "session.json"
    session.parent.mkdir()
    session.write_text(f'{{"access_token": "{SECRET}"}}')
    (data / "hearth.db").write_text(f"pretend database with {SECRET}")
    outside = root / "outside"
    outside.mkdir()
    victim = outside / "victim"
    victim.write_text(ORIGINAL)
    return Layout(root, data, workspace, env_file, session, outside, victim)


class DenyAll:
    """An approval broker that denies every request and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def request(self, **kwargs: object) -> ApprovalOutcome:
        self.asked.append(str(kwargs["command"]))
        return ApprovalOutcome(
            decision=Decision.DENY, decided_by=User("t", "judge"), decided_at=datetime.now(UTC)
        )


class ApproveAll(DenyAll):
    """An approval broker that approves every request."""

    async def request(self, **kwargs: object) -> ApprovalOutcome:
        self.asked.append(str(kwargs["command"]))
        return ApprovalOutcome(
            decision=Decision.APPROVE, decided_by=User("t", "judge"), decided_at=datetime.now(UTC)
        )
