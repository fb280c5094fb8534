"""A vector index kept in step with the database, which stays the source of truth.

``VectorLibrary`` wraps one ``VectorIndex`` for one embedding model. It is persisted in a
directory (beside the SQLite database, or beside each worker for PostgreSQL) as an index file
plus a small JSON manifest naming it, its high-water mark (the last ``insight_embeddings.id``
included) and the ids below that mark not seen yet. On open a missing, unreadable or foreign
index is rebuilt from the database (checkpointing as it goes, so a killed build resumes); every
use first catches up with rows stored since, by any process. Rows committed out of id order
(two writers on PostgreSQL) leave gaps below the mark; gaps are looked up again on every
catch-up (when there are more than ``FEW_GAPS``, at most once a ``GAP_POLL``) until they arrive
or are older than ``GAP_TTL`` (a rolled-back transaction's ids never arrive).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha1
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Integer, Select, String, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import inline_reads
from core.models.insights import InsightEmbedding
from core.ports import Clock, Ids, VectorIndex, VectorIndexFactory, Vectors

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (rows indexed, rows in all)

BATCH_ROWS = 5_000
CHECKPOINT_ROWS = 100_000
GAP_TTL = timedelta(minutes=10)
GAP_POLL = timedelta(seconds=1)
FEW_GAPS = 100
MAX_GAPS = 100_000
_IN_CHUNK = 10_000  # ids per read: under SQLite's 32,766 parameters


def _rows_after_query() -> Select[int, int, bytes]:
    """(row id, insight id, vector) of the model's rows after row ``after``, ``limit`` of them."""
    return (
        select(InsightEmbedding.id, InsightEmbedding.insight_id, InsightEmbedding.vector)
        .where(
            InsightEmbedding.model == bindparam("model", type_=String()),
            InsightEmbedding.id > bindparam("after", type_=Integer()),
        )
        .order_by(InsightEmbedding.id)
        .limit(bindparam("limit", type_=Integer()))
    )


def _rows_in_query() -> Select[int, int, bytes]:
    """(row id, insight id, vector) of the model's rows among ``ids`` (a list)."""
    return select(InsightEmbedding.id, InsightEmbedding.insight_id, InsightEmbedding.vector).where(
        InsightEmbedding.model == bindparam("model", type_=String()),
        InsightEmbedding.id.in_(bindparam("ids", expanding=True)),
    )


@dataclass(frozen=True, slots=True)
class LibraryStatus:
    model: str
    kind: str
    vectors: int
    high_water: int
    gaps: int
    path: str | None


class VectorLibrary:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        factory: VectorIndexFactory,
        model: str,
        clock: Clock,
        *,
        directory: Path | None = None,
        batch_rows: int = BATCH_ROWS,
        checkpoint_rows: int = CHECKPOINT_ROWS,
    ) -> None:
        self._sessions = sessions
        self._factory = factory
        self.model = model
        self._clock = clock
        self._directory = directory
        self._batch_rows = batch_rows
        self._checkpoint_rows = checkpoint_rows
        self._index: VectorIndex | None = None
        self.high_water = 0
        self._gaps: dict[int, datetime] = {}
        self._polled: datetime | None = None  # when the gaps were last asked for
        self._lock = asyncio.Lock()
        self._opened = False
        self._unsaved = 0

    # --- opening, building, catching up -------------------------------------------------------

    async def open(self, progress: Progress | None = None) -> int:
        """Load the persisted index (or rebuild it) and catch up; returns rows added."""
        async with self._lock:
            if not self._opened:
                await asyncio.to_thread(self._load)
                self._opened = True
            return await self._catch_up(progress)

    async def catch_up(self) -> int:
        """Add rows stored since the last look (by this or any other process)."""
        if not self._opened:
            return await self.open()
        async with self._lock:
            return await self._catch_up(None)

    async def rebuild(self, progress: Progress | None = None) -> int:
        async with self._lock:
            self._index, self.high_water, self._gaps = None, 0, {}
            self._opened = True
            return await self._catch_up(progress)

    async def _catch_up(self, progress: Progress | None) -> int:
        added = await self._refill_gaps()
        total = await self._count_after(self.high_water) if progress else 0
        while True:
            rows = await self._rows_after(self.high_water, self._batch_rows)
            if not rows:
                break
            self._note_gaps(self.high_water, [r[0] for r in rows])
            self._add_rows(rows)
            self.high_water = rows[-1][0]
            added += len(rows)
            if progress:
                progress(added, max(total, added))
            # Saving costs the whole index: done every so many rows and on close, since a
            # restart catches up whatever came after the saved high-water mark anyway.
            if self._unsaved >= self._checkpoint_rows:
                await asyncio.to_thread(self._save)
            if len(rows) < self._batch_rows:
                break  # the last page: asking again would only find it empty
        return added

    async def close(self) -> None:
        """Persist what was added since the last save."""
        async with self._lock:
            if self._unsaved:
                await asyncio.to_thread(self._save)

    async def _rows_after(self, after: int, limit: int) -> list[tuple[int, int, bytes]]:
        # Every search and every link asks this, and it usually finds nothing: a read on
        # InlineReads' connection (no session, no hand-off to aiosqlite's thread) costs a few
        # microseconds where a session cost a millisecond of CPU.
        params = {"model": self.model, "after": after, "limit": limit}
        rows = await inline_reads(self._sessions).rows(_rows_after_query, params)
        return [(int(a), int(b), c) for a, b, c in rows]

    async def _count_after(self, after: int) -> int:
        stmt = select(func.count()).where(
            InsightEmbedding.model == self.model, InsightEmbedding.id > after
        )
        async with self._sessions() as session:
            return int(await session.scalar(stmt) or 0)

    def _note_gaps(self, after: int, seen: list[int]) -> None:
        now = self._clock.now()
        present = set(seen)
        missing = [i for i in range(after + 1, seen[-1]) if i not in present]
        for row_id in missing[: max(0, MAX_GAPS - len(self._gaps))]:
            self._gaps[row_id] = now

    async def _refill_gaps(self) -> int:
        if not self._gaps:
            return 0
        now = self._clock.now()
        # A few gaps (writers committing out of order) are asked for on every catch-up; many
        # (the holes rolled-back transactions leave, all noted again by a rebuild) at most
        # once a GAP_POLL: 2,000 of them asked for on every search tripled its CPU.
        recent = self._polled is not None and now - self._polled < GAP_POLL
        if recent and len(self._gaps) > FEW_GAPS:
            return 0
        self._polled = now
        cutoff = now - GAP_TTL
        for row_id in [i for i, since in self._gaps.items() if since < cutoff]:
            del self._gaps[row_id]
        wanted = sorted(self._gaps)
        # Every catch-up asks for them (every search and link) until they arrive or expire:
        # one InlineReads read, not a session with a statement per 500.
        reads = inline_reads(self._sessions)
        found: list[tuple[int, int, bytes]] = []
        for start in range(0, len(wanted), _IN_CHUNK):
            params = {"model": self.model, "ids": wanted[start : start + _IN_CHUNK]}
            found += [(int(a), int(b), c) for a, b, c in await reads.rows(_rows_in_query, params)]
        for row_id, _, _ in found:
            self._gaps.pop(row_id, None)
        self._add_rows(found)
        return len(found)

    def _add_rows(self, rows: list[tuple[int, int, bytes]]) -> None:
        if not rows:
            return
        vectors = np.stack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
        if self._index is None:
            self._index = self._factory.create(int(vectors.shape[1]))
        if vectors.shape[1] != self._index.dim:
            log.warning("vectors of %s with another size skipped", self.model)
            return
        self._index.add(np.array([r[1] for r in rows], dtype=np.int64), vectors)
        self._unsaved += len(rows)

    # --- searching ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._index) if self._index is not None else 0

    async def neighbours(self, queries: Vectors, k: int) -> tuple[Ids, Vectors]:
        """The ``k`` nearest stored insights of each query: (ids, cosines), -1 padded."""
        await self.catch_up()
        if self._index is None or queries.shape[1] != self._index.dim:
            return (
                np.full((len(queries), k), -1, dtype=np.int64),
                np.full((len(queries), k), -np.inf, dtype=np.float32),
            )
        return self._index.search(queries.astype(np.float32), k)

    def vectors(self, ids: Ids) -> tuple[Ids, Vectors]:
        """The indexed vectors of those of ``ids`` present (as of the last catch-up)."""
        if self._index is None:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        return self._index.vectors(ids)

    def status(self) -> LibraryStatus:
        return LibraryStatus(
            model=self.model,
            kind=self._factory.kind,
            vectors=len(self),
            high_water=self.high_water,
            gaps=len(self._gaps),
            path=str(self._manifest_path()) if self._manifest_path() else None,
        )

    # --- persistence --------------------------------------------------------------------------

    def _stem(self) -> str:
        digest = sha1(self.model.encode(), usedforsecurity=False).hexdigest()[:12]
        return f"vectors-{self._factory.kind}-{digest}"

    def _manifest_path(self) -> Path | None:
        return self._directory / f"{self._stem()}.json" if self._directory else None

    def _load(self) -> None:
        manifest = self._manifest_path()
        if manifest is None or not manifest.exists():
            return
        try:
            meta: dict[str, Any] = json.loads(manifest.read_text())
            if meta.get("model") != self.model or meta.get("kind") != self._factory.kind:
                raise ValueError("the index belongs to another model")
            index_file = manifest.parent / str(meta["file"])
            self._index = self._factory.load(index_file, int(meta["dim"]))
            self.high_water = int(meta["high_water"])
            now = self._clock.now()
            self._gaps = {int(i): now for i in meta.get("gaps", [])}
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            log.warning("vector index %s is not usable (%s): rebuilding it", manifest, exc)
            self._index, self.high_water, self._gaps = None, 0, {}

    def _save(self) -> None:
        """Index file first (a new name), then the manifest naming it, each renamed into place:
        a crash at any point leaves the previous complete pair."""
        manifest = self._manifest_path()
        if manifest is None or self._index is None:
            return
        manifest.parent.mkdir(parents=True, exist_ok=True)
        name = f"{self._stem()}-{self.high_water}.idx"
        tmp = manifest.parent / f".{name}.tmp"
        self._index.save(tmp)
        os.replace(tmp, manifest.parent / name)
        meta = {
            "model": self.model,
            "kind": self._factory.kind,
            "dim": self._index.dim,
            "file": name,
            "high_water": self.high_water,
            "vectors": len(self._index),
            "gaps": sorted(self._gaps),
        }
        tmp_manifest = manifest.parent / f".{manifest.name}.tmp"
        tmp_manifest.write_text(json.dumps(meta))
        os.replace(tmp_manifest, manifest)
        self._unsaved = 0
        for old in manifest.parent.glob(f"{self._stem()}-*.idx"):
            if old.name != name:
                old.unlink(missing_ok=True)
