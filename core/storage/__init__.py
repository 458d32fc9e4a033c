"""SQLite storage: one connection, append-only migrations, small stores with SQL beside them."""

from core.storage.db import Database
from core.storage.migrations import MIGRATIONS

__all__ = ["MIGRATIONS", "Database"]
