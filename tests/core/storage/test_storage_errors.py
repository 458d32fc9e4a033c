"""A damaged, read-only or locked database: one line that names the file and the fix."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from core.errors import StorageError
from core.storage import MIGRATIONS, Database

ROOT = str(Path(__file__).resolve().parents[3])


async def _hearth(data: Path, *wrapper: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    env.update(HEARTH_DATA_DIR=str(data), PYTHONPATH=ROOT)
    proc = await asyncio.create_subprocess_exec(
        *wrapper,
        sys.executable,
        "-m",
        "bot",
        "usage",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def _fresh(data: Path) -> Path:
    db = Database(data / "hearth.db", MIGRATIONS)
    await db.start()
    await db.close()
    return data / "hearth.db"


def _drop_side_files(data: Path) -> None:
    for extra in data.glob("hearth.db-*"):  # the WAL and shared-memory files
        extra.unlink()


def _one_line(err: str, path: Path, *words: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and str(path) in lines[0], err
    for word in words:
        assert word in lines[0], err
    return lines[0]


async def test_a_corrupt_database(tmp_path: Path) -> None:
    db = tmp_path / "hearth.db"
    db.write_bytes(b"this is not sqlite at all " * 200)
    code, _, err = await _hearth(tmp_path)
    assert code == 1
    _one_line(err, db, "damaged", "backup")


async def test_a_truncated_database(tmp_path: Path) -> None:
    db = await _fresh(tmp_path)
    _drop_side_files(tmp_path)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    with pytest.raises(StorageError) as caught:
        await Database(db, MIGRATIONS).start()
    _one_line(str(caught.value), db, "damaged")


async def test_a_locked_database(tmp_path: Path) -> None:
    db = await _fresh(tmp_path)
    holder = sqlite3.connect(db)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StorageError) as caught:
            await Database(db, MIGRATIONS).start()
    finally:
        holder.close()
    _one_line(str(caught.value), db, "locked", "another process")


async def test_a_read_only_database(tmp_path: Path) -> None:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        pytest.skip("needs bubblewrap to mount the database read-only (root ignores modes)")
    db = tmp_path / "hearth.db"
    _old_database(db)  # hearth must migrate it, which means writing
    ro = [bwrap, "--bind", "/", "/", "--ro-bind", str(db), str(db)]
    ro += ["--dev", "/dev", "--proc", "/proc", "--"]
    code, _, err = await _hearth(tmp_path, *ro)
    assert code == 1
    _one_line(err, db, "read-only", "writable")


def _old_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE older_hearth (x)")
    conn.commit()
    conn.close()
