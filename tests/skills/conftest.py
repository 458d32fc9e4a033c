"""The built-in skills use the skill runner fixtures of tests/core/skills."""

from tests.core.skills.conftest import runner, workspace

__all__ = ["runner", "workspace"]
