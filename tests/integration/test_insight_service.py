"""extract_pending_insights over real transcripts, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select

from core.db import Sessions, transaction
from core.domain import EpisodeInfo, InsightDraft, SegmentData
from core.embeddings import WordLlamaEmbedder
from core.ingest.stats import collect_stats
from core.insights.offline import OfflineInsightExtractor
from core.insights.service import extract_pending_insights, related_insights
from core.models.feeds import Episode, Feed
from core.models.insights import Insight, InsightEmbedding, InsightTopic, RelatedEdge
from core.models.transcripts import Segment, Transcript
from core.transcripts.parse import parse_transcript
from tests.fakes.clock import FakeClock
from tests.fakes.insights import FailingExtractor, InventingExtractor


async def store_episode(sessions: Sessions, show: str, path: Path) -> int:
    data = await asyncio.to_thread(path.read_bytes)
    parsed = parse_transcript(data, url=path.name)
    async with transaction(sessions) as session:
        feed = (await session.execute(select(Feed).where(Feed.url == show))).scalar_one_or_none()
        if feed is None:
            feed = Feed(url=show, title=show)
            session.add(feed)
            await session.flush()
        episode = Episode(
            feed_id=feed.id,
            dedup_key=f"guid:{path.name}",
            title=path.name,
            transcript_status="fetched",
        )
        session.add(episode)
        await session.flush()
        transcript = Transcript(
            episode_id=episode.id,
            format=parsed.format,
            content_hash=path.name,
            duration_seconds=parsed.duration_seconds,
        )
        transcript.segments = [
            Segment(idx=i, start=s.start, end=s.end, speaker=s.speaker, text=s.text)
            for i, s in enumerate(parsed.segments)
        ]
        session.add(transcript)
        return episode.id


async def count(sessions: Sessions, model: type) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_pending_episodes_get_stored_linked_insights(
    sessions: Sessions, shared_data: Path, clock: FakeClock
) -> None:
    transcripts = shared_data / "transcripts"
    json_ep = await store_episode(sessions, "aws-json", transcripts / "awsbites__150.json")
    vtt_ep = await store_episode(sessions, "aws-vtt", transcripts / "awsbites__150.vtt")
    oxide = transcripts / "oxide__2021_coders-block_transcript.txt"
    oxide_ep = await store_episode(sessions, "oxide", oxide)

    report = await extract_pending_insights(
        sessions, OfflineInsightExtractor(), WordLlamaEmbedder(), clock
    )
    assert (report.episodes_done, report.episodes_failed) == (3, 0)
    assert report.insights_created == await count(sessions, Insight) > 0
    assert await count(sessions, InsightEmbedding) == report.insights_created
    assert await count(sessions, InsightTopic) > 0
    async with sessions() as session:
        insights = list((await session.execute(select(Insight).order_by(Insight.id))).scalars())
        statuses = set((await session.execute(select(Episode.insight_status))).scalars())
    assert statuses == {"done"}
    assert all(i.created_at == clock.now() and i.extractor == "offline" for i in insights)
    # The same episode published by two shows: each insight is grouped with its twin.
    by_episode = {e: [i for i in insights if i.episode_id == e] for e in (json_ep, vtt_ep)}
    assert [i.group_id for i in by_episode[vtt_ep]] == [i.id for i in by_episode[json_ep]]
    first, own_twin = by_episode[json_ep][0], by_episode[vtt_ep][0]
    oxide_first = next(i for i in insights if i.episode_id == oxide_ep)
    related = await related_insights(sessions, first.id, limit=10)
    assert related and own_twin.id not in {r.id for r in related}
    groups = [r.group_id for r in related]
    assert len(groups) == len(set(groups)), "a near-duplicate group was listed twice"
    # Other shows first: the other copy of this episode, then Oxide, before its own episode.
    assert related[0].feed_id != first.feed_id
    assert await count(sessions, RelatedEdge) > 0
    assert oxide_first.topics

    again = await extract_pending_insights(
        sessions, OfflineInsightExtractor(), WordLlamaEmbedder(), clock
    )
    assert again.insights_created == 0 and again.episodes_done == 0


async def test_a_failing_episode_is_recorded_and_the_batch_goes_on(
    sessions: Sessions, shared_data: Path, clock: FakeClock
) -> None:
    transcripts = shared_data / "transcripts"
    bad = await store_episode(sessions, "aws", transcripts / "awsbites__10.json")
    good = await store_episode(sessions, "vc", transcripts / "virtualcoffee__7_4.srt")
    extractor = FailingExtractor(OfflineInsightExtractor(), fail_for={bad})

    report = await extract_pending_insights(sessions, extractor, WordLlamaEmbedder(), clock)

    assert (report.episodes_done, report.episodes_failed) == (1, 1)
    assert report.failures == [(bad, "could not extract insights: the insight engine timed out")]
    async with sessions() as session:
        failed = await session.get(Episode, bad)
        done = await session.get(Episode, good)
    assert failed is not None and failed.insight_status == "failed"
    assert failed.insight_error == "could not extract insights: the insight engine timed out"
    assert done is not None and done.insight_status == "done"


async def test_a_quote_not_in_the_transcript_is_never_stored(
    sessions: Sessions, shared_data: Path, clock: FakeClock
) -> None:
    path = shared_data / "transcripts" / "awsbites__10.json"
    episode = await store_episode(sessions, "aws", path)
    report = await extract_pending_insights(
        sessions, InventingExtractor(), WordLlamaEmbedder(), clock, episode_ids=[episode]
    )
    assert (report.insights_created, report.dropped_drafts, report.episodes_skipped) == (0, 1, 1)
    assert await count(sessions, Insight) == 0


class _OneGoodOneBiography:
    """A far-side engine that writes one standalone claim and one life story."""

    @property
    def name(self) -> str:
        return "scripted"

    async def extract(
        self, episode: EpisodeInfo, segments: Sequence[SegmentData]
    ) -> list[InsightDraft]:
        first = next(s for s in segments if len(s.text.split()) > 8)
        quote = first.text.strip()
        return [
            InsightDraft("Small releases fail less often than big ones", "It was said.", quote,
                         first.speaker, first.start, first.end, ["releases"], 0.8),
            InsightDraft("I was a science teacher for nine years", "It was said.", quote,
                         first.speaker, first.start, first.end, [], 0.5),
        ]  # fmt: skip


async def test_the_quality_gate_counts_rejections_and_stats_shows_them(
    sessions: Sessions, shared_data: Path, clock: FakeClock
) -> None:
    episode_id = await store_episode(
        sessions, "aws", shared_data / "transcripts" / "awsbites__150.json"
    )
    report = await extract_pending_insights(
        sessions, _OneGoodOneBiography(), WordLlamaEmbedder(), clock
    )
    assert (report.insights_created, report.rejected_drafts) == (1, 1)
    assert dict(report.rejected_by_reason) == {"biography": 1}
    async with sessions() as session:
        episode = await session.get(Episode, episode_id)
        headlines = list((await session.execute(select(Insight.headline))).scalars())
    assert episode is not None and episode.insights_rejected == 1
    assert headlines == ["Small releases fail less often than big ones"]
    assert (await collect_stats(sessions, clock))["insights_rejected_by_quality_gate"] == 1


async def test_a_non_english_episode_is_skipped_saying_why(
    sessions: Sessions, clock: FakeClock, tmp_path: Path
) -> None:
    line = (
        "La clave es hacer cambios pequeños, medir la tasa de fallos y ensayar la vuelta "
        "atrás en cada versión, porque nadie sabe qué parte rompió el sistema."
    )
    cues = []
    for i in range(40):
        minute, second = divmod(i * 30, 60)
        span = f"00:{minute:02d}:{second:02d},000 --> 00:{minute:02d}:{second + 29:02d},000"
        cues.append(f"{i + 1}\n{span}\nAna: {line}\n\n")
    srt = "".join(cues)
    path = tmp_path / "episodio.srt"
    await asyncio.to_thread(path.write_text, srt, encoding="utf-8")
    episode_id = await store_episode(sessions, "es", path)

    report = await extract_pending_insights(
        sessions, OfflineInsightExtractor(), WordLlamaEmbedder(), clock
    )
    assert (report.episodes_skipped, report.episodes_failed, report.insights_created) == (1, 0, 0)
    async with sessions() as session:
        episode = await session.get(Episode, episode_id)
    assert episode is not None and episode.insight_status == "skipped"
    assert episode.insight_error is not None
    assert "only reads English" in episode.insight_error and "LLM" in episode.insight_error
