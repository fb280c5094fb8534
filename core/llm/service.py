"""LLM extraction runs: each pending episode is extracted first (all API calls happen here),
then stored by ``core.insights.service`` in one transaction, from the extractor's cache.

When the daily budget is spent or the server stays unavailable, the run stops cleanly: the
episode in hand stays pending, nothing of it is stored, and the next run resumes it (chunks
already answered come from the cache, so nothing is paid twice).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import transaction
from core.domain import EpisodeInfo, InsightDraft, SegmentData
from core.insights.errors import ExtractionSkipped
from core.insights.related import RelatedConfig
from core.insights.service import (
    InsightReport,
    extract_pending_insights,
    load_episode,
    pending_episodes,
)
from core.llm.extractor import LlmInsightExtractor
from core.llm.types import DEFERRED_PREFIX, BudgetExhausted, ExtractionDeferred, LlmUnavailable
from core.models.feeds import Episode
from core.ports import Clock, Embedder, Vectors
from core.search.vectors import VectorLibrary

log = logging.getLogger(__name__)


@dataclass
class LlmRunReport:
    insights: InsightReport = field(default_factory=InsightReport)
    deferred: list[int] = field(default_factory=list)  # left pending for the next run
    stopped: str | None = None  # why the run stopped early, in plain words
    quotes_dropped: int = 0
    quotes_repaired: int = 0
    fallbacks: int = 0


async def extract_with_llm(
    sessions: async_sessionmaker[AsyncSession],
    extractor: LlmInsightExtractor,
    embedder: Embedder,
    clock: Clock,
    *,
    episode_ids: Sequence[int] | None = None,
    related_config: RelatedConfig | None = None,
    vectors: VectorLibrary | None = None,
) -> LlmRunReport:
    report = LlmRunReport()
    before = (extractor.stats.quotes_dropped, extractor.stats.quotes_repaired)
    fallbacks_before = extractor.stats.fallbacks
    await requeue_deferred(sessions)
    pending = await pending_episodes(sessions, episode_ids)
    for position, episode_id in enumerate(pending):
        info, segments = await load_episode(sessions, episode_id)
        skipped: ExtractionSkipped | None = None
        try:
            drafts, engine = await extractor.extract_labelled(info, segments)
        except ExtractionDeferred as exc:
            report.stopped = str(exc.cause)
            report.deferred = pending[position:]
            log.warning("LLM extraction stopped: %s", exc)
            break
        except ExtractionSkipped as exc:  # the offline fallback cannot read this episode
            drafts, engine, skipped = [], extractor.name, exc
        part = await extract_pending_insights(
            sessions, Prepared(engine, drafts, skipped), DeferringEmbedder(embedder), clock,
            episode_ids=[episode_id], related_config=related_config, vectors=vectors,
        )  # fmt: skip
        if await requeue_deferred(sessions):  # the embeddings API is down or over budget
            why = [m.split(DEFERRED_PREFIX, 1)[1] for _, m in part.failures if DEFERRED_PREFIX in m]
            report.stopped = why[0] if why else "an episode was deferred"
            report.deferred = pending[position:]
            log.warning("LLM extraction stopped: %s", report.stopped)
            break
        _add(report.insights, part)
    report.quotes_dropped = extractor.stats.quotes_dropped - before[0]
    report.quotes_repaired = extractor.stats.quotes_repaired - before[1]
    report.fallbacks = extractor.stats.fallbacks - fallbacks_before
    report.insights.dropped_drafts += report.quotes_dropped
    return report


class Prepared:
    """One episode's drafts, already extracted, under the name of the engine that wrote them
    (so the stored ``extractor`` says "offline" after a fallback, and nothing is asked twice)."""

    def __init__(
        self, name: str, drafts: list[InsightDraft], skipped: ExtractionSkipped | None = None
    ) -> None:
        self._name = name
        self._drafts = drafts
        self._skipped = skipped

    @property
    def name(self) -> str:
        return self._name

    async def extract(
        self, episode: EpisodeInfo, segments: Sequence[SegmentData]
    ) -> list[InsightDraft]:
        if self._skipped is not None:
            raise self._skipped
        return list(self._drafts)


class DeferringEmbedder:
    """An API embedder that is down (or over budget) defers the episode, like the model being
    down does: the plain insight service then marks it as deferred, not as failed for good."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner

    @property
    def name(self) -> str:
        return self._inner.name

    async def embed(self, texts: Sequence[str]) -> Vectors:
        try:
            return await self._inner.embed(texts)
        except (LlmUnavailable, BudgetExhausted) as exc:
            raise ExtractionDeferred(exc) from exc


async def requeue_deferred(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Episodes the plain insight service marked failed only because extraction was deferred
    (budget spent, server down) go back to pending; returns how many."""
    async with transaction(sessions) as session:
        result: Any = await session.execute(
            update(Episode)
            .where(
                Episode.insight_status == "failed",
                Episode.insight_error.like(f"%{DEFERRED_PREFIX}%"),
            )
            .values(insight_status="pending", insight_error=None)
        )
    return int(result.rowcount or 0)


def _add(total: InsightReport, part: InsightReport) -> None:
    total.episodes_done += part.episodes_done
    total.episodes_skipped += part.episodes_skipped
    total.episodes_failed += part.episodes_failed
    total.insights_created += part.insights_created
    total.dropped_drafts += part.dropped_drafts
    total.rejected_drafts += part.rejected_drafts
    total.rejected_by_reason.update(part.rejected_by_reason)
    total.failures += part.failures
