"""Benchmark: every user's brief, and related-insight lookups in a large library.

1. 100,000 synthetic users with varied preferences (followed/muted topics and shows, "less
   about", likes with related neighbours, up to 60 already received) over 20,000 insights: the
   seconds to rank every user's brief with ``core.brief.rank.Ranker`` (the code ``compose_brief``
   runs), on 2 worker processes, and the peak memory. Every brief is checked: 5 items, nothing
   muted or already received, no two from one episode or one near-duplicate group.
2. A SQLite library of 1,000,000 insights x 10 related edges built with the real schema
   (migrations): p50/p99 of one related-insights lookup through the app as the chat does it
   (``core.insights.service.related_ids``), beside its bound in the same run: the same SQL
   on sqlite3 alone; ``related_p99_ratio`` is app / bound (target at most 2).

Usage: .venv/bin/python bench/brief.py [--users N] [--insights N] [--library N] [--workers N]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.brief.rank import CandidateRow, Candidates, Ranker
from core.db import create_engine, run_sync_migrations
from core.people.users import UserProfile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from related import WARMUP, time_side_by_side

NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
BRIEF = 5

# Set before the worker processes fork, so they share it copy-on-write instead of pickling it.
_STATE: dict[str, object] = {}


def make_insights(n: int, topics: int, feeds: int, seed: int) -> list[CandidateRow]:
    """Insights of ~5 per episode, Zipf-popular topics, a week of ages, some near-duplicates."""
    rng = np.random.default_rng(seed)
    names = [f"topic{t}" for t in range(topics)]
    popularity = 1.0 / np.arange(1, topics + 1)
    popularity /= popularity.sum()
    rows = []
    for i in range(n):
        k = int(rng.integers(1, 5))
        tags = rng.choice(topics, size=k, replace=False, p=popularity)
        age_h = float(rng.uniform(0, 24 * 7))
        duplicate = i > 10 and rng.random() < 0.05
        rows.append(
            CandidateRow(
                id=i + 1,
                episode_id=i // 5 + 1,
                feed_id=(i // 5) % feeds + 1,
                score=float(rng.beta(2, 3)),
                created_at=NOW - timedelta(hours=age_h),
                topics=tuple(names[t] for t in tags),
                group_id=int(rng.integers(1, i)) if duplicate else None,
                is_older=age_h > 48,
            )
        )
    return rows


def make_profiles(
    rows: Sequence[CandidateRow], users: int, topics: int, feeds: int, seed: int
) -> list[UserProfile]:
    rnd = random.Random(seed)
    names = [f"topic{t}" for t in range(topics)]
    weights = [1.0 / (t + 1) for t in range(topics)]
    profiles: list[UserProfile] = []
    for u in range(users):
        if u % 4 == 0:  # a quarter are new users with no preferences at all
            profiles.append(UserProfile(user_id=u))
            continue
        liked = rnd.sample(rows, rnd.randint(0, 6))
        received = rnd.sample(rows, rnd.randint(0, 60))
        liked_topics: dict[str, int] = {}
        for row in liked:
            for t in row.topics:
                liked_topics[t] = liked_topics.get(t, 0) + 1
        profiles.append(
            UserProfile(
                user_id=u,
                followed_topics=frozenset(rnd.choices(names, weights, k=rnd.randint(0, 6))),
                muted_topics=frozenset(rnd.choices(names, weights, k=rnd.randint(0, 2))),
                less_about_topics=frozenset(rnd.choices(names, weights, k=rnd.randint(0, 2))),
                followed_feeds=frozenset(rnd.sample(range(1, feeds + 1), rnd.randint(0, 3))),
                liked_topics=liked_topics,
                similar_to_liked={
                    rnd.randint(1, len(rows)): rnd.uniform(0.2, 0.9) for _ in range(10 * len(liked))
                },
                received_ids=frozenset(r.id for r in received),
                received_groups=frozenset(
                    r.group_id if r.group_id is not None else r.id for r in received
                ),
            )
        )
    return profiles


def _rank_range(bounds: tuple[int, int]) -> np.ndarray:
    """Rank users [start, stop) with the shared ranker; one row of row indices per user."""
    ranker = _STATE["ranker"]
    profiles = _STATE["profiles"]
    assert isinstance(ranker, Ranker) and isinstance(profiles, list)
    out = np.full((bounds[1] - bounds[0], BRIEF), -1, dtype=np.int64)
    for n, u in enumerate(range(*bounds)):
        picks = ranker.pick(profiles[u], BRIEF)
        out[n, : len(picks)] = picks
    return out


def count_violations(c: Candidates, profiles: list[UserProfile], picks: np.ndarray) -> int:
    """Briefs breaking a rule: short, muted, already received, same episode or group twice."""
    bad = 0
    for p, row in zip(profiles, picks, strict=True):
        chosen = row[row >= 0]
        muted = [c.topic_postings[t] for t in p.muted_topics if t in c.topic_postings]
        broken = (
            len(chosen) != BRIEF
            or (bool(muted) and bool(np.isin(chosen, np.concatenate(muted)).any()))
            or any(int(c.ids[i]) in p.received_ids for i in chosen)
            or any(int(c.groups[i]) in p.received_groups for i in chosen)
            or len(set(c.episodes[chosen].tolist())) != len(chosen)
            or len(set(c.groups[chosen].tolist())) != len(chosen)
        )
        bad += int(broken)
    return bad


def time_briefs(
    rows: list[CandidateRow], profiles: list[UserProfile], workers: int
) -> dict[str, float]:
    start = time.perf_counter()
    ranker = Ranker(Candidates.build(rows), NOW)
    prepare = time.perf_counter() - start
    _STATE.update(ranker=ranker, profiles=profiles)
    n = len(profiles)
    chunks = [(s, min(s + 2000, n)) for s in range(0, n, 2000)]
    start = time.perf_counter()
    with mp.get_context("fork").Pool(workers) as pool:
        picks = np.concatenate(pool.map(_rank_range, chunks, chunksize=1))
    ranking = time.perf_counter() - start
    one_core_users = min(n, 10_000)
    start = time.perf_counter()
    _rank_range((0, one_core_users))
    one_core = time.perf_counter() - start
    return {
        "prepare_s": round(prepare, 3),
        "rank_all_s": round(ranking, 2),
        "total_s": round(prepare + ranking, 2),
        "briefs": int(picks.shape[0]),
        "violations": count_violations(ranker.c, profiles, picks),
        "one_core_us_per_user": round(one_core / one_core_users * 1e6, 1),
    }


def build_library(path: Path, insights: int, edges: int, seed: int) -> dict[str, float]:
    """The real schema (migrations), then bulk rows through sqlite3 for speed."""
    start = time.perf_counter()
    run_sync_migrations(f"sqlite:///{path}")
    conn = sqlite3.connect(path)
    conn.executescript(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-400000;"
    )
    created = NOW.isoformat(sep=" ")
    episodes = insights // 10
    conn.executemany(
        "INSERT INTO feeds (id, url, title, error_count, created_at) VALUES (?, ?, ?, 0, ?)",
        ((f, f"https://example.org/{f}.xml", f"Show {f}", created) for f in range(1, 101)),
    )
    conn.executemany(
        "INSERT INTO episodes (id, feed_id, dedup_key, title, persons, transcript_status,"
        " insight_status, created_at) VALUES (?, ?, ?, ?, '[]', 'fetched', 'done', ?)",
        ((e, e % 100 + 1, f"guid:{e}", f"Episode {e}", created) for e in range(1, episodes + 1)),
    )
    conn.executemany(
        "INSERT INTO insights (id, episode_id, feed_id, headline, body, quote, speaker,"
        " start_seconds, topics, score, extractor, created_at)"
        " VALUES (?, ?, ?, ?, 'body', 'quote', 'Host', 1.0, '[]', 0.5, 'offline', ?)",
        (
            (i, (i - 1) // 10 + 1, ((i - 1) // 10 + 1) % 100 + 1, f"Insight {i}", created)
            for i in range(1, insights + 1)
        ),
    )
    conn.commit()
    rng = np.random.default_rng(seed)
    step = rng.integers(1, insights // (edges + 1), size=insights)  # distinct, non-self targets
    for lo in range(0, insights, 100_000):
        hi = min(lo + 100_000, insights)
        ids = np.arange(lo, hi)
        ranks = np.arange(1, edges + 1)
        related = (ids[:, None] + step[lo:hi, None] * ranks[None, :]) % insights + 1
        scores = 0.9 - ranks * 0.05
        conn.executemany(
            "INSERT INTO related_edges (insight_id, related_id, rank, score) VALUES (?, ?, ?, ?)",
            (
                (int(ids[r]) + 1, int(related[r, k]), k + 1, float(scores[k]))
                for r in range(hi - lo)
                for k in range(edges)
            ),
        )
        conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return {"build_s": round(time.perf_counter() - start, 1), "db_mb": path.stat().st_size >> 20}


async def time_lookups(path: Path, insights: int, samples: int, seed: int) -> dict[str, float]:
    """The related read the chat does, through the app, then its bound: the same SQL on
    sqlite3 alone, over the same random insights."""
    from core.db import session_factory

    rnd = random.Random(seed)
    ids = [rnd.randint(1, insights) for _ in range(samples + WARMUP)]
    engine = create_engine(f"sqlite:///{path}")
    try:
        return await time_side_by_side(session_factory(engine), path, ids)
    finally:
        await engine.dispose()


def peak_mb() -> dict[str, float]:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "peak_rss_mb": round(self_kb / 1024, 1),
        "worker_peak_rss_mb": round(child_kb / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--insights", type=int, default=20_000)
    parser.add_argument("--topics", type=int, default=300)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--library", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=10)
    parser.add_argument("--lookups", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    start = time.perf_counter()
    rows = make_insights(args.insights, args.topics, args.feeds, args.seed)
    profiles = make_profiles(rows, args.users, args.topics, args.feeds, args.seed)
    took = time.perf_counter() - start
    print(f"generated {len(rows)} insights, {len(profiles)} users in {took:.1f}s")
    data_mb = peak_mb()["peak_rss_mb"]  # the synthetic insights and profiles alone
    briefs = time_briefs(rows, profiles, args.workers)
    memory = {**peak_mb(), "rss_before_ranking_mb": data_mb}
    print(f"briefs: {briefs} memory: {memory}")
    # The lookups run as in a bot process, without 100,000 synthetic profiles on the heap
    # (whose garbage-collector passes would otherwise land in the latency tail).
    _STATE.clear()
    del rows, profiles
    gc.collect()
    with tempfile.TemporaryDirectory(prefix="podbrief-bench-") as tmp:
        path = Path(tmp) / "library.sqlite3"
        built = build_library(path, args.library, args.edges, args.seed)
        print(f"library: {built}")
        lookups = asyncio.run(time_lookups(path, args.library, args.lookups, args.seed))
        print(f"lookups (through the app, and the same SQL on sqlite3 alone): {lookups}")
    result = {
        "users": args.users,
        "insights": args.insights,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "brief_seconds": briefs["total_s"],
        "brief_target_met": briefs["total_s"] < 60,
        **{f"brief_{k}": v for k, v in briefs.items() if k != "total_s"},
        **memory,
        "library_insights": args.library,
        "edges_per_insight": args.edges,
        "library_build_s": built["build_s"],
        "library_db_mb": built["db_mb"],
        "related_lookups": args.lookups,
        **lookups,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "related_target_met": lookups["related_p99_ratio"] <= 2,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
