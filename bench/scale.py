"""Search and related insights at 10,000 / 100,000 / 1,000,000 insights, SQLite and PostgreSQL.

Libraries of realistic insights (sentences of the real transcripts in ../shared/data, varied;
see bench/scale_data.py) are stored in bulk; then, per database and size:
- the vector index (usearch) is built from the database: time and size on disk;
- 20 new episodes of 10 insights are stored and linked one by one (catch-up + ANN neighbours +
  the edge rules, in the storing transaction): ms per episode;
- 200 mixed queries (words, pairs, "phrases", -exclusions, show:/topic:/after: filters) go
  through the real search entry point with WordLlama query embeddings: p50 / p99 ms;
- recall@10 of the ANN index against exact search on 1,000 query vectors.
Last line: one JSON object.

    python bench/scale.py [--sizes 10000,100000,1000000] [--dbs sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from adapters.vectors.usearch_index import UsearchIndexFactory
from bench.scale_data import TOPICS, insights, library_vectors, store_insights
from core.chat.search import search_insights
from core.clock import SystemClock
from core.db import create_engine, migrate, session_factory, transaction
from core.embeddings import WordLlamaEmbedder
from core.insights.related import link_new_insights
from core.models.feeds import Episode, Feed
from core.models.insights import Insight, InsightEmbedding, InsightTopic, RelatedEdge
from core.search.vectors import VectorLibrary

PG_URL = os.environ.get("PODBRIEF_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
EPISODES = 20
QUERIES = 200
RECALL_QUERIES = 1000


def mixed_queries(rows: list[Any], n: int) -> list[str]:
    rng = np.random.default_rng(5)
    words = sorted(
        {w for r in rows[:5000] for w in r.body.lower().split() if w.isalpha() and len(w) > 4}
    )
    out: list[str] = []
    for k in range(n):
        a, b = (str(w) for w in rng.choice(words, size=2))
        kind = k % 8
        if kind in (0, 1, 2):
            out.append(a)
        elif kind == 3:
            out.append(f"{a} {b}")
        elif kind == 4:
            r = rows[int(rng.integers(len(rows)))].headline.split()
            out.append(f'"{r[0]} {r[1]}"' if len(r) > 1 else a)
        elif kind == 5:
            out.append(f"{a} -{b}")
        elif kind == 6:
            out.append(f"topic:{TOPICS[k % len(TOPICS)]} {a}")
        else:
            out.append(f"show:bites {a} after:2025-06-01")
    return out


async def add_episode(
    sessions: Any, rows: list[Any], vectors: np.ndarray, model: str, library: VectorLibrary, n: int
) -> float:
    """Store one episode of 10 insights and link it, in one transaction (as ingest does)."""
    t = time.perf_counter()
    async with transaction(sessions) as session:
        feed_id = (
            await session.execute(
                insert(Feed)
                .values(
                    url=f"https://new{n}-{uuid.uuid4().hex[:6]}.example/f", title=f"New show {n}"
                )
                .returning(Feed.id)
            )
        ).scalar_one()
        episode_id = (
            await session.execute(
                insert(Episode)
                .values(feed_id=feed_id, dedup_key=f"new:{n}", title=f"New {n}")
                .returning(Episode.id)
            )
        ).scalar_one()
        ids = list(
            (
                await session.execute(
                    insert(Insight).returning(Insight.id, sort_by_parameter_order=True),
                    [
                        dict(
                            episode_id=episode_id,
                            feed_id=feed_id,
                            headline=r.headline,
                            body=r.body,
                            quote=r.quote,
                            start_seconds=0.0,
                            topics=r.topics,
                            score=0.5,
                        )
                        for r in rows
                    ],
                )
            ).scalars()
        )
        await session.execute(
            insert(InsightTopic),
            [
                {"insight_id": i, "topic": t}
                for i, r in zip(ids, rows, strict=True)
                for t in r.topics
            ],
        )
        await session.execute(
            insert(InsightEmbedding),
            [
                {"insight_id": i, "model": model, "dim": 256, "vector": v.tobytes()}
                for i, v in zip(ids, vectors, strict=True)
            ],
        )
        await link_new_insights(session, ids, model, library=library)
    return time.perf_counter() - t


async def seed_edges(sessions: Any, library: VectorLibrary, vectors: np.ndarray) -> None:
    """Give the bulk-loaded library the top-10 lists linking would have written (nearest 40 by
    the index, other shows first, cosine >= 0.2), so new episodes meet settled lists as in a
    real deployment. Ids are 1..N in storing order; episodes of 10, shows round-robin (50)."""
    n = len(vectors)
    episode = np.arange(n) // 10
    feed = episode % 50
    rows: list[dict[str, Any]] = []
    for start in range(0, n, 2000):
        found, sims = await library.neighbours(vectors[start : start + 2000], 41)
        for k in range(len(found)):
            me = start + k
            ok = (found[k] > 0) & (found[k] != me + 1) & (sims[k] >= 0.2)
            other = found[k][ok] - 1
            bonus = np.where(
                feed[other] != feed[me], 2.0, np.where(episode[other] != episode[me], 1.0, 0.0)
            )
            order = np.argsort(-(sims[k][ok] + bonus), kind="stable")[:10]
            rows += [
                {
                    "insight_id": me + 1,
                    "related_id": int(other[j]) + 1,
                    "rank": r,
                    "score": float(sims[k][ok][j]),
                }
                for r, j in enumerate(order)
            ]
        async with transaction(sessions) as session:
            await session.execute(insert(RelatedEdge.__table__), rows)  # type: ignore[arg-type]
        rows = []


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


async def one(db: str, size: int, tmp: Path) -> dict[str, Any]:
    model = WordLlamaEmbedder().name
    schema = None
    if db == "sqlite":
        url = f"sqlite:///{tmp / f'scale-{size}.sqlite3'}"
    else:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    engine = create_engine(url)
    try:
        await migrate(engine)
        sessions = session_factory(engine)
        rows, vectors = insights(size, seed=1)
        t = time.perf_counter()
        await store_insights(sessions, rows, vectors, model)
        load_s = time.perf_counter() - t
        library = VectorLibrary(
            sessions,
            UsearchIndexFactory(),
            model,
            SystemClock(),
            directory=tmp / f"vectors-{db}-{size}",
        )
        t = time.perf_counter()
        await library.open()
        build_s = time.perf_counter() - t
        await library.close()
        index_mb = dir_size(tmp / f"vectors-{db}-{size}") / 1e6
        t = time.perf_counter()
        await seed_edges(sessions, library, vectors)
        seed_s = time.perf_counter() - t
        new_rows, new_vectors = insights(EPISODES * 10, seed=99)
        link_ms = [
            1000
            * await add_episode(
                sessions,
                new_rows[k * 10 : (k + 1) * 10],
                new_vectors[k * 10 : (k + 1) * 10],
                model,
                library,
                k,
            )
            for k in range(EPISODES)
        ]
        embedder = WordLlamaEmbedder()
        await embedder.embed(["warm up"])
        search_ms = []
        for q in mixed_queries(rows, QUERIES):
            t = time.perf_counter()
            await search_insights(sessions, embedder, q, limit=10, library=library)
            search_ms.append(1000 * (time.perf_counter() - t))
        queries = library_vectors(RECALL_QUERIES, seed=1234)
        found, _ = await library.neighbours(queries, 10)
        all_vectors = np.concatenate([vectors, new_vectors])
        all_ids = np.arange(1, len(all_vectors) + 1)  # ids in storing order from 1
        hits = 0
        for start in range(0, RECALL_QUERIES, 100):
            sims = queries[start : start + 100] @ all_vectors.T
            top = np.argpartition(-sims, 10, axis=1)[:, :10]
            for row, exact in enumerate(all_ids[top]):
                hits += len(set(exact.tolist()) & set(found[start + row].tolist()))
        return {
            "db": db,
            "insights": size,
            "load_s": round(load_s, 1),
            "index_build_s": round(build_s, 2),
            "seed_edges_s": round(seed_s, 1),
            "index_mb": round(index_mb, 1),
            "link_ms_p50": round(float(np.percentile(link_ms, 50)), 1),
            "link_ms_max": round(float(np.max(link_ms)), 1),
            "search_ms_p50": round(float(np.percentile(search_ms, 50)), 2),
            "search_ms_p99": round(float(np.percentile(search_ms, 99)), 2),
            "recall_at_10": round(hits / (10 * RECALL_QUERIES), 4),
        }
    finally:
        await engine.dispose()
        if schema:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--dbs", default="sqlite,postgres")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            for db in args.dbs.split(","):
                r = await one(db, size, Path(tmp))
                print("  ".join(f"{k}={v}" for k, v in r.items()), flush=True)
                results.append(r)
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    asyncio.run(main())
