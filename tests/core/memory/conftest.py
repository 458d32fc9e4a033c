"""Fixtures for memory tests: a real Chroma store in tmp, embeddings from the fake Ollama."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.llm.ollama import OllamaClient
from core.memory import MemoryStore
from core.redact import Redactor
from tests.fakes.clock import FakeClock
from tests.fakes.ollama import FakeOllama

SECRET = "hunter2-super-secret-value"


def make_store(path: Path, ollama: FakeOllama, clock: FakeClock, **kw: object) -> MemoryStore:
    """A MemoryStore as the wiring builds it, pointed at the fake Ollama."""
    return MemoryStore(
        path,
        embedder=OllamaClient(ollama.url, "nomic-embed-text", num_ctx=2048, timeout=5),
        embed_model="nomic-embed-text",
        redactor=Redactor([SECRET]),
        clock=clock,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
async def ollama() -> AsyncIterator[FakeOllama]:
    """The fake Ollama, with 64-dimensional embeddings."""
    async with FakeOllama(embed_dim=64) as fake:
        yield fake


@pytest.fixture
async def store(
    tmp_path: Path, ollama: FakeOllama, clock: FakeClock
) -> AsyncIterator[MemoryStore]:
    """An open store under tmp_path/memory."""
    s = make_store(tmp_path / "memory", ollama, clock)
    await s.start()
    try:
        yield s
    finally:
        await s.close()
