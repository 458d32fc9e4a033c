"""The memory store, as hearth builds it from Settings."""

from __future__ import annotations

from bot.config import Settings
from core.llm.ollama import OllamaClient
from core.memory import MemoryStore
from core.ports import Clock
from core.redact import Redactor


def memory_store_for(settings: Settings, *, clock: Clock | None = None) -> MemoryStore:
    """The memory store under $HEARTH_DATA_DIR/memory, embedding with EMBED_MODEL."""
    return MemoryStore(
        settings.memory_dir,
        embedder=OllamaClient(
            settings.ollama_host, settings.embed_model, num_ctx=2048, timeout=30, clock=clock
        ),
        embed_model=settings.embed_model,
        redactor=Redactor(settings.secrets),
        max_entries=settings.memory_max_entries,
        ttl_days=settings.memory_ttl_days,
        clock=clock,
    )
