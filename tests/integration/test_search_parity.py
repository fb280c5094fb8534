"""The same library answers the same searches on SQLite and on PostgreSQL.

Both engines pick full-text candidates with their own rank (bm25, ts_rank_cd); candidates are
then ordered by a score both compute alike and fused with the same embedding neighbours. The
queries are real words of the library with fewer matches than the candidate window, where the
engines' different ranks cannot change which candidates are fused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import text

from bench.scale_data import insights as real_insights
from bench.scale_data import store_insights
from core.chat.search import search_insights
from core.db import create_engine, migrate, session_factory
from core.embeddings import WordLlamaEmbedder
from core.search.exact_index import ExactVectorIndexFactory
from core.search.service import TEXT_CANDIDATES
from core.search.vectors import VectorLibrary
from tests.fakes.clock import FakeClock

N = 1500


def queries(rows: list[str]) -> list[str]:
    rng = np.random.default_rng(3)
    words = sorted({w for r in rows for w in r.lower().split() if w.isalpha() and len(w) > 4})
    picked = [str(w) for w in rng.choice(words, size=30, replace=False)]
    pairs = [f"{a} {b}" for a, b in zip(picked[:10], picked[10:20], strict=True)]
    return [
        *picked,
        *pairs,
        f"{picked[0]} -{picked[1]}",
        f'"{rows[5].split()[1]} {rows[5].split()[2]}"',
        f"topic:security {picked[3]}",
        f"show:bites {picked[4]}",
        "topic:pricing after:2026-06-01",
        "show:changelog before:2025-03-01",
        "security -cloud",
    ]


async def answers(
    url: str, model: str, rows: object, vectors: np.ndarray, qs: list[str]
) -> dict[str, list[int]]:
    engine = create_engine(url)
    await migrate(engine)
    try:
        sessions = session_factory(engine)
        await store_insights(sessions, rows, vectors, model, shows=6)  # type: ignore[arg-type]
        embedder = WordLlamaEmbedder()
        library = VectorLibrary(sessions, ExactVectorIndexFactory(), model, FakeClock())
        out: dict[str, list[int]] = {}
        async with sessions() as session:
            for q in qs:
                out[q] = (
                    await search_insights(sessions, embedder, q, limit=10, library=library)
                ).insight_ids
            assert (await session.execute(text("SELECT count(*) FROM insights"))).scalar() == N
        return out
    finally:
        await engine.dispose()


async def test_sqlite_and_postgresql_answer_alike(postgres_schema_url: str, tmp_path: Path) -> None:
    rows, vectors = real_insights(N, seed=11)
    model = WordLlamaEmbedder().name  # the library's vectors live in WordLlama's space
    qs = queries([f"{r.headline} {r.body} {r.quote}" for r in rows])
    lite = await answers(f"sqlite:///{tmp_path / 'p.sqlite3'}", model, rows, vectors, qs)
    pg = await answers(postgres_schema_url, model, rows, vectors, qs)
    differ = {q: (lite[q], pg[q]) for q in qs if lite[q] != pg[q]}
    assert not differ
    assert sum(1 for q in qs if lite[q]) >= 30  # the queries do find things
    assert max(len(v) for v in lite.values()) <= TEXT_CANDIDATES
