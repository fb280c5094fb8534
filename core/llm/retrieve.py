"""What a question is answered from: stored insights and transcript passages, each a source
with a short key ("I1", "P1") the model cites, and the show, episode and time it came from."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.cards import load_rows
from core.chat.search import query_terms, search_insights
from core.db import Sessions
from core.models import Episode, Feed, Segment, Transcript
from core.ports import Embedder
from core.search.vectors import VectorLibrary

PASSAGE_CHARS = 500
CANDIDATES_PER_TERM = 200


@dataclass(frozen=True, slots=True)
class Source:
    key: str  # "I1" for an insight, "P1" for a transcript passage
    insight_id: int | None
    show: str
    episode: str
    start_seconds: float
    speaker: str | None
    text: str


async def retrieve(
    sessions: Sessions,
    embedder: Embedder | None,
    query: str,
    *,
    insights: int = 5,
    passages: int = 4,
    library: VectorLibrary | None = None,
) -> list[Source]:
    found = await search_insights(sessions, embedder, query, limit=insights, library=library)
    rows = await load_rows(sessions, found.insight_ids)
    sources = [
        Source(
            key=f"I{n}",
            insight_id=row.insight.id,
            show=row.feed.title or "Untitled show",
            episode=row.episode.title,
            start_seconds=row.insight.start_seconds,
            speaker=row.insight.speaker,
            text=f"{row.insight.headline}. {row.insight.body} Quote: “{row.insight.quote}”",
        )
        for n, row in enumerate((rows[i] for i in found.insight_ids if i in rows), start=1)
    ]
    return sources + await _passages(sessions, query_terms(query), passages)


def _stem(term: str) -> str:
    for suffix in ("ing", "es", "s", "ed"):
        if term.endswith(suffix) and len(term) - len(suffix) >= 4:
            return term[: -len(suffix)]
    return term


async def _passages(sessions: Sessions, terms: list[str], limit: int) -> list[Source]:
    """Transcript segments mentioning the most terms, each with the segment after it."""
    if not terms or limit <= 0:
        return []
    hits: dict[int, int] = {}
    async with sessions() as session:
        for term in terms:
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", _stem(term)) + "%"
            stmt = (
                select(Segment.id)
                .where(func.lower(Segment.text).like(pattern, escape="\\"))
                .limit(CANDIDATES_PER_TERM)
            )
            for (segment_id,) in (await session.execute(stmt)).all():
                hits[segment_id] = hits.get(segment_id, 0) + 1
        best = sorted(hits, key=lambda i: (-hits[i], i))[:limit]
        return [await _passage(session, segment_id, n) for n, segment_id in enumerate(best, 1)]


async def _passage(session: AsyncSession, segment_id: int, n: int) -> Source:
    segment, episode_title, show = (
        await session.execute(
            select(Segment, Episode.title, Feed.title)
            .join(Transcript, Transcript.id == Segment.transcript_id)
            .join(Episode, Episode.id == Transcript.episode_id)
            .join(Feed, Feed.id == Episode.feed_id)
            .where(Segment.id == segment_id)
        )
    ).one()
    following = await session.scalar(
        select(Segment.text).where(
            Segment.transcript_id == segment.transcript_id, Segment.idx == segment.idx + 1
        )
    )
    text = " ".join(f"{segment.text} {following or ''}".split())[:PASSAGE_CHARS]
    return Source(
        key=f"P{n}",
        insight_id=None,
        show=show or "Untitled show",
        episode=episode_title,
        start_seconds=segment.start,
        speaker=segment.speaker,
        text=text,
    )
