"""Search and related insights at 10,000 / 100,000 / 1,000,000 insights, SQLite and PostgreSQL.

Libraries of realistic insights (sentences of the real transcripts in ../shared/data, varied;
see bench/scale_data.py) are stored in bulk; then, per database and size:
- the vector index (usearch) is built from the database: time and size on disk;
- 20 new episodes of 10 insights are stored and linked one by one, in one transaction each:
  ms per episode of linking (index catch-up + ANN neighbours + the edge rules + the commit)
  and, apart, of storing the episode's rows before it;
- 200 mixed queries (words, pairs, "phrases", -exclusions, show:/topic:/after: filters) go
  through the real search entry point with WordLlama query embeddings: p50 / p99 ms;
- recall@10 of the ANN index against exact search on 1,000 query vectors.
Beside linking and search it prints the engine alone (bench/scale_bound.py): the statements the
application sent (linking's, after the stored rows they read), replayed on sqlite3 / sync
psycopg, plus its usearch searches; the ratios are
``link_ratio`` (CPU), ``search_p99_ratio`` and ``search_cpu_ratio``, and the five slowest queries.
On PostgreSQL the library's tables and the system catalogs are vacuumed before measuring.
Last line: one JSON object.

    python bench/scale.py [--sizes 10000,100000,1000000] [--dbs sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import func, insert, select, text
from usearch.index import Index

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from adapters.vectors.usearch_index import DTYPE, UsearchIndexFactory
from bench.scale_bound import RawReplay, Recorded, Recorder
from bench.scale_data import TOPICS, insights, library_vectors
from bench.scale_load import load_edges_postgres, load_edges_sqlite, load_postgres, load_sqlite
from core.chat.search import search_insights
from core.clock import SystemClock
from core.db import create_engine, migrate, session_factory, transaction
from core.embeddings import WordLlamaEmbedder
from core.insights.related import link_new_insights
from core.models.feeds import Episode, Feed
from core.models.insights import Insight, InsightEmbedding, InsightTopic
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


class _RolledBack(Exception):
    """Raised inside an episode's transaction to undo it (a run recorded for the bound)."""


@dataclass
class EpisodeRun:
    """One episode stored and linked in one transaction, its two parts timed apart: storing
    (the episode's rows, what ingest writes) and linking (``link_new_insights`` and the
    commit, which writes the edges' pages). CPU includes PostgreSQL's backends."""

    store_s: float = 0.0
    store_cpu: float = 0.0
    link_s: float = 0.0
    link_cpu: float = 0.0
    # With a recorder: what was sent, and from which statement on it was linking's.
    work: Recorded | None = None
    link_from: int = 0


async def add_episode(
    sessions: Any,
    rows: list[Any],
    vectors: np.ndarray,
    model: str,
    library: VectorLibrary,
    n: int,
    db: str,
    *,
    rollback: bool = False,
    recorder: Recorder | None = None,
) -> EpisodeRun:
    """Store one episode of 10 insights and link it, in one transaction (as ingest does);
    with ``rollback`` undone at the end instead of committed."""
    run = EpisodeRun()
    with contextlib.ExitStack() as stack:
        if recorder is not None:
            run.work = stack.enter_context(recorder.recording())
        with contextlib.suppress(_RolledBack):
            await _store_and_link(sessions, rows, vectors, model, library, n, db, rollback, run)
    return run


async def _store_and_link(
    sessions: Any,
    rows: list[Any],
    vectors: np.ndarray,
    model: str,
    library: VectorLibrary,
    n: int,
    db: str,
    rollback: bool,
    run: EpisodeRun,
) -> None:
    async def used() -> float:  # not while recording: its own query would be recorded
        return 0.0 if run.work is not None else await cpu_seconds(sessions, db)

    cpu = await used()
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
        run.store_s = time.perf_counter() - t
        run.store_cpu = await used() - cpu
        cpu = await used()
        t = time.perf_counter()
        run.link_from = len(run.work.statements) if run.work is not None else 0
        await link_new_insights(session, ids, model, library=library)
        if rollback:
            raise _RolledBack
    run.link_s = time.perf_counter() - t
    run.link_cpu = await used() - cpu


def seed_edges(directory: Path, vectors: np.ndarray) -> np.ndarray:
    """The top-10 lists linking would have written for the bulk-loaded library (nearest 40 by
    the index, other shows first, cosine >= 0.2), so new episodes meet settled lists as in a
    real deployment: (insight_id, related_id, rank, score) rows, computed block by block with
    numpy. Ids are 1..N in storing order; episodes of 10, shows round-robin (50). The saved
    index is searched with a smaller beam (ef 48 instead of 128): a million queries at the
    application's beam would take longer than everything else in the build."""
    manifest = json.loads(next(directory.glob("vectors-*.json")).read_text())
    index = Index.restore(str(directory / manifest["file"]), view=True)
    index.expansion_search = 48
    n = len(vectors)
    episode = np.arange(n) // 10
    feed = episode % 50
    blocks = []
    for start in range(0, n, 20_000):
        matches: Any = index.search(vectors[start : start + 20_000], 41)
        found = np.asarray(matches.keys).astype(np.int64)
        sims = (1.0 - np.asarray(matches.distances)).astype(np.float32)
        found[np.arange(found.shape[1])[None, :] >= np.asarray(matches.counts)[:, None]] = 0
        me = np.arange(start, start + len(found))[:, None]
        other = found - 1
        ok = (found > 0) & (other != me) & (sims >= 0.2)
        safe = np.where(ok, other, 0)
        bonus = np.where(
            feed[safe] != feed[me], 2.0, np.where(episode[safe] != episode[me], 1.0, 0.0)
        )
        keys = np.where(ok, sims + bonus, -np.inf)
        order = np.argsort(-keys, axis=1, kind="stable")[:, :10]
        kept = np.isfinite(np.take_along_axis(keys, order, axis=1))
        rank = np.broadcast_to(np.arange(order.shape[1]), order.shape)
        block = np.stack(
            [
                np.broadcast_to(me + 1, order.shape)[kept],
                np.take_along_axis(found, order, axis=1)[kept],
                rank[kept],
                np.round(np.take_along_axis(sims, order, axis=1)[kept].astype(np.float64), 6),
            ],
            axis=1,
        )
        blocks.append(block)
    return np.concatenate(blocks)


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _pg_url(schema: str) -> str:
    return f"{PG_URL}?options=-csearch_path%3D{schema}&application_name={APP}"


APP = f"scale-bench-{os.getpid()}"


async def cpu_seconds(sessions: Any, db: str) -> float:
    """CPU used so far by this process (every thread) and, on PostgreSQL, by the server
    backends serving it (same machine: read from /proc), so a figure does not depend on how
    long the process waited for a core on a shared machine."""
    used = time.process_time()
    if db == "postgres":
        async with sessions() as session:
            pids = (
                await session.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE application_name = :app"),
                    {"app": APP},
                )
            ).scalars()
            used += sum(_proc_cpu(pid) for pid in pids)
    return used


def _proc_cpu(pid: int) -> float:
    """utime + stime of a process, in seconds (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:  # a tiny /proc read: no need for a thread
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def build(db: str, size: int, keep: Path) -> dict[str, Any]:
    """Store the library, build its index and seed its lists, once: kept in ``keep`` (and a
    PostgreSQL schema named after the size) so linking and search can be measured again.
    Each step notes its figures when done, so an interrupted build resumes at the next step.
    The index is built by the application's own path (``VectorLibrary.open`` reading the
    database); PostgreSQL reuses a SQLite build's index file and lists of the same size (same
    vectors, same ids), as a second worker would copy a first one's file."""
    marker = keep / f"built-{db}-{size}.json"
    if marker.exists():
        built: dict[str, Any] = json.loads(marker.read_text())
        return built
    steps = keep / f"building-{db}-{size}.json"
    done: dict[str, Any] = json.loads(steps.read_text()) if steps.exists() else {}
    steps.write_text(json.dumps(done))  # says "being built" to a build of the other database
    model = WordLlamaEmbedder().name
    directory = keep / f"vectors-{db}-{size}"
    sqlite_path = keep / f"scale-{size}.sqlite3"
    url = f"sqlite:///{sqlite_path}" if db == "sqlite" else _pg_url(f"scale_bench_{size}")
    if "load_s" not in done:
        if db == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                sqlite_path.with_name(sqlite_path.name + suffix).unlink(missing_ok=True)
        else:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "scale_bench_{size}" CASCADE')
                conn.execute(f'CREATE SCHEMA "scale_bench_{size}"')
        shutil.rmtree(directory, ignore_errors=True)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        rows, vectors = insights(size, seed=1)
        if "load_s" not in done:
            await migrate(engine)
            await engine.dispose()
            t = time.perf_counter()
            if db == "sqlite":
                await asyncio.to_thread(load_sqlite, sqlite_path, rows, vectors, model)
            else:
                await asyncio.to_thread(load_postgres, _pg_url(f"scale_bench_{size}"), rows,
                                        vectors, model)  # fmt: skip
            done["load_s"] = round(time.perf_counter() - t, 1)
            steps.write_text(json.dumps(done))
            print(f"  {db} {size}: loaded in {done['load_s']} s", flush=True)
        del rows
        shared = keep / f"vectors-sqlite-{size}"
        while db == "postgres" and "index_build_s" not in done and not marker.exists():
            # A SQLite build of the same size in another process: its index will do.
            if (
                not (keep / f"building-sqlite-{size}.json").exists()
                or (shared / ".complete").exists()
            ):
                break
            await asyncio.sleep(10)
        if db == "postgres" and "index_build_s" not in done and (shared / ".complete").exists():
            shutil.copytree(shared, directory, dirs_exist_ok=True)
            done |= {"index_build_s": "SQLite's file", "index_mb": round(dir_size(shared) / 1e6, 1)}
        # bench/scale_index.py making this index from the known vectors: wait for it rather
        # than make the same index again beside it (each at half the speed).
        await _wait_while_made(directory, directory / ".complete")
        library = VectorLibrary(
            sessions, UsearchIndexFactory(), model, SystemClock(), directory=directory
        )
        t = time.perf_counter()
        cpu = time.process_time()
        await library.open()
        if "index_build_s" not in done:
            done["index_build_s"] = round(time.perf_counter() - t, 1)
            done["index_build_cpu_s"] = round(time.process_time() - cpu, 1)
            await library.close()
            (directory / ".complete").touch()
            done["index_mb"] = round(dir_size(directory) / 1e6, 1)
            steps.write_text(json.dumps(done))
            print(f"  {db} {size}: index in {done['index_build_s']} s", flush=True)
        t = time.perf_counter()
        edges_file = keep / f"edges-{size}.npy"
        await _wait_while_made(directory, edges_file)  # bench/scale_index.py computing them
        while db == "postgres" and not edges_file.exists():
            if (keep / f"built-sqlite-{size}.json").exists() or not (
                keep / f"building-sqlite-{size}.json"
            ).exists():
                break
            await asyncio.sleep(10)  # the SQLite build in another process is computing them
        if edges_file.exists():
            edges = np.load(edges_file)
        else:
            edges = await asyncio.to_thread(seed_edges, directory, vectors)
            np.save(keep / "edges.tmp.npy", edges)
            (keep / "edges.tmp.npy").replace(edges_file)
        blocks = (edges[k : k + 1_000_000] for k in range(0, len(edges), 1_000_000))
        if db == "sqlite":
            await asyncio.to_thread(load_edges_sqlite, sqlite_path, blocks)
        else:
            # VACUUM ANALYZE after: what autovacuum does for a live database in time; without
            # statistics a frequent word's search plan reads every match.
            await asyncio.to_thread(load_edges_postgres, _pg_url(f"scale_bench_{size}"), blocks)
        done["seed_edges_s"] = round(time.perf_counter() - t, 1)
    finally:
        await engine.dispose()
    done["build_load"] = os.getloadavg()[0]
    marker.write_text(json.dumps(done))
    return done


async def _wait_while_made(directory: Path, made: Path) -> None:
    """Until ``made`` exists, if bench/scale_index.py is making this library's index and lists
    (it says so in the SQLite index directory, which a PostgreSQL build copies)."""
    building = directory.parent / directory.name.replace("-postgres-", "-sqlite-") / ".building"
    while True:
        made_now, still_building = _exist(made, building)
        if made_now or not still_building:
            return
        await asyncio.sleep(10)


def _exist(*paths: Path) -> list[bool]:
    return [p.exists() for p in paths]


def vacuum_schema(url: str) -> None:
    """VACUUM ANALYZE the library's tables and the system catalogs before measuring: what
    autovacuum does for a live database. Where the server's autovacuum is off, as on this
    test machine, dead rows pile up: every bench run leaves some (its rolled-back episodes,
    the lists it re-ranks), and the test suite's thousands of made and dropped tables left
    pg_attribute with 600,000 dead rows beside 5,600 live ones, so that planning each search
    read hundreds of catalog pages (at 10,000 insights linking took 150 instead of 65 ms, a
    search 35 instead of 10 ms of CPU)."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
            "WHERE schemaname IN (current_schema(), 'pg_catalog')"
        ).fetchall()
        for (table,) in tables:
            conn.execute(f"VACUUM (ANALYZE) {table}")


async def measure(db: str, size: int, keep: Path) -> dict[str, Any]:
    """Link new episodes and search the kept library; recall against exact search over every
    vector stored (a kept library grows by the episodes of earlier runs)."""
    model = WordLlamaEmbedder().name
    if db == "sqlite":
        url = f"sqlite:///{keep / f'scale-{size}.sqlite3'}"
    else:
        url = _pg_url(f"scale_bench_{size}")
        await asyncio.to_thread(vacuum_schema, url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        library = VectorLibrary(
            sessions,
            UsearchIndexFactory(),
            model,
            SystemClock(),
            directory=keep / f"vectors-{db}-{size}",
        )
        t = time.perf_counter()
        await library.open()
        open_s = time.perf_counter() - t
        async with sessions() as session:
            runs = int(
                await session.scalar(
                    select(func.count()).select_from(Feed).where(Feed.title.like("New show%"))
                )
                or 0
            )
        new_rows, new_vectors = insights(EPISODES * 10, seed=99 + runs)
        recorder = Recorder(engine, library)
        raw = RawReplay(db, str(keep / f"scale-{size}.sqlite3") if db == "sqlite" else url, library)
        link_ms, link_cpus, bound_ms, bound_cpus = [], [], [], []
        store_ms, store_cpus = [], []
        for k in range(EPISODES):
            episode = (
                sessions, new_rows[k * 10 : (k + 1) * 10], new_vectors[k * 10 : (k + 1) * 10],
                model, library, runs + k, db,
            )  # fmt: skip
            # The previous episode's vectors join the index here, timed as part of this
            # link (where they would join it), so the recorded run below is like the real one.
            cpu = await cpu_seconds(sessions, db)
            t = time.perf_counter()
            await library.catch_up()
            catch_up_s = time.perf_counter() - t
            catch_up_cpu = await cpu_seconds(sessions, db) - cpu
            sequences = raw.sequences()
            recorded = await add_episode(*episode, rollback=True, recorder=recorder)
            raw.set_sequences(sequences)
            assert recorded.work is not None
            wall, used = raw.run(recorded.work, writes=True, timed_from=recorded.link_from)
            raw.set_sequences(sequences)
            bound_ms.append(1000 * (wall + catch_up_s))
            bound_cpus.append(used + catch_up_cpu)
            done = await add_episode(*episode)
            link_ms.append(1000 * (done.link_s + catch_up_s))
            link_cpus.append(done.link_cpu + catch_up_cpu)
            store_ms.append(1000 * done.store_s)
            store_cpus.append(done.store_cpu)
        link_cpu = float(np.mean(link_cpus))
        embedder = WordLlamaEmbedder()
        await embedder.embed(["warm up"])
        search_ms, search_bound_ms, search_bound_cpus = [], [], []
        queries_text = mixed_queries(insights(min(size, 20_000), seed=1)[0], QUERIES)
        # CPU over the whole loop (the raw connection's backend included), less the replays'.
        cpu = await cpu_seconds(sessions, db)
        for q in queries_text:
            t = time.perf_counter()
            with recorder.recording() as work:
                await search_insights(sessions, embedder, q, limit=10, library=library)
            search_ms.append(1000 * (time.perf_counter() - t))
            wall, used = raw.run(work, writes=False, timed_from=0)
            search_bound_ms.append(1000 * wall)
            search_bound_cpus.append(used)
        search_cpu = (await cpu_seconds(sessions, db) - cpu - sum(search_bound_cpus)) / QUERIES
        raw.close()
        slowest = sorted(zip(search_ms, queries_text, strict=True), reverse=True)[:5]
        print(f"  {db} {size}: slowest queries: "
              + "; ".join(f"{q!r} {ms:.0f} ms" for ms, q in slowest), flush=True)  # fmt: skip
        queries = library_vectors(RECALL_QUERIES, seed=1234)
        found, _ = await library.neighbours(queries, 10)
        exact = await exact_top10(sessions, model, queries)
        hits = sum(
            len(set(e.tolist()) & set(f.tolist())) for e, f in zip(exact, found, strict=True)
        )
        await library.close()
        return {
            "db": db,
            "insights": size,
            "link_ms_p50": round(float(np.percentile(link_ms, 50)), 1),
            "link_ms_max": round(float(np.max(link_ms)), 1),
            "link_cpu_ms": round(1000 * link_cpu, 1),
            "search_ms_p50": round(float(np.percentile(search_ms, 50)), 2),
            "search_ms_p99": round(float(np.percentile(search_ms, 99)), 2),
            "search_cpu_ms": round(1000 * search_cpu, 2),
            "store_ms_p50": round(float(np.percentile(store_ms, 50)), 1),
            "store_cpu_ms": round(1000 * float(np.mean(store_cpus)), 1),
            "link_bound_ms_p50": round(float(np.percentile(bound_ms, 50)), 1),
            "link_bound_cpu_ms": round(1000 * float(np.mean(bound_cpus)), 1),
            "link_ratio": round(link_cpu / float(np.mean(bound_cpus)), 2),
            "search_bound_ms_p50": round(float(np.percentile(search_bound_ms, 50)), 2),
            "search_bound_ms_p99": round(float(np.percentile(search_bound_ms, 99)), 2),
            "search_bound_cpu_ms": round(1000 * float(np.mean(search_bound_cpus)), 2),
            "search_p99_ratio": round(
                float(np.percentile(search_ms, 99) / np.percentile(search_bound_ms, 99)), 2
            ),
            "search_cpu_ratio": round(search_cpu / float(np.mean(search_bound_cpus)), 2),
            "recall_at_10": round(hits / (10 * RECALL_QUERIES), 4),
            "index_precision": DTYPE,
            "index_open_s": round(open_s, 2),
            "load": os.getloadavg()[0],
        }
    finally:
        await engine.dispose()


async def exact_top10(sessions: Any, model: str, queries: np.ndarray) -> np.ndarray:
    """Exact top 10 ids of each query over every stored vector of ``model``, page by page."""
    best_ids = np.full((len(queries), 0), -1, dtype=np.int64)
    best_sims = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    after = 0
    while True:
        async with sessions() as session:
            page = (
                await session.execute(
                    select(
                        InsightEmbedding.id, InsightEmbedding.insight_id, InsightEmbedding.vector
                    )
                    .where(InsightEmbedding.model == model, InsightEmbedding.id > after)
                    .order_by(InsightEmbedding.id)
                    .limit(100_000)
                )
            ).all()
        if not page:
            return best_ids
        after = page[-1][0]
        ids = np.array([r[1] for r in page], dtype=np.int64)
        vectors = np.frombuffer(b"".join(r[2] for r in page), dtype=np.float32).reshape(
            len(page), -1
        )
        sims = np.concatenate([best_sims, queries @ vectors.T], axis=1)
        all_ids = np.concatenate([best_ids, np.broadcast_to(ids, (len(queries), len(ids)))], axis=1)
        top = np.argpartition(-sims, 10, axis=1)[:, :10]
        best_sims = np.take_along_axis(sims, top, axis=1)
        best_ids = np.take_along_axis(all_ids, top, axis=1)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--dbs", default="sqlite,postgres")
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep built libraries here (and in PostgreSQL schemas scale_bench_SIZE) and reuse "
        "them; without it they are built in a temporary directory and dropped",
    )
    parser.add_argument("--build-only", action="store_true", help="build, do not measure")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        keep = args.keep or Path(tmp)
        keep.mkdir(parents=True, exist_ok=True)
        for size in (int(s) for s in args.sizes.split(",")):
            for db in args.dbs.split(","):
                r = {"db": db, "insights": size} | await build(db, size, keep)
                if not args.build_only:
                    r |= await measure(db, size, keep)
                if not args.keep and db == "postgres":
                    with psycopg.connect(PG_URL, autocommit=True) as conn:
                        conn.execute(f'DROP SCHEMA IF EXISTS "scale_bench_{size}" CASCADE')
                print("  ".join(f"{k}={v}" for k, v in r.items()), flush=True)
                results.append(r)
    print(json.dumps({"results": results, "cpus": os.cpu_count()}))


if __name__ == "__main__":
    asyncio.run(main())
