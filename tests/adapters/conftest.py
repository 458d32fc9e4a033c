"""The adapter contract suites' fixture: one running platform per parameter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.legs import Leg, console_leg, discord_leg, matrix_leg, slack_leg
from tests.adapters.matrix.conftest import synapse  # noqa: F401  (the real Synapse fixture)

PLATFORMS = ["slack", "discord", "matrix", "console"]


@pytest.fixture(params=PLATFORMS)
async def leg(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Leg]:
    """One running platform."""
    platform = request.param
    if platform == "matrix":
        server = request.getfixturevalue("synapse")
        async with matrix_leg(tmp_path, server) as running:
            yield running
        return
    factory = {"slack": slack_leg, "discord": discord_leg, "console": console_leg}[platform]
    async with factory(tmp_path) as running:
        yield running
