"""The vector index beside the database: linking through it, persistence, catch-up from the
database (which stays the source of truth), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, insert, select, update

from adapters.vectors.usearch_index import UsearchIndexFactory
from bench.scale_data import insights as real_insights
from bench.scale_data import store_insights
from core.db import Sessions, create_engine, session_factory, transaction
from core.insights.related import RelatedConfig, link_new_insights
from core.llm.reembed import reembed_insights
from core.models.insights import Insight, InsightEmbedding, RelatedEdge
from core.ports import Vectors
from core.search.exact_index import ExactVectorIndexFactory
from core.search.vectors import FEW_GAPS, GAP_POLL, VectorLibrary
from tests.fakes.clock import FakeClock

ROOT = Path(__file__).resolve().parents[2]
MODEL = "scale-test"
STAGING = "staging"


def library(sessions: Sessions, directory: Path | None = None, **kw: int) -> VectorLibrary:
    return VectorLibrary(
        sessions, ExactVectorIndexFactory(), MODEL, FakeClock(), directory=directory, **kw
    )


async def stored(sessions: Sessions, n: int, seed: int = 1) -> list[int]:
    rows, vectors = real_insights(n, seed)
    return await store_insights(sessions, rows, vectors, MODEL, shows=6)


async def link_each_episode(sessions: Sessions, vectors: VectorLibrary | None) -> None:
    """As ingest does: each episode's vectors are stored (copied from the staging model) and
    linked in one transaction, one episode after another."""
    async with sessions() as session:
        episodes = (
            await session.execute(
                select(Insight.episode_id, func.min(Insight.id))
                .group_by(Insight.episode_id)
                .order_by(func.min(Insight.id))
            )
        ).all()
    for episode_id, _ in episodes:
        async with transaction(sessions) as session:
            staged = (
                await session.execute(
                    select(InsightEmbedding.insight_id, InsightEmbedding.vector)
                    .join(Insight, Insight.id == InsightEmbedding.insight_id)
                    .where(Insight.episode_id == episode_id, InsightEmbedding.model == STAGING)
                )
            ).all()
            await session.execute(
                insert(InsightEmbedding),
                [{"insight_id": i, "model": MODEL, "dim": 256, "vector": v} for i, v in staged],
            )
            ids = [i for i, _ in staged]
            await link_new_insights(session, ids, MODEL, RelatedConfig(), library=vectors)


async def snapshot(sessions: Sessions) -> tuple[list[tuple[int, int, int]], list[int | None]]:
    async with sessions() as session:
        edges = (
            await session.execute(
                select(RelatedEdge.insight_id, RelatedEdge.related_id, RelatedEdge.rank).order_by(
                    RelatedEdge.insight_id, RelatedEdge.rank
                )
            )
        ).all()
        groups = (await session.execute(select(Insight.group_id).order_by(Insight.id))).scalars()
        return [tuple(e) for e in edges], list(groups)  # type: ignore[misc]


async def test_linking_through_the_index_writes_the_edges_of_the_full_scan(
    sessions: Sessions,
) -> None:
    rows, vectors = real_insights(600, 1)
    await store_insights(sessions, rows, vectors, STAGING, shows=6)
    await link_each_episode(sessions, None)  # the reference: every vector compared
    scanned = await snapshot(sessions)
    async with transaction(sessions) as session:
        await session.execute(delete(RelatedEdge))
        await session.execute(update(Insight).values(group_id=None))
        await session.execute(delete(InsightEmbedding).where(InsightEmbedding.model == MODEL))
    await link_each_episode(sessions, library(sessions))
    assert await snapshot(sessions) == scanned
    assert len(scanned[0]) > 3000  # most of the 600 insights have a full top-10


async def test_linking_through_usearch_in_half_precision_writes_the_edges_of_the_full_scan(
    sessions: Sessions,
) -> None:
    """The half-precision copies move a cosine by under 1e-4: on real insights the same
    near-duplicate groups and, but for a near tie at a list's end, the same edges as every
    float32 vector compared (measured: 3 of 5,985 pairs, 8 ranks; float32 copies: none)."""
    rows, vectors = real_insights(600, 1)
    await store_insights(sessions, rows, vectors, STAGING, shows=6)
    await link_each_episode(sessions, None)
    scanned = await snapshot(sessions)
    async with transaction(sessions) as session:
        await session.execute(delete(RelatedEdge))
        await session.execute(update(Insight).values(group_id=None))
        await session.execute(delete(InsightEmbedding).where(InsightEmbedding.model == MODEL))
    usearch = VectorLibrary(sessions, UsearchIndexFactory(), MODEL, FakeClock())
    await link_each_episode(sessions, usearch)
    edges, groups = await snapshot(sessions)
    assert groups == scanned[1]
    assert len(edges) == len(scanned[0]) > 3000
    pairs, scanned_pairs = {e[:2] for e in edges}, {e[:2] for e in scanned[0]}
    assert len(pairs - scanned_pairs) <= len(edges) // 500  # 0.2%
    assert len(set(edges) - set(scanned[0])) <= len(edges) // 200


async def test_the_index_is_saved_loaded_and_caught_up(sessions: Sessions, tmp_path: Path) -> None:
    ids = await stored(sessions, 300)
    first = library(sessions, tmp_path)
    assert await first.open() == 300
    await first.close()
    second = library(sessions, tmp_path)
    assert await second.open() == 0  # loaded from disk: nothing to read again
    assert len(second) == 300 and second.high_water == first.high_water
    more = await stored(sessions, 20, seed=2)
    found, sims = await second.neighbours(np.stack(vectors_of_seed(20, 2)), 1)
    assert found[:, 0].tolist() == more  # caught up before answering: each finds itself
    assert float(sims.min()) > 0.999
    assert set(ids).isdisjoint(more)


def vectors_of_seed(n: int, seed: int) -> list[np.ndarray]:
    return list(real_insights(n, seed)[1])


def spoil_index_files(directory: Path) -> None:
    for index_file in directory.glob("*.idx"):
        index_file.write_bytes(b"not an index")


async def test_a_corrupt_or_foreign_index_is_rebuilt_from_the_database(
    sessions: Sessions, tmp_path: Path
) -> None:
    await stored(sessions, 50)
    first = library(sessions, tmp_path)
    await first.open()
    await first.close()
    spoil_index_files(tmp_path)
    assert await library(sessions, tmp_path).open() == 50
    other = VectorLibrary(
        sessions, ExactVectorIndexFactory(), "another-model", FakeClock(), directory=tmp_path
    )
    assert await other.open() == 0 and len(other) == 0  # vectors of one model only


async def stored_with_vectors_dropped(
    sessions: Sessions, n: int, *, keep: int
) -> tuple[list[int], list[Vectors], int]:
    """``n`` insights stored, the vectors of all but the first ``keep`` deleted again: their
    ids, their vectors (seed 1) and the highest vector row id there was."""
    ids = await stored(sessions, n)
    async with transaction(sessions) as session:
        top = int(await session.scalar(select(func.max(InsightEmbedding.id))) or 0)
        await session.execute(
            delete(InsightEmbedding).where(InsightEmbedding.insight_id.in_(ids[keep:]))
        )
    return ids, vectors_of_seed(n, 1), top


async def store_vector(sessions: Sessions, row_id: int, insight_id: int, vector: Vectors) -> None:
    """A vector row stored with the id given (a writer whose id came from the sequence earlier)."""
    async with transaction(sessions) as session:
        await session.execute(
            insert(InsightEmbedding).values(
                id=row_id, insight_id=insight_id, model=MODEL, dim=256, vector=vector.tobytes()
            )
        )


async def test_rows_committed_behind_the_high_water_mark_are_not_missed(
    sessions: Sessions,
) -> None:
    """Two writers on PostgreSQL may commit ids out of order: the later, lower id still comes."""
    ids, vectors, top = await stored_with_vectors_dropped(sessions, 10, keep=8)
    index = library(sessions)
    assert await index.open() == 8
    await store_vector(sessions, top + 30, ids[9], vectors[9])  # committed first, by one writer
    assert await index.catch_up() == 1
    await store_vector(sessions, top + 5, ids[8], vectors[8])  # later by another, a lower id
    assert await index.catch_up() == 1  # found in the gap below the mark
    found, _ = await index.neighbours(np.stack(vectors), 1)
    assert found[:, 0].tolist() == ids
    assert await index.catch_up() == 0


async def test_every_process_sees_what_another_stored(db_url: str, engine: object) -> None:
    """Two processes = two engines and two indexes on one database (PostgreSQL in production)."""
    engines = [create_engine(db_url), create_engine(db_url)]
    try:
        writer, reader = (session_factory(e) for e in engines)
        reader_index = library(reader)
        await reader_index.open()
        assert len(reader_index) == 0
        ids = await stored(writer, 30)
        found, _ = await reader_index.neighbours(np.stack(vectors_of_seed(30, 1)), 1)
        assert found[:, 0].tolist() == ids
    finally:
        for e in engines:
            await e.dispose()


async def test_a_worker_killed_while_indexing_loses_nothing(
    db_url: str, sessions: Sessions, tmp_path: Path
) -> None:
    ids = await stored(sessions, 1000)
    directory = tmp_path / "vectors"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.index_worker", db_url, str(directory), "350",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    assert child.stdout is not None
    while not (line := await child.stdout.readline()).startswith(b"indexed 350"):
        assert line, "the worker ended before it was 350 rows in"
    child.send_signal(signal.SIGKILL)  # mid-build: 350 of 1,000 rows in memory
    assert await child.wait() == -signal.SIGKILL
    # Also as if it died while writing the next checkpoint: a half-written file is left over.
    (directory / ".vectors-partial.idx.tmp").write_bytes(b"half")
    restarted = library(sessions, directory)
    added = await restarted.open()
    assert 0 < added <= 700  # resumed from its last checkpoint (300), not from nothing
    assert len(restarted) == 1000
    found, _ = await restarted.neighbours(np.stack(vectors_of_seed(1000, 1)), 1)
    assert found[:, 0].tolist() == ids


async def test_re_embedding_relinks_through_the_new_models_index_as_a_full_scan_would(
    sessions: Sessions,
) -> None:
    """After a model change every insight is embedded again and every edge rebuilt: through
    the new model's index (its neighbours per batch) the edges are those of the full scan."""
    rows, vectors = real_insights(400, 3)
    await store_insights(sessions, rows, vectors, STAGING, shows=6)
    staged = StagedEmbedder(sessions)
    assert await reembed_insights(sessions, staged, batch=64) == 400
    scanned = await snapshot(sessions)
    async with transaction(sessions) as session:
        await session.execute(delete(InsightEmbedding).where(InsightEmbedding.model == MODEL))
    assert await reembed_insights(sessions, staged, batch=64, library=library(sessions)) == 400
    assert await snapshot(sessions) == scanned
    assert len(scanned[0]) > 2000


class StagedEmbedder:
    """An embedder of the new model whose vector for an insight's text is its staged one."""

    name = MODEL

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def embed(self, texts: list[str]) -> np.ndarray:
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(Insight.headline, Insight.body, InsightEmbedding.vector)
                    .join(InsightEmbedding, InsightEmbedding.insight_id == Insight.id)
                    .where(InsightEmbedding.model == STAGING)
                )
            ).all()
        by_text = {f"{h}. {b}": np.frombuffer(v, dtype=np.float32) for h, b, v in found}
        return np.stack([by_text[t] for t in texts])


async def test_many_gaps_are_asked_for_once_a_poll_interval(sessions: Sessions) -> None:
    """Holes rolled-back transactions left (all noted again when the index is rebuilt) are not
    asked for on every search: with more than FEW_GAPS, once per GAP_POLL; a row committed
    into one of them is still found within that interval."""
    ids, vectors, top = await stored_with_vectors_dropped(sessions, 4, keep=1)
    await store_vector(sessions, top + FEW_GAPS + 50, ids[1], vectors[1])  # holes below: gaps
    clock = FakeClock()
    index = VectorLibrary(sessions, ExactVectorIndexFactory(), MODEL, clock)
    assert await index.open() == 2
    assert index.status().gaps > FEW_GAPS
    await store_vector(sessions, top + 7, ids[2], vectors[2])  # late writers commit into them
    assert await index.catch_up() == 1  # the first look at them
    await store_vector(sessions, top + 9, ids[3], vectors[3])
    assert await index.catch_up() == 0  # not asked for again within the interval
    clock.advance(GAP_POLL)
    assert await index.catch_up() == 1  # the next interval finds it
