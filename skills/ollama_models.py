"""The Ollama models report: available, loaded, sizes."""

from __future__ import annotations

import httpx

from core.skills.api import SkillResult, fail, human_bytes, ok, table

NAME = "ollama_models"
DESCRIPTION = "Ollama models: which are pulled, which are loaded in memory, and their sizes."
PARAMS = {
    "type": "object",
    "properties": {
        "ollama_host": {"type": "string", "description": "Ollama's URL (hearth's by default)"},
    },
}
EXAMPLES = [
    "ollama models",
    "which models are loaded",
    "what models does ollama have",
    "list the local models",
    "which llm models are pulled",
]


def run(params: dict) -> SkillResult:
    host = str(params.get("ollama_host") or "http://localhost:11434").rstrip("/")
    try:
        with httpx.Client(base_url=host, timeout=10) as client:
            tags = client.get("/api/tags")
            tags.raise_for_status()
            ps = client.get("/api/ps")
            ps.raise_for_status()
    except httpx.HTTPError as exc:
        return fail(f"Ollama at {host} did not answer: {exc}")
    loaded = {m.get("name"): m for m in ps.json().get("models", [])}
    rows = []
    for m in sorted(tags.json().get("models", []), key=lambda m: m.get("name", "")):
        name = m.get("name", "?")
        details = m.get("details") or {}
        live = loaded.get(name)
        where = ""
        if live:
            vram = live.get("size_vram", 0)
            full = vram >= live.get("size", 0)
            where = ("GPU" if full else "GPU+CPU") if vram else "CPU"
        rows.append(
            [
                name,
                human_bytes(m.get("size", 0)),
                details.get("parameter_size", ""),
                details.get("quantization_level", ""),
                f"yes ({where}, {human_bytes(live.get('size', 0))})" if live else "no",
            ]
        )
    if not rows:
        return ok(f"Ollama at {host} has no models pulled (`ollama pull <model>`).")
    head = f"Ollama at {host}: {len(rows)} model(s) pulled, {len(loaded)} loaded."
    return ok(head + "\n" + table(rows, ["model", "size", "params", "quant", "loaded"]))
