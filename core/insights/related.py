"""Related insights as stored, ranked edges: top 10 per insight, kept current incrementally.

When insights are stored, ``link_new_insights`` compares them with the whole library of the same
embedding model, page by page (vectorised numpy, memory bounded by the page size), and
- groups each new insight with an earlier near-duplicate (``Insight.group_id``),
- writes its top-k edges: other shows first, then other episodes, then the same episode, only
  above a relevance floor, with at most one insight per near-duplicate group,
- re-ranks the lists of existing insights it is among the most similar to, when it beats them.
Reading "related insights" is then one indexed read of ``related_edges``.

Given a ``VectorLibrary`` (an approximate nearest-neighbour index kept in step with the
database), the candidates are the index's nearest neighbours of each new insight instead of the
whole library, scored by the same rules on their stored vectors: linking then costs the same at
10,000 insights as at 1,000,000.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any, NamedTuple, cast

import numpy as np
from sqlalchemy import (
    ARRAY,
    Float,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    delete,
    select,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import (
    IntArray,
    driver_executemany,
    driver_rows,
    ids_param,
    int_array_param,
    one_of,
    one_of_param,
)
from core.insights.related_math import (
    TopLists,
    edge_bonus,
    pick_top,
    place_bonus,
    place_bonuses,
)
from core.models.insights import Insight, InsightEmbedding, RelatedEdge
from core.search.similarity import pairwise
from core.search.vectors import VectorLibrary

_FANOUT_MARGIN = 16  # index neighbours beyond update_fanout whose 10th edge is read too
_EDGES = cast(Table, RelatedEdge.__table__)  # Core statements: the ORM bulk paths cost more
_INSIGHTS = cast(Table, Insight.__table__)
_VECTORS = cast(Table, InsightEmbedding.__table__)
# Reads by table columns: rows come back without the ORM's per-row loading (thousands a link).
_I, _E, _V = _INSIGHTS.c, _EDGES.c, _VECTORS.c


@dataclass(frozen=True, slots=True)
class RelatedConfig:
    top_k: int = 10
    # Cosine floors measured for WordLlama on real insights (median pair 0.10, 95th pct 0.26).
    min_similarity: float = 0.2
    duplicate_similarity: float = 0.8
    page_rows: int = 20_000
    candidates: int = 40  # kept per new insight before group de-duplication
    update_fanout: int = 64  # existing insights per new insight whose lists may change


class Meta(NamedTuple):
    """An insight's place. A tuple: thousands are made a link, at a third of a frozen
    dataclass's cost."""

    episode_id: int
    feed_id: int
    group_id: int


# Meta from a ready (episode, feed, group) tuple, for the loops over a statement's rows (some
# 2,000 a link): the named tuple's own constructor is a Python function around this call,
# and took twice as long (3,000 rows: 1.6 against 0.8 ms).
_place = partial(tuple.__new__, Meta)


@dataclass
class _Batch:
    ids: np.ndarray
    metas: list[Meta]
    vectors: np.ndarray
    edges: TopLists
    fanout: TopLists
    dup_sim: np.ndarray
    dup_id: np.ndarray
    known: dict[int, Meta] = field(default_factory=dict)
    # A candidate's last (10th) edge, read with its place: (cosine, episode, feed) of the
    # insight at rank top_k - 1, or None when its list is shorter (any offer enters it).
    last_edge: dict[int, tuple[float, int, int] | None] = field(default_factory=dict)


async def link_new_insights(
    session: AsyncSession,
    new_ids: Sequence[int],
    model: str,
    config: RelatedConfig | None = None,
    *,
    library: VectorLibrary | None = None,
) -> None:
    """Group, link and re-rank for ``new_ids``, whose embeddings under ``model`` are stored."""
    config = config or RelatedConfig()
    # Its reads and writes go to the session's connection directly (core.db.driver_rows),
    # past the ORM's autoflush: what the caller added must be in the database first.
    await session.flush()
    batch = await _load_batch(session, sorted(set(new_ids)), model, config)
    if batch is None:
        return
    if library is not None and library.model == model:
        await _scan_neighbours(session, batch, model, config, library)
    else:
        await _scan_library(session, batch, model, config)
    groups = _assign_groups(batch, config)
    new_metas = {
        int(i): Meta(m.episode_id, m.feed_id, groups[int(i)])
        for i, m in zip(batch.ids, batch.metas, strict=True)
    }
    batch.known.update(new_metas)
    new_edges = _new_edges(batch, new_metas, config)
    changed = await _changed_lists(session, batch, new_metas, config)
    await _write(session, groups, new_edges, changed)


async def _load_batch(
    session: AsyncSession, ids: list[int], model: str, config: RelatedConfig
) -> _Batch | None:
    dialect = _dialect(session)
    params = {"ids": ids_param(dialect, ids), "model": model}
    rows = await driver_rows(session, _batch_stmt(dialect), params)
    if not rows:
        return None
    n = len(rows)
    return _Batch(
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        metas=[Meta(r[1], r[2], r[0]) for r in rows],
        vectors=np.stack([np.frombuffer(r[3], dtype=np.float32) for r in rows]),
        edges=TopLists(n, config.candidates),
        fanout=TopLists(n, config.update_fanout),
        dup_sim=np.full(n, -np.inf, dtype=np.float32),
        dup_id=np.full(n, -1, dtype=np.int64),
    )


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


# Linking's statements are built once per dialect, their id lists given as parameters:
# building one (SQLAlchemy's operators, aliases and cache key) cost more CPU than running it.
@cache
def _batch_stmt(dialect: str) -> Select[Any]:
    """(id, episode, feed, vector) of the insights ``ids`` with a vector of ``model``."""
    return (
        select(_I.id, _I.episode_id, _I.feed_id, _V.vector)
        .join(_VECTORS, _V.insight_id == _I.id)
        .where(one_of_param(dialect, _I.id, "ids"), _V.model == bindparam("model", String()))
        .order_by(_I.id)
    )


async def _scan_library(
    session: AsyncSession, batch: _Batch, model: str, config: RelatedConfig
) -> None:
    """One pass over the model's vectors, page by page (keyset pagination on insight id)."""
    after = 0
    new_set = set(batch.ids.tolist())
    while True:
        rows = (
            await session.execute(
                _vector_rows(model).where(_I.id > after).order_by(_I.id).limit(config.page_rows)
            )
        ).all()
        if not rows:
            return
        after = rows[-1][0]
        _score_page(batch, *_page_of(rows), new_set, config)


def _vector_rows(model: str) -> Select[int, int, int, int | None, bytes]:
    """(id, episode, feed, group, vector) of the insights with a vector of ``model``."""
    return (
        select(
            _I.id, _I.episode_id, _I.feed_id, _I.group_id,
            _V.vector,
        )
        .join(_VECTORS, _V.insight_id == _I.id)
        .where(_V.model == model)
    )  # fmt: skip


def _page_of(rows: Sequence[Any]) -> tuple[np.ndarray, list[Meta], np.ndarray]:
    """Rows of ``_vector_rows`` as ids, metas (a lone insight is its own group) and vectors."""
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    metas = [Meta(r[1], r[2], r[3] if r[3] is not None else r[0]) for r in rows]
    vectors = np.frombuffer(b"".join(r[4] for r in rows), dtype=np.float32).reshape(len(rows), -1)
    return ids, metas, vectors


async def _scan_neighbours(
    session: AsyncSession,
    batch: _Batch,
    model: str,
    config: RelatedConfig,
    library: VectorLibrary,
) -> None:
    """The index's nearest neighbours of the new insights (stored ones: the new rows are not
    committed, so not indexed yet) plus the new insights themselves, scored as one page. The
    stored neighbours' vectors come from the index (its copies of the stored rows, caught up
    just before; in half precision a cosine moves by under 1e-4), so only their places are
    read: no 1 KB vector per candidate from the database, a random read each on a large one."""
    k = config.update_fanout + config.candidates + len(batch.ids)
    found, _sims = await library.neighbours(batch.vectors, k)
    new_ids = set(batch.ids.tolist())
    candidates = sorted(set(found[found >= 0].tolist()) | new_ids)
    # The lists a new insight is offered to are among its nearest (update_fanout of them, by
    # cosine; a margin for the index's order): their 10th edges come with the candidates
    # (the admission test of a list, in _may_change), one statement instead of a second read
    # of the same insights' edges. Any other owner is read there. No join with the vectors:
    # the index holds only insights with a vector of this model, and a vector is never
    # deleted but with its insight.
    nearest = found[:, : config.update_fanout + _FANOUT_MARGIN]
    owners = sorted(set(nearest[nearest >= 0].tolist()) - new_ids)
    dialect = _dialect(session)
    params = {"candidates": ids_param(dialect, candidates), "owners": ids_param(dialect, owners)}
    stmt = _candidates_stmt(dialect, config.top_k - 1)
    rows = await driver_rows(session, stmt, params)  # an id deleted since indexed is absent
    may_own = set(owners)
    batch.last_edge.update(
        (r[0], None if r[4] is None or r[5] is None else (float(r[4]), int(r[5]), int(r[6])))
        for r in rows
        if r[0] in may_own
    )
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    is_new = np.isin(ids, batch.ids)
    old_at = np.flatnonzero(~is_new)
    indexed, indexed_vectors = library.vectors(ids[old_at])
    vectors = np.empty((len(ids), batch.vectors.shape[1]), dtype=np.float32)
    present = np.isin(ids[old_at], indexed)  # in id order, as library.vectors returns them
    if len(indexed):
        vectors[old_at[present]] = indexed_vectors
    new_at = np.flatnonzero(is_new)
    vectors[new_at] = batch.vectors[np.searchsorted(batch.ids, ids[new_at])]
    keep = is_new
    keep[old_at[present]] = True
    if not keep.any():
        return
    metas = [
        _place((r[1], r[2], r[3] if r[3] is not None else r[0]))
        for r, kept in zip(rows, keep.tolist(), strict=True)
        if kept
    ]
    _score_page(batch, ids[keep], metas, vectors[keep], new_ids, config)


@cache
def _candidates_stmt(dialect: str, rank: int) -> Select[Any]:
    """(id, episode, feed, group) of the insights ``candidates``, by id, with the cosine,
    episode and feed of the edge at ``rank`` of those among ``owners``."""
    stmt = (
        select(_I.id, _I.episode_id, _I.feed_id, _I.group_id)
        .where(one_of_param(dialect, _I.id, "candidates"))
        .order_by(_I.id)
    )
    return _with_last_edge(dialect, stmt, rank)


def _with_last_edge(dialect: str, stmt: Select[Any], rank: int) -> Select[Any]:
    """``stmt`` over insights, plus the cosine, episode and feed of the edge at ``rank`` of
    those in ``owners`` (NULLs for the others, and when a list is shorter). On PostgreSQL a
    LATERAL subquery: as a plain outer join the planner scanned every edge of that rank and
    hashed them (10,000 insights: 12,300 rows read for 1,060 wanted; a million: ten
    million), where one index probe per insight is all it takes. SQLite always probes (a
    nested loop on the index)."""
    last_of = _INSIGHTS.alias("last_of")
    if dialect == "postgresql":
        last = (
            select(_E.score, last_of.c.episode_id, last_of.c.feed_id)
            .join(last_of, last_of.c.id == _E.related_id)
            .where(
                _E.insight_id == _I.id,
                _E.rank == rank,
                one_of_param(dialect, _I.id, "owners"),
            )
            .limit(1)
            .lateral("last")
        )
        return stmt.add_columns(last.c.score, last.c.episode_id, last.c.feed_id).outerjoin(
            last, true()
        )
    edge = _EDGES.alias("last")
    on_edge = (
        (edge.c.insight_id == _I.id)
        & (edge.c.rank == rank)
        & one_of_param(dialect, edge.c.insight_id, "owners")
    )
    joined = _INSIGHTS.outerjoin(edge, on_edge).outerjoin(
        last_of, last_of.c.id == edge.c.related_id
    )
    return stmt.add_columns(edge.c.score, last_of.c.episode_id, last_of.c.feed_id).select_from(
        joined
    )


def _score_page(
    batch: _Batch,
    ids: np.ndarray,
    metas: list[Meta],
    vectors: np.ndarray,
    new_set: set[int],
    config: RelatedConfig,
) -> None:
    sims = pairwise(batch.vectors, vectors)  # (new, page)
    sims[batch.ids[:, None] == ids[None, :]] = -np.inf  # never related to itself
    relevant = sims >= config.min_similarity
    bonus = edge_bonus(batch.metas, metas)
    batch.edges.merge(np.where(relevant, sims + bonus, -np.inf), sims, ids)
    is_old = np.array([int(i) not in new_set for i in ids])
    batch.fanout.merge(np.where(relevant & is_old[None, :], sims, -np.inf), sims, ids)
    # Near-duplicates join the group of an earlier insight ("the first one seen").
    earlier = np.where(ids[None, :] < batch.ids[:, None], sims, -np.inf)
    if earlier.shape[1]:
        best = earlier.argmax(axis=1)
        best_sim = earlier[np.arange(len(best)), best]
        better = best_sim > batch.dup_sim
        batch.dup_sim[better] = best_sim[better]
        batch.dup_id[better] = ids[best[better]]
    wanted = set(batch.edges.ids[np.isfinite(batch.edges.keys)].tolist())
    wanted |= set(batch.fanout.ids[np.isfinite(batch.fanout.keys)].tolist())
    wanted |= set(batch.dup_id.tolist())
    for i, meta in zip(ids.tolist(), metas, strict=True):
        if i in wanted:
            batch.known[i] = meta


def _assign_groups(batch: _Batch, config: RelatedConfig) -> dict[int, int]:
    groups: dict[int, int] = {}
    for k, insight_id in enumerate(batch.ids.tolist()):
        twin = int(batch.dup_id[k])
        if twin >= 0 and float(batch.dup_sim[k]) >= config.duplicate_similarity:
            groups[insight_id] = groups.get(twin) or batch.known[twin].group_id
        else:
            groups[insight_id] = insight_id
    return groups


def _new_edges(
    batch: _Batch, new_metas: dict[int, Meta], config: RelatedConfig
) -> dict[int, list[tuple[int, float]]]:
    group_of = {i: m.group_id for i, m in batch.known.items()}
    return {
        insight_id: pick_top(
            batch.edges.row(k), new_metas[insight_id].group_id, group_of, config.top_k
        )
        for k, insight_id in enumerate(batch.ids.tolist())
    }


async def _changed_lists(
    session: AsyncSession, batch: _Batch, new_metas: dict[int, Meta], config: RelatedConfig
) -> dict[int, tuple[list[tuple[int, float]], list[int]]]:
    """The new lists of existing insights a new insight now belongs to (only those that
    change), beside the lists they replace: two reads for all of them, whatever their number."""
    offers: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for k, new_id in enumerate(batch.ids.tolist()):
        for _key, sim, old_id in batch.fanout.row(k):
            offers[old_id].append((new_id, sim))
    owners = await _may_change(session, sorted(offers), offers, batch, new_metas, config)
    current = await _current_edges(session, owners)
    changed: dict[int, tuple[list[tuple[int, float]], list[int]]] = {}
    for old_id in owners:
        owner = batch.known[old_id]
        have = current.get(old_id, [])
        metas = {rid: meta for rid, _sim, meta in have} | {
            nid: new_metas[nid] for nid, _sim in offers[old_id]
        }
        sims = {rid: sim for rid, sim, _meta in have} | dict(offers[old_id])
        ranked = sorted(
            ((s + place_bonus(owner, metas[r]), s, r) for r, s in sims.items()),
            key=lambda e: (-e[0], e[2]),
        )
        group_of = {r: m.group_id for r, m in metas.items()}
        best = pick_top(ranked, owner.group_id, group_of, config.top_k)
        before = [rid for rid, _sim, _meta in have]
        if [r for r, _ in best] != before:
            changed[old_id] = (best, before)
    return changed


async def _may_change(
    session: AsyncSession,
    owners: list[int],
    offers: dict[int, list[tuple[int, float]]],
    batch: _Batch,
    new_metas: dict[int, Meta],
    config: RelatedConfig,
) -> list[int]:
    """Owners whose list an offer can change: lists shorter than top_k, and full lists whose
    last (10th) edge some offered insight outranks. An offer ranked below the last edge sorts
    after all ten, which are already one per group, so that list stays as it is; skipping it
    saves reading and comparing its ten edges (one indexed read of rank top_k - 1 instead).
    The offers are compared with the last edges as arrays: a Python test per offer (some 600
    owners a link) cost more than the rest of this."""
    edges = {owner: batch.last_edge[owner] for owner in owners if owner in batch.last_edge}
    unread = [owner for owner in owners if owner not in batch.last_edge]  # a full scan's
    if unread:
        for owner, score, episode, feed in (
            await session.execute(
                select(_E.insight_id, _E.score, _I.episode_id, _I.feed_id)
                .join(_INSIGHTS, _I.id == _E.related_id)
                .where(
                    one_of(session, _E.insight_id, unread),
                    _E.rank == config.top_k - 1,
                )
            )
        ).all():
            edges[owner] = (float(score), int(episode), int(feed))
    full = [owner for owner in owners if edges.get(owner) is not None]
    entered = _outranks_last(full, edges, offers, batch.known, new_metas)
    return [owner for owner in owners if edges.get(owner) is None or owner in entered]


def _outranks_last(
    owners: list[int],
    edges: dict[int, tuple[float, int, int] | None],
    offers: dict[int, list[tuple[int, float]]],
    known: dict[int, Meta],
    new_metas: dict[int, Meta],
) -> set[int]:
    """Those of ``owners`` (each with a full list, its last edge in ``edges``) to which some
    offer, with its place bonus, scores at least as much as the last edge with its own."""
    if not owners:
        return set()
    own = [known[owner] for owner in owners]
    own_feed = np.array([m.feed_id for m in own], dtype=np.int64)
    own_episode = np.array([m.episode_id for m in own], dtype=np.int64)
    last = [cast(tuple[float, int, int], edges[owner]) for owner in owners]
    floor = np.array([e[0] for e in last], dtype=np.float64) + place_bonuses(
        own_feed, own_episode,
        np.array([e[2] for e in last], dtype=np.int64),
        np.array([e[1] for e in last], dtype=np.int64),
    )  # fmt: skip
    offered = [offers[owner] for owner in owners]
    at = np.repeat(np.arange(len(owners)), [len(o) for o in offered])
    flat = [offer for o in offered for offer in o]
    new = [new_metas[new_id] for new_id, _sim in flat]
    scores = np.array([sim for _new_id, sim in flat], dtype=np.float64) + place_bonuses(
        own_feed[at], own_episode[at],
        np.array([m.feed_id for m in new], dtype=np.int64),
        np.array([m.episode_id for m in new], dtype=np.int64),
    )  # fmt: skip
    entered = np.unique(at[scores >= floor[at]])
    return {owners[k] for k in entered.tolist()}


async def _current_edges(
    session: AsyncSession, owners: list[int]
) -> dict[int, list[tuple[int, float, Meta]]]:
    current: dict[int, list[tuple[int, float, Meta]]] = defaultdict(list)
    if owners:
        dialect = _dialect(session)
        params = {"owners": ids_param(dialect, owners)}
        rows = await driver_rows(session, _current_edges_stmt(dialect), params)
        for owner, related, score, episode, feed, group in rows:
            current[owner].append((related, score, _place((episode, feed, group or related))))
    return current


@cache
def _current_edges_stmt(dialect: str) -> Select[Any]:
    """The lists of ``owners``, in rank order, each edge with its insight's place."""
    edges = select(_E.insight_id, _E.related_id, _E.score).where(
        one_of_param(dialect, _E.insight_id, "owners")
    )
    if dialect == "postgresql":
        # One index probe per edge for its insight's place (LIMIT keeps the planner from
        # flattening it): as a plain join it hashed every insight (a sequential scan of
        # the library for some 700 rows; 20 ms of 10,000 insights).
        place = (
            select(_I.episode_id, _I.feed_id, _I.group_id)
            .where(_I.id == _E.related_id)
            .limit(1)
            .lateral("place")
        )
        stmt = edges.add_columns(place.c.episode_id, place.c.feed_id, place.c.group_id)
        stmt = stmt.join(place, true())
    else:
        stmt = edges.add_columns(_I.episode_id, _I.feed_id, _I.group_id).join(
            _INSIGHTS, _I.id == _E.related_id
        )
    return stmt.order_by(_E.insight_id, _E.rank)


async def _write(
    session: AsyncSession,
    groups: dict[int, int],
    new_edges: dict[int, list[tuple[int, float]]],
    changed: dict[int, tuple[list[tuple[int, float]], list[int]]],
) -> None:
    """Groups, the new insights' lists, and only the edges of changed lists that differ: a
    list a new insight enters usually gains that edge, loses its last and moves a few down a
    rank, so rewriting its ten rows (and their three indexes) cost five times what changed.
    Each statement is one executemany on SQLite (one thread hand-off) and one statement over
    arrays on PostgreSQL."""
    dialect = _dialect(session)
    # A new insight's own list replaces any it has: none after ingest, but when everything is
    # relinked (a model change) the insights of later batches already entered lists as
    # "existing" ones (inserting over them broke the unique (insight, related) key).
    drop = {"owners": ids_param(dialect, sorted(new_edges))}
    await driver_rows(session, _drop_lists_stmt(dialect), drop)
    rows = [
        (owner, related, rank, round(float(sim), 6))
        for owner, best in new_edges.items()
        for rank, (related, sim) in enumerate(best)
    ]
    gone: list[tuple[int, int]] = []  # (owner, related)
    moved: list[tuple[int, int, int]] = []  # (owner, related, new rank)
    for owner, (best, before) in changed.items():
        if owner in new_edges:  # rewritten whole above
            continue
        kept = {related: rank for rank, related in enumerate(before)}
        now = {related for related, _sim in best}
        gone += [(owner, r) for r in before if r not in now]
        for rank, (related, sim) in enumerate(best):
            if related not in kept:
                rows.append((owner, related, rank, round(float(sim), 6)))
            elif kept[related] != rank:
                moved.append((owner, related, rank))
    if dialect == "postgresql":
        await _write_arrays(session, groups, gone, moved, rows)
        return
    await driver_executemany(session, _SET_GROUP, [(g, i) for i, g in groups.items()])
    if gone:
        await driver_executemany(session, _DROP_EDGE, gone)
    if moved:
        await driver_executemany(session, _MOVE_EDGE, [(k, o, r) for o, r, k in moved])
    if rows:
        await driver_executemany(session, _ADD_EDGE, rows)


@cache
def _drop_lists_stmt(dialect: str) -> Any:
    return delete(_EDGES).where(one_of_param(dialect, _E.insight_id, "owners"))


# SQLite: each statement an executemany of ready tuples on the session's connection.
_SET_GROUP = "UPDATE insights SET group_id = ? WHERE id = ?"
_DROP_EDGE = "DELETE FROM related_edges WHERE insight_id = ? AND related_id = ?"
_MOVE_EDGE = "UPDATE related_edges SET rank = ? WHERE insight_id = ? AND related_id = ?"
_ADD_EDGE = "INSERT INTO related_edges (insight_id, related_id, rank, score) VALUES (?, ?, ?, ?)"
# PostgreSQL: each one statement over arrays.
_GROUPS = text(
    "UPDATE insights i SET group_id = v.grp FROM unnest(:ids, :groups) AS v(id, grp) "
    "WHERE i.id = v.id"
).bindparams(int_array_param("ids"), int_array_param("groups"))
_GONE = text(
    "DELETE FROM related_edges e USING unnest(:owners, :relateds) AS v(owner, related) "
    "WHERE e.insight_id = v.owner AND e.related_id = v.related"
).bindparams(int_array_param("owners"), int_array_param("relateds"))
_RERANK = text(
    "UPDATE related_edges e SET rank = v.rank "
    "FROM unnest(:owners, :relateds, :ranks) AS v(owner, related, rank) "
    "WHERE e.insight_id = v.owner AND e.related_id = v.related"
).bindparams(int_array_param("owners"), int_array_param("relateds"), int_array_param("ranks"))
_ADD = text(
    "INSERT INTO related_edges (insight_id, related_id, rank, score) "
    "SELECT * FROM unnest(:owners, :relateds, :ranks, :scores)"
).bindparams(
    int_array_param("owners"),
    int_array_param("relateds"),
    int_array_param("ranks"),
    bindparam("scores", type_=ARRAY(Float())),
)


async def _write_arrays(
    session: AsyncSession,
    groups: dict[int, int],
    gone: list[tuple[int, int]],
    moved: list[tuple[int, int, int]],
    rows: list[tuple[int, int, int, float]],
) -> None:
    """PostgreSQL: each kind of change is one statement over arrays, not one per row (some
    500 re-ranked edges an episode: a Bind/Execute each, and the ORM's per-row parameters)."""
    if groups:
        ids = {"ids": IntArray(groups), "groups": IntArray(groups.values())}
        await driver_rows(session, _GROUPS, ids)
    if gone:
        owners, relateds = zip(*gone, strict=True)
        await driver_rows(
            session, _GONE, {"owners": IntArray(owners), "relateds": IntArray(relateds)}
        )
    if moved:
        owners, relateds, ranks = zip(*moved, strict=True)
        await driver_rows(
            session,
            _RERANK,
            {"owners": IntArray(owners), "relateds": IntArray(relateds), "ranks": IntArray(ranks)},
        )
    if rows:
        owners, relateds, ranks, scores = zip(*rows, strict=True)
        await driver_rows(
            session,
            _ADD,
            {
                "owners": IntArray(owners),
                "relateds": IntArray(relateds),
                "ranks": IntArray(ranks),
                "scores": list(scores),
            },
        )


def related_query(insight_id: int, limit: int) -> Select[Insight]:
    """The stored related insights of one insight, best first: one indexed read."""
    return (
        select(Insight)
        .join(RelatedEdge, RelatedEdge.related_id == Insight.id)
        .where(RelatedEdge.insight_id == insight_id)
        .order_by(RelatedEdge.rank)
        .limit(limit)
    )


def related_ids_query() -> Select[int, int]:
    """(rank, id) of an insight's whole list, unordered (at most ten rows): what a listing in
    the chat needs, ordered by the caller (``ranked_ids``). The list is the key's prefix; an
    ORDER BY made SQLite sort it in a temporary B-tree, which doubled the read (10 -> 13-27
    us at the median). Its parameter, ``insight_id``, is given when it runs."""
    return select(RelatedEdge.rank, RelatedEdge.related_id).where(
        RelatedEdge.insight_id == bindparam("insight_id", type_=Integer)
    )


def ranked_ids(rows: Sequence[Any], limit: int) -> list[int]:
    """The ids of ``related_ids_query``'s rows, best first, at most ``limit``."""
    return [int(related) for _rank, related in sorted(rows)[: max(limit, 0)]]


async def related_of(session: AsyncSession, insight_id: int, limit: int) -> list[Insight]:
    """The stored related insights, best first: one indexed read of ``related_edges``."""
    return list((await session.execute(related_query(insight_id, limit))).scalars())
