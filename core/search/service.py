"""One search: parse, match in the database's full-text index, find embedding neighbours, fuse.

"burnout" finds insights that say "burnout" (full text) and those that say "exhaustion" (their
embeddings are close); reciprocal rank fusion merges the two rankings. Filters and exclusions
apply to both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Sessions
from core.models.insights import InsightEmbedding
from core.ports import Embedder, Vectors
from core.search.fulltext import filtered_newest, keep_matching, text_matches
from core.search.fusion import portable_order, reciprocal_rank_fusion
from core.search.query import ParsedQuery, parse_query
from core.search.vectors import VectorLibrary

TEXT_CANDIDATES = 200  # best full-text matches (by the engine's rank) that are fused
SEMANTIC_CANDIDATES = 50  # nearest insights by embedding that are fused
SEMANTIC_MIN = 0.45  # cosine below which an embedding neighbour is not offered (WordLlama)
SEMANTIC_POOL = 2000  # without a vector index: newest insights compared by embedding


@dataclass(frozen=True, slots=True)
class SearchResult:
    insight_ids: list[int]
    exact: bool  # True: the words were found; False: only similar in meaning
    problem: str | None = None  # the query could not be run as typed: say this instead


async def search(
    sessions: Sessions,
    embedder: Embedder | None,
    raw_query: str,
    *,
    limit: int = 5,
    library: VectorLibrary | None = None,
) -> SearchResult:
    query = parse_query(raw_query)
    if query.problem:
        return SearchResult([], exact=False, problem=query.problem)
    if not (query.has_text or query.has_filters):  # only stop words or punctuation
        return SearchResult([], exact=False)
    async with sessions() as session:
        if not query.has_text:
            return SearchResult(await filtered_newest(session, query, limit), exact=True)
        text_ranking = await _text_ranking(session, query)
        if not text_ranking and len(query.terms) > 1:  # a question's words are seldom all there
            text_ranking = await _text_ranking(session, replace(query, any_term=True))
    # Outside that session: embedding the query (a thread) and the index (its lock, and its
    # catch-up's own session) must not wait while holding a connection of the pool.
    semantic_ranking = await _semantic(sessions, embedder, library, query)
    if text_ranking:
        fused = reciprocal_rank_fusion(text_ranking, semantic_ranking)
        return SearchResult(fused[:limit], exact=True)
    return SearchResult(semantic_ranking[:limit], exact=False)


async def _text_ranking(session: AsyncSession, query: ParsedQuery) -> list[int]:
    rows = await text_matches(session, query, TEXT_CANDIDATES)
    words = [*query.terms, *(w for p in query.phrases for w in p)]
    if query.any_term:  # phrases must still match: only the single words are optional
        phrase_words = [w for p in query.phrases for w in p]
        keep = set(portable_order(phrase_words, rows)) if phrase_words else None
        ranked = portable_order(words, rows, any_word=True)
        return [i for i in ranked if keep is None or i in keep]
    return portable_order(words, rows)


async def _semantic(
    sessions: Sessions,
    embedder: Embedder | None,
    library: VectorLibrary | None,
    query: ParsedQuery,
) -> list[int]:
    """Insights close in meaning to the query's words, passing its filters and exclusions."""
    if embedder is None or not query.terms:  # an exact phrase alone asks for those words
        return []
    try:
        vector = (await embedder.embed([query.semantic_text]))[0]
    except Exception:  # an embedder that cannot embed now only loses this half of the answer
        return []
    if library is not None and library.model == embedder.name:
        ids, sims = await library.neighbours(vector[None, :], SEMANTIC_CANDIDATES)
        pairs = [(int(i), float(s)) for i, s in zip(ids[0], sims[0], strict=True) if i >= 0]
    else:
        async with sessions() as session:
            pairs = await _newest_similar(session, embedder.name, vector)
    close = [i for i, s in sorted(pairs, key=lambda p: (-p[1], -p[0])) if s >= SEMANTIC_MIN]
    async with sessions() as session:  # connects only if the query has filters to check
        allowed = await keep_matching(session, query, close)
    return [i for i in close if i in allowed]


async def _newest_similar(
    session: AsyncSession, model: str, vector: Vectors
) -> list[tuple[int, float]]:
    """Without an index: cosine against the newest stored vectors only."""
    stmt = (
        select(InsightEmbedding.insight_id, InsightEmbedding.vector)
        .where(InsightEmbedding.model == model)
        .order_by(InsightEmbedding.id.desc())
        .limit(SEMANTIC_POOL)
    )
    pairs: list[tuple[int, float]] = []
    for insight_id, blob in (await session.execute(stmt)).all():
        stored = np.frombuffer(blob, dtype=np.float32)
        if stored.shape == vector.shape:
            pairs.append((int(insight_id), float(np.dot(stored, vector))))
    pairs.sort(key=lambda p: -p[1])
    return pairs[:SEMANTIC_CANDIDATES]
