"""One ingest pass: poll due feeds, fetch pending transcripts, extract pending insights.

The only ingest there is: `podbrief ingest`, the demo and the scheduler all run it, each with
its own progress display and parse executor (the CLI parses feeds in a process pool)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from core.db import Sessions
from core.feeds.service import PollPolicy, PollReport, poll_due_feeds
from core.insights.service import InsightReport, extract_pending_insights
from core.llm.reembed import reembed_after_model_change
from core.ports import Clock, Embedder, Fetcher, InsightExtractor
from core.search.vectors import VectorLibrary
from core.transcripts.service import TranscriptReport, fetch_pending_transcripts

# (stage, done, total): stage is "feeds", "transcripts" or "insights"; total 0 = unknown.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class PipelineReport:
    feeds: PollReport
    transcripts: TranscriptReport | None  # None: the run skipped the stage
    insights: InsightReport | None

    def summary(self) -> str:
        ins = self.insights or InsightReport()
        checked = self.transcripts.checked if self.transcripts else 0
        return (
            f"{self.feeds.summary()}; {checked} transcripts checked; "
            f"{ins.insights_created} insights from {ins.episodes_done} episodes"
            + (f" ({ins.episodes_failed} episodes failed)" if ins.episodes_failed else "")
        )


def _noop(stage: str, done: int, total: int) -> None:
    return None


async def extract_insights(
    sessions: Sessions,
    extractor: InsightExtractor,
    embedder: Embedder,
    clock: Clock,
    *,
    vectors: VectorLibrary | None = None,
) -> InsightReport:
    """Pending episodes to insights through the insight service with ``extractor`` (offline or
    the LLM one: the same port), linking through the vector index ``vectors`` when given.

    Then insights the current embedding model has no vector for (the model was changed) are
    re-embedded, and related insights rebuilt within that one vector space."""
    report = await extract_pending_insights(sessions, extractor, embedder, clock, vectors=vectors)
    await reembed_after_model_change(sessions, embedder, vectors)
    return report


async def run_pipeline(
    sessions: Sessions,
    fetcher: Fetcher,
    extractor: InsightExtractor | None,
    embedder: Embedder | None,
    clock: Clock,
    *,
    on_progress: Progress | None = None,
    feed_concurrency: int = 20,
    transcript_concurrency: int = 8,
    max_transcript_bytes: int = 20_000_000,
    policy: PollPolicy | None = None,
    parse_executor: Executor | None = None,
    every_feed: bool = False,
    transcripts: bool = True,
    insights: bool = True,
    vectors: VectorLibrary | None = None,
) -> PipelineReport:
    """Each stage works on what the previous ones (this run or an earlier one) left pending,
    so a run that was interrupted simply continues next time. ``every_feed`` polls feeds that
    are not due too; ``transcripts`` / ``insights`` False skip those stages (``extractor``
    and ``embedder`` may be None when insights are skipped)."""
    progress = on_progress or _noop
    feeds = await poll_due_feeds(
        sessions,
        fetcher,
        clock,
        concurrency=feed_concurrency,
        on_progress=lambda done, total: progress("feeds", done, total),
        policy=policy,  # the configured poll interval and backoff (None: the defaults)
        parse_executor=parse_executor,
        every_feed=every_feed,
    )
    fetched = (
        await _transcripts(
            sessions, fetcher, clock, progress, transcript_concurrency, max_transcript_bytes
        )
        if transcripts
        else None
    )
    extracted = None
    if insights:
        if extractor is None or embedder is None:
            raise ValueError("extracting insights needs an extractor and an embedder")
        extracted = await _insights(sessions, extractor, embedder, clock, progress, vectors)
    return PipelineReport(feeds, fetched, extracted)


async def _transcripts(
    sessions: Sessions,
    fetcher: Fetcher,
    clock: Clock,
    progress: Progress,
    concurrency: int,
    max_bytes: int,
) -> TranscriptReport:
    progress("transcripts", 0, 0)
    report = await fetch_pending_transcripts(
        sessions, fetcher, clock, concurrency=concurrency, max_bytes=max_bytes
    )
    progress("transcripts", report.checked, report.checked)
    return report


async def _insights(
    sessions: Sessions,
    extractor: InsightExtractor,
    embedder: Embedder,
    clock: Clock,
    progress: Progress,
    vectors: VectorLibrary | None,
) -> InsightReport:
    progress("insights", 0, 0)
    report = await extract_insights(sessions, extractor, embedder, clock, vectors=vectors)
    done = report.episodes_done + report.episodes_skipped + report.episodes_failed
    progress("insights", done, done)
    return report
