"""One ingest pass: poll due feeds, fetch pending transcripts, extract pending insights."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.feeds.service import PollPolicy, PollReport, poll_due_feeds
from core.insights.service import InsightReport, extract_pending_insights
from core.llm.extractor import LlmInsightExtractor
from core.llm.reembed import reembed_after_model_change
from core.llm.service import extract_with_llm
from core.ports import Clock, Embedder, Fetcher, InsightExtractor
from core.search.vectors import VectorLibrary
from core.transcripts.service import TranscriptReport, fetch_pending_transcripts

# (stage, done, total): stage is "feeds", "transcripts" or "insights"; total 0 = unknown.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class PipelineReport:
    feeds: PollReport
    transcripts: TranscriptReport
    insights: InsightReport

    def summary(self) -> str:
        ins = self.insights
        return (
            f"{self.feeds.summary()}; {self.transcripts.checked} transcripts checked; "
            f"{ins.insights_created} insights from {ins.episodes_done} episodes"
            + (f" ({ins.episodes_failed} episodes failed)" if ins.episodes_failed else "")
        )


def _noop(stage: str, done: int, total: int) -> None:
    return None


async def extract_insights(
    sessions: async_sessionmaker[AsyncSession],
    extractor: InsightExtractor,
    embedder: Embedder,
    clock: Clock,
    vectors: VectorLibrary | None = None,
) -> InsightReport:
    """The LLM extractor needs its own runner (budget stops, deferred chunks, spend).

    Then insights the current embedding model has no vector for (the model was changed) are
    re-embedded, and related insights rebuilt within that one vector space."""
    if isinstance(extractor, LlmInsightExtractor):
        run = await extract_with_llm(sessions, extractor, embedder, clock, vectors=vectors)
        report = run.insights
    else:
        report = await extract_pending_insights(
            sessions, extractor, embedder, clock, vectors=vectors
        )
    await reembed_after_model_change(sessions, embedder)
    return report


async def run_pipeline(
    sessions: async_sessionmaker[AsyncSession],
    fetcher: Fetcher,
    extractor: InsightExtractor,
    embedder: Embedder,
    clock: Clock,
    *,
    on_progress: Progress | None = None,
    feed_concurrency: int = 20,
    transcript_concurrency: int = 8,
    max_transcript_bytes: int = 20_000_000,
    policy: PollPolicy | None = None,
    vectors: VectorLibrary | None = None,
) -> PipelineReport:
    """Each stage works on what the previous ones (this run or an earlier one) left pending,
    so a run that was interrupted simply continues next time."""
    progress = on_progress or _noop
    feeds = await poll_due_feeds(
        sessions,
        fetcher,
        clock,
        concurrency=feed_concurrency,
        on_progress=lambda done, total: progress("feeds", done, total),
        policy=policy,  # the configured poll interval and backoff (None: the defaults)
    )
    progress("transcripts", 0, 0)
    transcripts = await fetch_pending_transcripts(
        sessions,
        fetcher,
        clock,
        concurrency=transcript_concurrency,
        max_bytes=max_transcript_bytes,
    )
    progress("transcripts", transcripts.checked, transcripts.checked)
    progress("insights", 0, 0)
    insights = await extract_insights(sessions, extractor, embedder, clock, vectors)
    done = insights.episodes_done + insights.episodes_skipped + insights.episodes_failed
    progress("insights", done, done)
    return PipelineReport(feeds, transcripts, insights)
