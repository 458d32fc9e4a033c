"""Long-term memory: scoped entries in Chroma, recalled into prompts as quoted data.

Nothing here imports chromadb at import time (see core.memory.chroma).
"""

from core.memory.entry import FACT, KINDS, MEMO, TASK, MemoryEntry, scope_of
from core.memory.quote import for_chat, for_prompt, prompt_block
from core.memory.screen import Screened, instruction_reasons, screen
from core.memory.store import Added, Embedder, MemoryStore, MemoryUnavailable, read_state

__all__ = [
    "FACT",
    "KINDS",
    "MEMO",
    "TASK",
    "Added",
    "Embedder",
    "MemoryEntry",
    "MemoryStore",
    "MemoryUnavailable",
    "Screened",
    "for_chat",
    "for_prompt",
    "instruction_reasons",
    "prompt_block",
    "read_state",
    "scope_of",
    "screen",
]
