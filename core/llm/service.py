"""An LLM extraction run with its model-side figures: the plain insight service does the run
(the LLM extractor is an ``InsightExtractor`` like any other), and this adds what the model
did along the way for `podbrief llm extract`.

When the daily budget is spent or the server stays unavailable, the extractor (or the API
embedder) says ``TryLater``: the insight service stops there, the episode in hand stays pending,
nothing of it is stored, and the next run resumes it (chunks already answered come from the
extractor's cache, so nothing is paid twice).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.insights.related import RelatedConfig
from core.insights.service import InsightReport, extract_pending_insights
from core.llm.extractor import LlmInsightExtractor
from core.ports import Clock, Embedder
from core.search.vectors import VectorLibrary


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
    stats = extractor.stats
    dropped, repaired, fallbacks = stats.quotes_dropped, stats.quotes_repaired, stats.fallbacks
    insights = await extract_pending_insights(
        sessions, extractor, embedder, clock,
        episode_ids=episode_ids, related_config=related_config, vectors=vectors,
    )  # fmt: skip
    report = LlmRunReport(
        insights=insights,
        deferred=list(insights.deferred),
        stopped=insights.stopped,
        quotes_dropped=stats.quotes_dropped - dropped,
        quotes_repaired=stats.quotes_repaired - repaired,
        fallbacks=stats.fallbacks - fallbacks,
    )
    report.insights.dropped_drafts += report.quotes_dropped
    return report
