"""How long linking one new episode's insights takes as the library grows, and the read.

Builds a SQLite library of N random (clustered) 256-d insight vectors, then times
``link_new_insights`` for a new episode of 10 insights (grouping, its top-10 edges, and updates
of existing lists) and the related-insights read the chat does, p50/p99 over ``--lookups``
random insights, beside its bound measured in the same run on the same file: the same SQL
(the app's statement, compiled) through sqlite3 alone. ``related_p99_ratio`` is app / bound.

    .venv/bin/python bench/related.py [--sizes 1000 10000 50000] [--lookups 2000]

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.db import create_engine, migrate, session_factory, transaction  # noqa: E402
from core.insights.related import link_new_insights, related_ids_query  # noqa: E402
from core.insights.service import related_ids  # noqa: E402
from core.models.feeds import Episode, Feed  # noqa: E402
from core.models.insights import Insight, InsightEmbedding, RelatedEdge  # noqa: E402

DIM, MODEL, FEEDS, EPISODES_PER_FEED = 256, "bench", 50, 20


def clustered(rng: np.random.Generator, n: int, centres: np.ndarray) -> np.ndarray:
    picks = centres[rng.integers(0, len(centres), n)]
    vectors = picks + 0.9 * rng.standard_normal((n, DIM)).astype(np.float32) / np.sqrt(DIM)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


async def build_library(url: str, size: int, rng: np.random.Generator, centres: np.ndarray):  # type: ignore[no-untyped-def]
    engine = create_engine(url)
    await migrate(engine)
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        await session.execute(insert(Feed), [{"id": f + 1, "url": f"f{f}"} for f in range(FEEDS)])
        await session.execute(
            insert(Episode),
            [
                {
                    "id": e + 1,
                    "feed_id": e // EPISODES_PER_FEED + 1,
                    "dedup_key": f"e{e}",
                    "title": "e",
                }
                for e in range(FEEDS * EPISODES_PER_FEED)
            ],
        )
        vectors = clustered(rng, size, centres)
        for start in range(0, size, 5000):
            ids = range(start + 1, min(size, start + 5000) + 1)
            await session.execute(
                insert(Insight),
                [
                    {
                        "id": i,
                        "episode_id": i % (FEEDS * EPISODES_PER_FEED) + 1,
                        "feed_id": (i % (FEEDS * EPISODES_PER_FEED)) // EPISODES_PER_FEED + 1,
                        "headline": "h",
                        "body": "b",
                        "quote": "q",
                        "start_seconds": 0.0,
                        "topics": [],
                        "group_id": i,
                    }
                    for i in ids
                ],
            )
            await session.execute(
                insert(InsightEmbedding),
                [
                    {
                        "insight_id": i,
                        "model": MODEL,
                        "dim": DIM,
                        "vector": vectors[i - 1].tobytes(),
                    }
                    for i in ids
                ],
            )
    return engine, sessions


WARMUP = 200  # lookups not timed: the first ones open connections and warm the caches


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
    }


async def time_side_by_side(sessions, path: Path, ids: list[int]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Each id read through the app (as the chat does it) and, as the bound, with the same SQL
    (the app's statement, compiled) on a plain sqlite3 connection; which of the two goes first
    alternates, so neither is the one that always finds the pages cached."""
    from sqlalchemy.dialects import sqlite

    compiled = related_ids_query().compile(dialect=sqlite.dialect())
    sql, names = str(compiled), list(compiled.positiontup or [])
    values = {**compiled.params, "limit": 5}
    conn = sqlite3.connect(path)
    app, bound = [], []
    try:
        for n, insight_id in enumerate(ids):
            params = [insight_id if name == "insight_id" else values[name] for name in names]
            for turn in (n % 2, 1 - n % 2):
                start = time.perf_counter()
                if turn == 0:
                    await related_ids(sessions, insight_id, limit=5)
                else:
                    conn.execute(sql, params).fetchall()
                if n >= WARMUP:
                    (app if turn == 0 else bound).append(time.perf_counter() - start)
    finally:
        conn.close()
    return with_bound(percentiles(app), percentiles(bound))


def with_bound(app: dict[str, float], bound: dict[str, float]) -> dict[str, float]:
    return {
        "related_p50_ms": app["p50_ms"],
        "related_p99_ms": app["p99_ms"],
        "bound_sql_p50_ms": bound["p50_ms"],
        "bound_sql_p99_ms": bound["p99_ms"],
        "related_p99_ratio": round(app["p99_ms"] / bound["p99_ms"], 2),
    }


async def time_one_size(size: int, lookups: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((200, DIM)).astype(np.float32) / np.sqrt(DIM)
    with tempfile.TemporaryDirectory() as tmp:
        engine, sessions = await build_library(f"sqlite:///{tmp}/bench.sqlite3", size, rng, centres)
        try:
            new = clustered(rng, 10, centres)
            async with transaction(sessions) as session:
                ids = list(range(size + 1, size + 11))
                await session.execute(
                    insert(Insight),
                    [
                        {
                            "id": i,
                            "episode_id": 1,
                            "feed_id": 1,
                            "headline": "h",
                            "body": "b",
                            "quote": "q",
                            "start_seconds": 0.0,
                            "topics": [],
                        }
                        for i in ids
                    ],
                )
                await session.execute(
                    insert(InsightEmbedding),
                    [
                        {"insight_id": i, "model": MODEL, "dim": DIM, "vector": v.tobytes()}
                        for i, v in zip(ids, new, strict=True)
                    ],
                )
                start = time.perf_counter()
                await link_new_insights(session, ids, MODEL)
                link_s = time.perf_counter() - start
            async with sessions() as session:  # insights with a related list (not all have one)
                linked = list(
                    (await session.execute(select(RelatedEdge.insight_id).distinct())).scalars()
                )
            rnd = random.Random(size)
            sample = [rnd.choice(linked) for _ in range(lookups + WARMUP)]
            read = await time_side_by_side(sessions, Path(tmp) / "bench.sqlite3", sample)
        finally:
            await engine.dispose()
    return {"library": size, "link_episode_s": round(link_s, 3), **read}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        results.append(await time_one_size(size, args.lookups))
        print(results[-1])
    print(
        json.dumps(
            {
                "new_insights_per_episode": 10,
                "dim": DIM,
                "load_avg_1m": round(os.getloadavg()[0], 2),
                "related_p99_ratio": max(r["related_p99_ratio"] for r in results),
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
