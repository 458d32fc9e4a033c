"""Shared fixtures: a migrated database, a fake clock, a recording adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.storage import MIGRATIONS, Database
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh database migrated to head."""
    database = Database(tmp_path / "hearth.db", MIGRATIONS)
    await database.start()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def clock() -> FakeClock:
    """Fake time."""
    return FakeClock()


@pytest.fixture
def adapter() -> FakeAdapter:
    """A recording in-memory chat adapter."""
    return FakeAdapter()
