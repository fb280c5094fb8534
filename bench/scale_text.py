"""Search over a kept scale library without its vector index: the full-text half at any size.

When a library's vector index is not built yet (a million insights on a loaded machine), this
still measures what grows with the library on the database side: the 200 mixed queries of
``bench/scale.py`` through the real search entry point without an embedder (full-text matches
and filters only; the embedding half is the index's, measured by ``bench/scale.py``). Prints
p50 / p99 and CPU per query (this process and its PostgreSQL backends), and the slowest
queries. Last line: one JSON object.

    python bench/scale_text.py SIZE DIR [--dbs sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.scale import QUERIES, _pg_url, cpu_seconds, mixed_queries
from bench.scale_data import insights
from core.chat.search import search_insights
from core.db import create_engine, session_factory


async def measure(db: str, size: int, keep: Path) -> dict[str, Any]:
    url = (
        f"sqlite:///{keep / f'scale-{size}.sqlite3'}"
        if db == "sqlite"
        else _pg_url(f"scale_bench_{size}")
    )
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        queries = mixed_queries(insights(min(size, 20_000), seed=1)[0], QUERIES)
        await search_insights(sessions, None, queries[0], limit=10)  # a pooled connection
        cpu = await cpu_seconds(sessions, db)
        ms = []
        for q in queries:
            t = time.perf_counter()
            await search_insights(sessions, None, q, limit=10)
            ms.append(1000 * (time.perf_counter() - t))
        slowest = sorted(zip(ms, queries, strict=True))[-5:]
        print(f"  {db} {size} slowest: " + "; ".join(f"{q} {m:.0f} ms" for m, q in slowest))
        used = (await cpu_seconds(sessions, db) - cpu) / len(queries)
        return {
            "db": db,
            "insights": size,
            "text_search_ms_p50": round(float(np.percentile(ms, 50)), 2),
            "text_search_ms_p99": round(float(np.percentile(ms, 99)), 2),
            "text_search_cpu_ms": round(1000 * used, 2),
            "load": os.getloadavg()[0],
        }
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", type=int)
    parser.add_argument("keep", type=Path)
    parser.add_argument("--dbs", default="sqlite,postgres")
    args = parser.parse_args()
    results = []
    for db in args.dbs.split(","):
        r = await measure(db, args.size, args.keep)
        print("  ".join(f"{k}={v}" for k, v in r.items()), flush=True)
        results.append(r)
    print(json.dumps({"results": results, "cpus": os.cpu_count()}))


if __name__ == "__main__":
    asyncio.run(main())
