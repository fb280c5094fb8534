"""run_pipeline over the bundled sample shows (file:// feeds with transcripts next to them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select

from adapters.http_fetch import HttpFetcher
from bot.settings import CONFIG_DIR
from core.db import Sessions
from core.embeddings import LsaEmbedder
from core.feeds.service import PollPolicy, add_feed
from core.ingest.pipeline import run_pipeline
from core.insights.offline import OfflineInsightExtractor
from core.models import Episode, Feed, Insight, Segment
from tests.fakes.clock import FakeClock


@pytest.fixture
async def fetcher() -> AsyncIterator[HttpFetcher]:
    client = HttpFetcher()
    try:
        yield client
    finally:
        await client.aclose()


async def _count(sessions: Sessions, model: type[object]) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_pipeline_turns_sample_feeds_into_insights_and_is_idempotent(
    sessions: Sessions, clock: FakeClock, fetcher: HttpFetcher
) -> None:
    samples = sorted((CONFIG_DIR / "samples").glob("*.xml"))
    assert len(samples) >= 3
    for path in samples:
        await add_feed(sessions, clock, str(path))
    seen: list[tuple[str, int, int]] = []
    corpus_embedder = LsaEmbedder(dim=32)

    def progress(stage: str, done: int, total: int) -> None:
        seen.append((stage, done, total))

    report = await run_pipeline(
        sessions, fetcher, OfflineInsightExtractor(), corpus_embedder, clock, on_progress=progress
    )
    episodes = await _count(sessions, Episode)
    assert episodes >= 6 and report.feeds.new_episodes == episodes
    assert report.transcripts.fetched == episodes and report.transcripts.failed == 0
    assert report.insights.insights_created == await _count(sessions, Insight) >= episodes
    assert await _count(sessions, Segment) > 100
    assert [s for s, _, _ in seen if s != "feeds"][-1] == "insights"
    assert ("feeds", len(samples), len(samples)) in seen
    async with sessions() as session:
        speakers = (await session.execute(select(Insight.speaker).distinct())).scalars().all()
    assert len([s for s in speakers if s]) >= 3  # quotes carry the real speakers
    assert "insights from" in report.summary()

    again = await run_pipeline(sessions, fetcher, OfflineInsightExtractor(), corpus_embedder, clock)
    assert again.feeds.outcomes == []  # nothing due yet
    assert again.insights.insights_created == 0
    assert await _count(sessions, Insight) == report.insights.insights_created


async def test_pipeline_polls_with_the_given_interval(
    sessions: Sessions, clock: FakeClock, fetcher: HttpFetcher
) -> None:
    for path in sorted((CONFIG_DIR / "samples").glob("*.xml")):
        await add_feed(sessions, clock, str(path))
    clock.advance(timedelta(hours=1))  # every feed is due again
    policy = PollPolicy(interval=timedelta(minutes=7))
    report = await run_pipeline(
        sessions, fetcher, OfflineInsightExtractor(), LsaEmbedder(dim=32), clock, policy=policy
    )
    assert report.feeds.outcomes and not report.feeds.count("failed")
    async with sessions() as session:
        due = (await session.execute(select(Feed.next_poll_at))).scalars().all()
    # SQLite hands datetimes back naive (UTC); compare in UTC either way.
    assert None not in due
    for moment in (d.replace(tzinfo=UTC) for d in due if d):
        # Each feed at its own phase of the 7-minute interval: half to one and a half away.
        assert (
            clock.now() + timedelta(minutes=3.5) <= moment <= clock.now() + timedelta(minutes=10.5)
        )
