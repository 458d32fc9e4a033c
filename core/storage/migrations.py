"""Append-only schema migrations: never edit one that has shipped, add a new one instead."""

from __future__ import annotations

import aiosqlite

from core.storage.db import Migration

MIGRATIONS: list[Migration] = []


def migration(func: Migration) -> Migration:
    """Register ``func`` as the next migration (order of definition = order of application)."""
    MIGRATIONS.append(func)
    return func


@migration
async def m001_tasks_and_events(conn: aiosqlite.Connection) -> None:
    """Tasks, seen platform event ids, and a small key/value table."""
    await conn.executescript(
        """
        CREATE TABLE tasks (
            id           TEXT PRIMARY KEY,
            requester    TEXT NOT NULL,          -- platform:user id
            chat_key     TEXT NOT NULL,
            platform     TEXT NOT NULL,
            channel_id   TEXT NOT NULL,
            thread_id    TEXT,
            goal         TEXT NOT NULL,
            status       TEXT NOT NULL,  -- queued|running|done|failed|cancelled|interrupted
            result       TEXT NOT NULL DEFAULT '',
            created_at   REAL NOT NULL,
            started_at   REAL,
            finished_at  REAL
        );
        CREATE INDEX tasks_status ON tasks(status);
        CREATE INDEX tasks_requester ON tasks(requester, created_at);
        CREATE TABLE events_seen (
            key      TEXT PRIMARY KEY,           -- platform:event id
            seen_at  REAL NOT NULL
        );
        CREATE INDEX events_seen_at ON events_seen(seen_at);
        CREATE TABLE kv (
            key        TEXT PRIMARY KEY,
            value      TEXT NOT NULL,
            updated_at REAL NOT NULL
        );
        """
    )


@migration
async def m002_approvals(conn: aiosqlite.Connection) -> None:
    """Approval requests and decisions: the audit trail."""
    await conn.executescript(
        """
        CREATE TABLE approvals (
            id            TEXT PRIMARY KEY,
            task_id       TEXT NOT NULL,
            kind          TEXT NOT NULL,
            tool_name     TEXT NOT NULL,
            command       TEXT NOT NULL,
            cwd           TEXT NOT NULL,
            reasons       TEXT NOT NULL DEFAULT '[]',   -- JSON list
            requester     TEXT NOT NULL,
            chat_key      TEXT NOT NULL,
            platform      TEXT NOT NULL,
            channel_id    TEXT NOT NULL,
            thread_id     TEXT,
            prompt_id     TEXT,                         -- platform message id of the prompt
            status        TEXT NOT NULL,                -- pending|approved|denied|expired
            decided_by    TEXT,
            reason        TEXT NOT NULL DEFAULT '',
            created_at    REAL NOT NULL,
            expires_at    REAL NOT NULL,
            decided_at    REAL
        );
        CREATE INDEX approvals_status ON approvals(status);
        """
    )


@migration
async def m003_usage(conn: aiosqlite.Connection) -> None:
    """One row per LLM call: tokens, latency, cost and what local tokens saved."""
    await conn.executescript(
        """
        CREATE TABLE usage (
            id                 INTEGER PRIMARY KEY,
            at                 REAL NOT NULL,
            task_id            TEXT,
            user               TEXT,                  -- platform:user id or NULL (heartbeat)
            provider           TEXT NOT NULL,
            model              TEXT NOT NULL,
            purpose            TEXT NOT NULL DEFAULT '',  -- plan|execute|verify|summary|heartbeat
            prompt_tokens      INTEGER NOT NULL,
            completion_tokens  INTEGER NOT NULL,
            duration_s         REAL NOT NULL,
            cost_usd           REAL NOT NULL,
            saved_usd          REAL NOT NULL DEFAULT 0
        );
        CREATE INDEX usage_at ON usage(at);
        CREATE INDEX usage_user_at ON usage(user, at);
        """
    )


@migration
async def m004_heartbeat_ticks(conn: aiosqlite.Connection) -> None:
    """Heartbeat ticks: perception, decision, source, latency, report message, label."""
    await conn.executescript(
        """
        CREATE TABLE heartbeat_ticks (
            id              INTEGER PRIMARY KEY,
            at              REAL NOT NULL,
            perception      TEXT NOT NULL,            -- JSON
            prompt          TEXT NOT NULL DEFAULT '',
            decision        TEXT NOT NULL,            -- JSON
            severity        TEXT NOT NULL,
            source          TEXT NOT NULL,            -- model|fallback|skipped
            latency_s       REAL NOT NULL,
            prompt_tokens   INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            reported        INTEGER NOT NULL DEFAULT 0,
            report_platform TEXT,
            report_channel  TEXT,
            report_message  TEXT,
            label           TEXT                      -- chosen|rejected|NULL
        );
        CREATE INDEX heartbeat_ticks_at ON heartbeat_ticks(at);
        CREATE INDEX heartbeat_ticks_report ON heartbeat_ticks(report_platform, report_message);
        """
    )
