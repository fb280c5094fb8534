"""Search over stored insights: keyword matches first, embedding similarity to rank and to fill.

Keywords are matched in SQL (headline, body, quote, topics) so a large library is not loaded;
the embedding similarity of the query to each candidate then orders them. With no keyword
match, the most similar insights above a threshold are offered as "closest" instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, or_, select

from core.db import Sessions
from core.models import Insight, InsightEmbedding, InsightTopic
from core.ports import Embedder

KEYWORD_CANDIDATES = 200
SEMANTIC_POOL = 2000  # newest insights compared by embedding when no keyword matches
SEMANTIC_MIN = 0.45

_STOP = {
    "a", "an", "the", "and", "or", "of", "on", "in", "to", "for", "about", "with", "is", "are",
    "was", "what", "who", "how", "any", "anything", "they", "said", "say", "did", "do", "does",
    "there", "it", "this", "that", "me", "you", "i", "we", "some", "thing", "things", "stuff",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class SearchResult:
    insight_ids: list[int]
    exact: bool  # True: the words were found; False: only similar in meaning


def query_terms(query: str) -> list[str]:
    words = re.findall(r"[\w+#-]+", query.lower())
    terms = [w for w in words if w not in _STOP and len(w) > 1]
    return list(dict.fromkeys(terms))[:8]


def _stem(term: str) -> str:
    """'pricing' also finds 'price', 'agents' finds 'agent'."""
    for suffix in ("ing", "es", "s", "ed"):
        if term.endswith(suffix) and len(term) - len(suffix) >= 4:
            return term[: -len(suffix)]
    return term


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def _keyword_hits(sessions: Sessions, terms: list[str]) -> dict[int, int]:
    """insight id -> how many of the terms it mentions."""
    hits: dict[int, int] = {}
    async with sessions() as session:
        for term in terms:
            pattern = f"%{_escape_like(_stem(term))}%"
            text_match = or_(
                func.lower(Insight.headline).like(pattern, escape="\\"),
                func.lower(Insight.body).like(pattern, escape="\\"),
                func.lower(Insight.quote).like(pattern, escape="\\"),
                Insight.id.in_(
                    select(InsightTopic.insight_id).where(
                        InsightTopic.topic.like(pattern, escape="\\")
                    )
                ),
            )
            stmt = (
                select(Insight.id)
                .where(text_match)
                .order_by(Insight.score.desc())
                .limit(KEYWORD_CANDIDATES)
            )
            for (insight_id,) in (await session.execute(stmt)).all():
                hits[insight_id] = hits.get(insight_id, 0) + 1
    return hits


async def _similarities(
    sessions: Sessions, embedder: Embedder, query: str, ids: list[int] | None
) -> dict[int, float]:
    """Cosine similarity of the query to stored vectors of the same embedder."""
    try:
        name = embedder.name
        vector = (await embedder.embed([query]))[0]
    except Exception:  # an embedder that cannot embed now only loses the ranking, not the answer
        return {}
    stmt = select(InsightEmbedding.insight_id, InsightEmbedding.vector).where(
        InsightEmbedding.model == name
    )
    if ids is not None:
        stmt = stmt.where(InsightEmbedding.insight_id.in_(ids))
    else:
        stmt = stmt.order_by(InsightEmbedding.insight_id.desc()).limit(SEMANTIC_POOL)
    async with sessions() as session:
        rows = (await session.execute(stmt)).all()
    out: dict[int, float] = {}
    for insight_id, blob in rows:
        stored = np.frombuffer(blob, dtype=np.float32)
        if stored.shape == vector.shape:
            out[insight_id] = float(np.dot(stored, vector))
    return out


async def search_insights(
    sessions: Sessions, embedder: Embedder | None, query: str, *, limit: int = 5
) -> SearchResult:
    terms = query_terms(query)
    if not terms:
        return SearchResult([], exact=False)
    hits = await _keyword_hits(sessions, terms)
    if hits:
        sims = await _similarities(sessions, embedder, query, list(hits)) if embedder else {}
        ranked = sorted(hits, key=lambda i: (hits[i], sims.get(i, 0.0)), reverse=True)
        return SearchResult(ranked[:limit], exact=True)
    if embedder is None:
        return SearchResult([], exact=False)
    sims = await _similarities(sessions, embedder, query, None)
    close = [i for i, s in sorted(sims.items(), key=lambda kv: -kv[1]) if s >= SEMANTIC_MIN]
    return SearchResult(close[:limit], exact=False)
