"""`hearth memory list|search|forget|export` and the doctor's memory line."""

from __future__ import annotations

import json
from pathlib import Path

from bot.config import Settings
from bot.doctor import run_doctor
from bot.memory_store import memory_store_for
from core.events import ChatRef
from core.memory import FACT, TASK, scope_of
from tests.bot.test_cli_oneshot import hearth
from tests.fakes.ollama import FakeOllama

DEV = scope_of(ChatRef("slack", "C0DEV"), direct=False)


async def _seed(tmp_path: Path, url: str) -> list[str]:
    settings = Settings.from_env({"HEARTH_DATA_DIR": str(tmp_path / "data"), "OLLAMA_HOST": url})
    store = memory_store_for(settings)
    ids = []
    try:
        for kind, text in [(FACT, "the staging db listens on 5433"), (TASK, "Task: rotate logs")]:
            added = await store.add(scope=DEV, kind=kind, text=text, author="slack:UANA")
            assert added.entry is not None
            ids.append(added.entry.id)
    finally:
        await store.close()
    return ids


async def test_list_search_export_forget(tmp_path: Path) -> None:
    async with FakeOllama() as fake:
        fact_id, task_id = await _seed(tmp_path, fake.url)
        code, out, err = await hearth(tmp_path, "memory", "list", ollama=fake.url)
        assert code == 0, err
        lines = out.splitlines()
        assert len(lines) == 2 and lines[0].startswith(task_id)  # newest first
        assert f"{DEV}  fact  slack:UANA  the staging db listens on 5433" in lines[1]
        code, out, err = await hearth(tmp_path, "memory", "search", "staging db", ollama=fake.url)
        assert code == 0 and out.splitlines()[0].startswith(fact_id), out + err
        dump = tmp_path / "memory.jsonl"
        code, _, err = await hearth(
            tmp_path, "memory", "export", "--out", str(dump), ollama=fake.url
        )
        assert code == 0 and err.strip() == "exported 2 memories"
        rows = [json.loads(line) for line in dump.read_text().splitlines()]
        assert {r["id"] for r in rows} == {fact_id, task_id}
        code, out, _ = await hearth(tmp_path, "memory", "forget", fact_id, ollama=fake.url)
        assert code == 0 and out.strip() == f"forgot {fact_id}"
        code, out, err = await hearth(tmp_path, "memory", "forget", fact_id, ollama=fake.url)
        assert code == 1 and err.strip() == f"hearth: no memory with id {fact_id}"
        code, _, err = await hearth(tmp_path, "memory", "search", ollama=fake.url)
        assert code == 2 and err.strip() == "hearth: `hearth memory search` needs a query"


async def test_doctor_reports_entries_and_an_outage(tmp_path: Path) -> None:
    env = {"HEARTH_DATA_DIR": str(tmp_path / "data")}
    async with FakeOllama() as fake:
        env["OLLAMA_HOST"] = fake.url
        await _seed(tmp_path, fake.url)
        checks = {c.name: c for c in await run_doctor(env, dotenv=tmp_path / "none")}
        assert checks["memory"].ok
        assert checks["memory"].detail.startswith("2 entries at ")
        # A running hearth records an outage beside the store; the doctor shows it.
        store = memory_store_for(Settings.from_env(env))
        fake.embed_error = (500, "embedding runner crashed")
        try:
            assert await store.recall(DEV, "anything") == []
        finally:
            await store.close()
        checks = {c.name: c for c in await run_doctor(env, dotenv=tmp_path / "none")}
    line = checks["memory"].line()
    assert line.startswith("FAIL memory: 2 entries at ")
    assert (
        "embedding runner crashed" in line and "fix: check that Ollama serves EMBED_MODEL" in line
    )
