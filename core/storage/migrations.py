"""Append-only schema migrations: never edit one that has shipped, add a new one instead."""

from __future__ import annotations

import aiosqlite

from core.storage.db import Migration

MIGRATIONS: list[Migration] = []


async def _script(conn: aiosqlite.Connection, sql: str) -> None:
    """Run a multi-statement script inside the migration's transaction.

    ``executescript`` cannot be used here: on Python 3.11 it COMMITs the open transaction first,
    which breaks the migration's atomicity (and the final COMMIT then fails).
    """
    for statement in sql.split(";"):
        if statement.strip():
            await conn.execute(statement)


def migration(func: Migration) -> Migration:
    """Register ``func`` as the next migration (order of definition = order of application)."""
    MIGRATIONS.append(func)
    return func


@migration
async def m001_tasks_and_events(conn: aiosqlite.Connection) -> None:
    """Tasks, seen platform event ids, and a small key/value table."""
    await _script(conn,
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
    """Approval requests and decisions, plus every click and note: the audit trail."""
    await _script(conn,
        """
        CREATE TABLE approvals (
            id              TEXT PRIMARY KEY,
            task_id         TEXT NOT NULL,
            kind            TEXT NOT NULL,                -- command|skill|heartbeat-action
            tool_name       TEXT NOT NULL,
            command         TEXT NOT NULL,                -- exactly what gets run if approved
            cwd             TEXT NOT NULL,
            reasons         TEXT NOT NULL DEFAULT '[]',   -- JSON list
            requester       TEXT NOT NULL,                -- platform:user id
            requester_name  TEXT NOT NULL DEFAULT '',
            chat_key        TEXT NOT NULL,
            platform        TEXT NOT NULL,
            channel_id      TEXT NOT NULL,
            thread_id       TEXT,
            prompt_id       TEXT,                         -- platform message id of the prompt
            prompt_channel  TEXT,
            prompt_thread   TEXT,
            status          TEXT NOT NULL,  -- pending|approved|denied|expired|cancelled|failed
            decided_by      TEXT,                         -- platform:user id
            decided_by_name TEXT NOT NULL DEFAULT '',
            reason          TEXT NOT NULL DEFAULT '',
            created_at      REAL NOT NULL,
            expires_at      REAL NOT NULL,
            decided_at      REAL
        );
        CREATE INDEX approvals_status ON approvals(status);
        CREATE INDEX approvals_prompt ON approvals(platform, prompt_id);
        CREATE TABLE approval_events (
            id           INTEGER PRIMARY KEY,
            approval_id  TEXT NOT NULL,
            at           REAL NOT NULL,
            actor        TEXT,                  -- platform:user id, NULL for hearth itself
            action       TEXT NOT NULL,         -- requested|posted|approved|denied|expired|...
            detail       TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX approval_events_approval ON approval_events(approval_id, at);
        """
    )


@migration
async def m003_usage(conn: aiosqlite.Connection) -> None:
    """One row per LLM call (tokens, latency, cost, saved) and one per escalation."""
    await _script(conn,
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
        CREATE TABLE escalations (
            id                 INTEGER PRIMARY KEY,
            at                 REAL NOT NULL,
            task_id            TEXT,
            user               TEXT,
            trigger            TEXT NOT NULL,   -- low_confidence|failures|timeout|...
            detail             TEXT NOT NULL DEFAULT '',
            model              TEXT NOT NULL,
            outcome            TEXT NOT NULL,   -- done|failed|blocked|disabled
            prompt_tokens      INTEGER NOT NULL DEFAULT 0,
            completion_tokens  INTEGER NOT NULL DEFAULT 0,
            cost_usd           REAL NOT NULL DEFAULT 0
        );
        CREATE INDEX escalations_at ON escalations(at);
        """
    )


@migration
async def m004_heartbeat_ticks(conn: aiosqlite.Connection) -> None:
    """Heartbeat ticks: perception, decision, source, latency, report message, label."""
    await _script(conn,
        """
        CREATE TABLE heartbeat_ticks (
            id              INTEGER PRIMARY KEY,
            at              REAL NOT NULL,
            perception      TEXT NOT NULL,            -- JSON
            prompt          TEXT NOT NULL DEFAULT '',  -- JSON chat messages the model saw
            decision        TEXT NOT NULL,            -- JSON
            severity        TEXT NOT NULL,
            source          TEXT NOT NULL,            -- model|fallback|rules (model not asked)
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
        CREATE INDEX heartbeat_ticks_report
            ON heartbeat_ticks(report_platform, report_channel, report_message);
        """
    )


@migration
async def m005_usage_errors(conn: aiosqlite.Connection) -> None:
    """Failed model calls are stored as errors (non-empty ``error``), not counted as calls."""
    await _script(conn, "ALTER TABLE usage ADD COLUMN error TEXT NOT NULL DEFAULT ''")


@migration
async def m006_access(conn: aiosqlite.Connection) -> None:
    """Runtime allow-list, DM pairing codes and the access audit."""
    await _script(conn,
        """
        CREATE TABLE access_users (
            user         TEXT PRIMARY KEY,     -- platform:user id
            role         TEXT NOT NULL,        -- user|approver
            status       TEXT NOT NULL,        -- allowed|revoked
            source       TEXT NOT NULL,        -- pairing|grant (env users live in .env)
            display_name TEXT NOT NULL DEFAULT '',
            changed_by   TEXT,
            changed_at   REAL NOT NULL
        );
        CREATE TABLE pairing_codes (
            code         TEXT PRIMARY KEY,
            platform     TEXT NOT NULL,
            user         TEXT NOT NULL,        -- platform:user id the code is bound to
            display_name TEXT NOT NULL DEFAULT '',
            channel_id   TEXT NOT NULL,        -- the DM the request came from
            thread_id    TEXT,
            status       TEXT NOT NULL,        -- pending|approved|rejected|expired
            role         TEXT,
            created_at   REAL NOT NULL,
            expires_at   REAL NOT NULL,
            decided_by   TEXT,
            decided_at   REAL,
            notified     INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX pairing_pending ON pairing_codes(platform, status, expires_at);
        CREATE INDEX pairing_user ON pairing_codes(user, created_at);
        CREATE TABLE access_audit (
            id       INTEGER PRIMARY KEY,
            at       REAL NOT NULL,
            actor    TEXT,                     -- platform:user id, 'cli', or NULL for hearth
            action   TEXT NOT NULL,            -- allow|revoke|pair-request|pair-approve|...
            subject  TEXT NOT NULL,
            detail   TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX access_audit_at ON access_audit(at);
        """
    )


@migration
async def m007_scheduled_jobs(conn: aiosqlite.Connection) -> None:
    """Jobs scheduled from chat, and one row per run."""
    await _script(conn,
        """
        CREATE TABLE scheduled_jobs (
            id            TEXT PRIMARY KEY,
            creator       TEXT NOT NULL,          -- platform:user id, runs as this user
            creator_name  TEXT NOT NULL DEFAULT '',
            platform      TEXT NOT NULL,
            channel_id    TEXT NOT NULL,
            kind          TEXT NOT NULL,          -- cron|interval|once
            expr          TEXT NOT NULL,
            describe      TEXT NOT NULL,
            tz            TEXT NOT NULL,
            task          TEXT NOT NULL,
            status        TEXT NOT NULL,          -- active|paused|done|removed
            pause_reason  TEXT NOT NULL DEFAULT '',
            failures      INTEGER NOT NULL DEFAULT 0,   -- failed runs in a row
            created_at    REAL NOT NULL,
            last_fire_at  REAL,                   -- the last fire time claimed (run or skipped)
            missed_note   TEXT NOT NULL DEFAULT ''      -- told in the thread of the next run
        );
        CREATE INDEX scheduled_jobs_channel ON scheduled_jobs(platform, channel_id, status);
        CREATE INDEX scheduled_jobs_creator ON scheduled_jobs(creator, status);
        CREATE TABLE job_runs (
            id          INTEGER PRIMARY KEY,
            job_id      TEXT NOT NULL,
            fire_at     REAL NOT NULL,
            started_at  REAL NOT NULL,
            task_id     TEXT,
            thread_id   TEXT,
            status      TEXT NOT NULL,            -- running|done|failed|cancelled|skipped
            note        TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX job_runs_job ON job_runs(job_id, fire_at);
        """
    )


@migration
async def m008_skills(conn: aiosqlite.Connection) -> None:
    """Skill versions: status (TESTING|ACTIVE|DISABLED), counters, and code of stored versions."""
    await _script(
        conn,
        """
        CREATE TABLE skills (
            name                 TEXT NOT NULL,
            version              INTEGER NOT NULL,
            kind                 TEXT NOT NULL,            -- code|runbook
            origin               TEXT NOT NULL,            -- builtin|data|dir|generated
            status               TEXT NOT NULL,            -- TESTING|ACTIVE|DISABLED
            runs                 INTEGER NOT NULL DEFAULT 0,
            successes            INTEGER NOT NULL DEFAULT 0,
            failures             INTEGER NOT NULL DEFAULT 0,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            last_error           TEXT NOT NULL DEFAULT '',
            last_run_at          REAL,
            created_at           REAL NOT NULL,
            updated_at           REAL NOT NULL,
            code                 TEXT NOT NULL DEFAULT '',  -- generated versions only
            note                 TEXT NOT NULL DEFAULT '',  -- what this version changed
            PRIMARY KEY (name, version)
        );
        CREATE TABLE skill_heads (                          -- the version in use, per skill
            name       TEXT PRIMARY KEY,
            version    INTEGER NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE skill_reviews (                        -- audit trail of generated code
            id         INTEGER PRIMARY KEY,
            at         REAL NOT NULL,
            name       TEXT NOT NULL,
            version    INTEGER NOT NULL,
            decision   TEXT NOT NULL,                       -- approved|rejected|expired|dropped
            decided_by TEXT NOT NULL DEFAULT '',
            reason     TEXT NOT NULL DEFAULT '',
            code_sha   TEXT NOT NULL,
            code       TEXT NOT NULL
        );
        CREATE INDEX skill_reviews_name ON skill_reviews(name, at);
        CREATE TABLE skill_traces (                         -- agent tasks that went well
            task_id    TEXT PRIMARY KEY,
            at         REAL NOT NULL,
            chat_key   TEXT NOT NULL,
            requester  TEXT NOT NULL,
            goal       TEXT NOT NULL,
            answer     TEXT NOT NULL DEFAULT '',
            calls      TEXT NOT NULL DEFAULT '[]',          -- JSON [{name, arguments, output}]
            embedding  TEXT,                                -- JSON vector, when available
            learned    TEXT                                 -- skill name once turned into one
        );
        CREATE INDEX skill_traces_chat ON skill_traces(chat_key, at)
        """,
    )


@migration
async def m009_outbox(conn: aiosqlite.Connection) -> None:
    """Notices waiting for their platform (restart notices): they survive another restart."""
    await _script(
        conn,
        """
        CREATE TABLE outbox (
            id        INTEGER PRIMARY KEY AUTOINCREMENT,   -- delivery order
            platform  TEXT NOT NULL,
            name      TEXT NOT NULL,                       -- for logs
            kind      TEXT NOT NULL,                       -- post|close_approval
            payload   TEXT NOT NULL,                       -- JSON: where and what
            queued_at REAL NOT NULL                        -- wall clock: it outlives the process
        )
        """,
    )
