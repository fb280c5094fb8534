"""Insight extraction over stored transcripts, and the related-insights read.

Each pending episode is extracted and embedded outside any transaction, then its insights,
topics, embeddings and related edges are stored in one transaction. A failing episode is marked
``failed`` with the reason in ``insight_error``; the batch goes on. When the engine or the
embedder says ``TryLater`` (a model's server down, today's budget spent) the run stops there:
that episode and the rest stay pending, nothing of them is stored, and the next run resumes.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import inline_reads, transaction
from core.domain import EpisodeInfo, InsightDraft, SegmentData, TryLater
from core.insights.errors import ExtractionSkipped
from core.insights.offline.text import collapse
from core.insights.quality import Gate
from core.insights.related import (
    RelatedConfig,
    link_new_insights,
    ranked_ids,
    related_ids_query,
    related_of,
)
from core.models.feeds import Episode, Feed
from core.models.insights import Insight, InsightEmbedding, InsightTopic
from core.models.transcripts import Segment, Transcript
from core.ports import Clock, Embedder, InsightExtractor
from core.search.vectors import VectorLibrary
from core.topics.normalise import normalise_topic

log = logging.getLogger(__name__)
HEADLINE_MAX = 90


@dataclass
class InsightReport:
    episodes_done: int = 0
    episodes_skipped: int = 0  # nothing worth an insight (thin transcript, short show notes)
    episodes_failed: int = 0
    insights_created: int = 0
    dropped_drafts: int = 0  # drafts whose quote was not verbatim in the transcript
    rejected_drafts: int = 0  # drafts the shared quality gate turned away
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[int, str]] = field(default_factory=list)
    stopped: str | None = None  # why the run stopped early (TryLater), in plain words
    deferred: list[int] = field(default_factory=list)  # left pending for the next run


@dataclass(frozen=True, slots=True)
class _Stored:
    insights: int
    dropped: int
    rejected: Counter[str] = field(default_factory=Counter)


async def extract_pending_insights(
    sessions: async_sessionmaker[AsyncSession],
    extractor: InsightExtractor,
    embedder: Embedder,
    clock: Clock,
    *,
    episode_ids: Sequence[int] | None = None,
    related_config: RelatedConfig | None = None,
    vectors: VectorLibrary | None = None,
) -> InsightReport:
    """Extract, store and link insights for every pending episode that has a transcript."""
    report = InsightReport()
    pending = await pending_episodes(sessions, episode_ids)
    for position, episode_id in enumerate(pending):
        try:
            stored = await _extract_episode(
                sessions, episode_id, extractor, embedder, clock, related_config, vectors
            )
        except TryLater as exc:  # not the episode's fault: it and the rest wait for a later run
            cause = getattr(exc, "cause", exc)
            report.stopped = str(cause) or type(cause).__name__
            report.deferred = pending[position:]
            log.warning("insight extraction stopped: %s", report.stopped)
            break
        except Exception as exc:  # one bad episode must not stop the batch
            message = f"could not extract insights: {exc or type(exc).__name__}"
            log.warning("episode %s: %s", episode_id, message, exc_info=True)
            await _mark_failed(sessions, episode_id, message)
            report.episodes_failed += 1
            report.failures.append((episode_id, message))
            continue
        report.dropped_drafts += stored.dropped
        report.rejected_drafts += sum(stored.rejected.values())
        report.rejected_by_reason.update(stored.rejected)
        report.insights_created += stored.insights
        if stored.insights:
            report.episodes_done += 1
        else:
            report.episodes_skipped += 1
    return report


async def related_insights(
    sessions: async_sessionmaker[AsyncSession], insight_id: int, *, limit: int = 5
) -> list[Insight]:
    """Related insights of one insight, best first (other shows first): one indexed read."""
    async with sessions() as session:
        return await related_of(session, insight_id, limit)


async def related_ids(
    sessions: async_sessionmaker[AsyncSession], insight_id: int, *, limit: int = 5
) -> list[int]:
    """The ids of an insight's related insights, best first (what the chat lists): a read the
    chat does many times, so it runs without an async hand-off (see ``InlineReads``)."""
    params = {"insight_id": insight_id}
    return ranked_ids(await inline_reads(sessions).rows(related_ids_query, params), limit)


def embedding_text(draft: InsightDraft) -> str:
    return f"{draft.headline}. {draft.body}"


async def pending_episodes(
    sessions: async_sessionmaker[AsyncSession], episode_ids: Sequence[int] | None
) -> list[int]:
    query = (
        select(Episode.id)
        .join(Transcript, Transcript.episode_id == Episode.id)
        .where(Episode.insight_status == "pending")
        .order_by(Episode.id)
    )
    if episode_ids is not None:
        query = query.where(Episode.id.in_(list(episode_ids)))
    async with sessions() as session:
        return list((await session.execute(query)).scalars())


async def load_episode(
    sessions: async_sessionmaker[AsyncSession], episode_id: int
) -> tuple[EpisodeInfo, list[SegmentData]]:
    async with sessions() as session:
        episode, feed_title, transcript = (
            await session.execute(
                select(Episode, Feed.title, Transcript)
                .join(Feed, Feed.id == Episode.feed_id)
                .join(Transcript, Transcript.episode_id == Episode.id)
                .where(Episode.id == episode_id)
            )
        ).one()
        segments = (
            await session.execute(
                select(Segment).where(Segment.transcript_id == transcript.id).order_by(Segment.idx)
            )
        ).scalars()
        data = [SegmentData(s.start, s.end, s.text, s.speaker) for s in segments]
    info = EpisodeInfo(
        episode_id=episode.id,
        feed_id=episode.feed_id,
        show_title=feed_title or "",
        episode_title=episode.title,
        published_at=episode.published_at,
        duration_seconds=episode.duration_seconds or transcript.duration_seconds,
        description=episode.description,
        is_fallback=transcript.is_fallback,
    )
    return info, data


async def _extract_episode(
    sessions: async_sessionmaker[AsyncSession],
    episode_id: int,
    extractor: InsightExtractor,
    embedder: Embedder,
    clock: Clock,
    related_config: RelatedConfig | None,
    library: VectorLibrary | None = None,
) -> _Stored:
    info, segments = await load_episode(sessions, episode_id)
    try:
        drafts = await extractor.extract(info, segments)
    except ExtractionSkipped as exc:  # e.g. the offline engine and a non-English transcript
        async with transaction(sessions) as session:
            await _claim(session, episode_id, "skipped", note=str(exc))
        return _Stored(0, 0)
    grounded = [d for d in drafts if _is_grounded(d, segments)]
    # One quality gate for every engine, after grounding and before anything is stored.
    gate = Gate()
    grounded = gate.admit(grounded, segments)
    vectors = await embedder.embed([embedding_text(d) for d in grounded]) if grounded else None
    async with transaction(sessions) as session:
        status = "done" if grounded else "skipped"
        if not await _claim(session, episode_id, status, rejected=gate.total_rejected):
            return _Stored(0, 0)  # another worker got there first
        engine = next((d.engine for d in drafts if d.engine), extractor.name)
        ids = await _store(session, info, grounded, engine, clock)
        if vectors is not None:
            _check_vectors(vectors, len(grounded))
            model = embedder.name
            session.add_all(
                InsightEmbedding(insight_id=i, model=model, dim=int(v.shape[0]), vector=v.tobytes())
                for i, v in zip(ids, vectors, strict=True)
            )
            await session.flush()
            await link_new_insights(session, ids, model, related_config, library=library)
    dropped = len(drafts) - len(grounded) - gate.total_rejected
    return _Stored(len(ids), dropped, gate.rejected)


async def _claim(
    session: AsyncSession,
    episode_id: int,
    status: str,
    *,
    note: str | None = None,
    rejected: int = 0,
) -> bool:
    """Take a pending episode; ``note`` is why nothing was extracted, in plain words."""
    result: Any = await session.execute(
        update(Episode)
        .where(Episode.id == episode_id, Episode.insight_status == "pending")
        .values(insight_status=status, insight_error=note, insights_rejected=rejected)
    )
    return bool(result.rowcount)


async def _store(
    session: AsyncSession,
    info: EpisodeInfo,
    drafts: list[InsightDraft],
    extractor_name: str,
    clock: Clock,
) -> list[int]:
    now = clock.now()
    rows = [
        Insight(
            episode_id=info.episode_id,
            feed_id=info.feed_id,
            headline=_fit_headline(d.headline),
            body=d.body,
            quote=d.quote,
            speaker=d.speaker,
            start_seconds=d.start_seconds,
            end_seconds=d.end_seconds,
            topics=_topics(d.topics),
            score=float(d.score),
            extractor=extractor_name,
            created_at=now,
        )
        for d in drafts
    ]
    session.add_all(rows)
    await session.flush()
    session.add_all(InsightTopic(insight_id=r.id, topic=t) for r in rows for t in r.topics)
    await session.flush()
    return [r.id for r in rows]


def _fit_headline(headline: str) -> str:
    """At most 90 characters, cut at a word boundary (another engine may write longer)."""
    headline = " ".join(headline.split())
    if len(headline) <= HEADLINE_MAX:
        return headline
    cut = headline.rfind(" ", 0, HEADLINE_MAX)
    return headline[: cut if cut > 0 else HEADLINE_MAX - 1].rstrip(" ,;:-") + "…"


def _topics(raw: list[str]) -> list[str]:
    topics: list[str] = []
    for topic in raw:
        tag = normalise_topic(topic)[:100]
        if tag and tag not in topics:
            topics.append(tag)
    return topics


def _is_grounded(draft: InsightDraft, segments: list[SegmentData]) -> bool:
    """Whatever engine wrote it, an insight's quote must be the transcript's own words."""
    quote = collapse(draft.quote)
    if not quote or not draft.headline.strip():
        return False
    return quote in collapse(" ".join(s.text for s in segments))


def _check_vectors(vectors: np.ndarray, expected: int) -> None:
    if vectors.ndim != 2 or vectors.shape[0] != expected:
        raise ValueError(
            f"the embedder returned {vectors.shape[0]} vectors for {expected} insights"
        )


async def _mark_failed(
    sessions: async_sessionmaker[AsyncSession], episode_id: int, message: str
) -> None:
    async with transaction(sessions) as session:
        await session.execute(
            update(Episode)
            .where(Episode.id == episode_id)
            .values(insight_status="failed", insight_error=message[:2000])
        )
