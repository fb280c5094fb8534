"""How long linking one new episode's insights takes as the library grows, and the read.

Builds a SQLite library of N random (clustered) 256-d insight vectors, then times
``link_new_insights`` for a new episode of 10 insights (grouping, its top-10 edges, and updates
of existing lists) and ``related_insights`` (the indexed read).

    .venv/bin/python bench/related.py [--sizes 1000 10000 50000]

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.db import create_engine, migrate, session_factory, transaction  # noqa: E402
from core.insights.related import link_new_insights  # noqa: E402
from core.insights.service import related_insights  # noqa: E402
from core.models.feeds import Episode, Feed  # noqa: E402
from core.models.insights import Insight, InsightEmbedding  # noqa: E402

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


async def time_one_size(size: int) -> dict[str, float]:
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
            start = time.perf_counter()
            for i in ids:
                await related_insights(sessions, i, limit=5)
            read_ms = (time.perf_counter() - start) / len(ids) * 1000
        finally:
            await engine.dispose()
    return {"library": size, "link_episode_s": round(link_s, 3), "read_ms": round(read_ms, 2)}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        results.append(await time_one_size(size))
        print(results[-1])
    print(json.dumps({"new_insights_per_episode": 10, "dim": DIM, "results": results}))


if __name__ == "__main__":
    asyncio.run(main())
