"""`podbrief search` and `podbrief index` in a real subprocess, with the usearch index on disk."""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from core.db import create_engine, migrate, session_factory, sqlite_url_for, transaction
from core.embeddings import WordLlamaEmbedder
from core.models import InsightEmbedding
from tests.cli_process import PODBRIEF, clean_env
from tests.fakes.chat_library import INSIGHTS, build_library


async def _seed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    engine = create_engine(sqlite_url_for(data))
    await migrate(engine)
    sessions = session_factory(engine)
    lib = await build_library(sessions, datetime(2026, 12, 1, tzinfo=UTC))
    embedder = WordLlamaEmbedder()  # the command's embedder: its vectors are the ones indexed
    vectors = await embedder.embed([f"{row[1]}. {row[2]}" for row in INSIGHTS])
    async with transaction(sessions) as session:
        session.add_all(
            InsightEmbedding(insight_id=i, model=embedder.name, dim=256, vector=v.tobytes())
            for i, v in zip(lib.insight_ids, vectors, strict=True)
        )
    await engine.dispose()


async def _podbrief(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    process = await asyncio.create_subprocess_exec(
        str(PODBRIEF),
        *args,
        env={**clean_env(tmp_path), "PODBRIEF_EMBEDDER": "wordllama"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return subprocess.CompletedProcess(args, process.returncode or 0, out.decode(), err.decode())


async def test_search_prints_json_and_keeps_an_index_beside_the_database(tmp_path: Path) -> None:
    await _seed(tmp_path)
    done = await _podbrief(tmp_path, "search", "pricing -annual", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    headlines = [r["headline"] for r in answer["results"]]
    assert "Usage-based pricing beats per-seat pricing for AI products" in headlines
    assert not any("Annual" in h for h in headlines)
    assert answer["results"][0]["show"] == "The Pricing Pod"
    manifests = list((tmp_path / "data" / "vectors").glob("vectors-usearch-*.json"))
    assert len(manifests) == 1 and json.loads(manifests[0].read_text())["vectors"] == 9

    status = await _podbrief(tmp_path, "index", "status")
    assert json.loads(status.stdout)["vectors"] == 9
    rebuilt = await _podbrief(tmp_path, "index", "rebuild")
    assert json.loads(rebuilt.stdout)["kind"] == "usearch"


async def test_a_malformed_query_gets_a_plain_answer(tmp_path: Path) -> None:
    await _seed(tmp_path)
    bad = await _podbrief(tmp_path, "search", "pricing after:2026-99-01")
    assert bad.returncode == 2
    assert "after:2026-01-01" in bad.stderr and "Traceback" not in bad.stderr
    hostile = await _podbrief(tmp_path, "search", 'NEAR("pricing *) AND headline:')
    assert hostile.returncode == 0, hostile.stderr
    assert "Traceback" not in hostile.stderr
