"""Transcription (off by default): MP3 split below the upload limit, times shifted, cost
counted, the duration cap respected, over real HTTP to the local server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from adapters.openai_retry import RetryPolicy
from adapters.openai_transcriber import OpenAITranscriber
from core.db import Sessions, transaction
from core.llm.budget import LlmBudget
from core.llm.mp3 import NotMp3, duration_seconds, split
from core.llm.transcribe import transcribe_missing
from core.models import Episode, Feed, LlmCall, Segment, Transcript
from tests.fakes.clock import FakeClock
from tests.fakes.fetcher import FakeFetcher
from tests.fakes.openai_server import FakeOpenAI, running
from tests.fakes.sleeps import RecordedSleeps

FRAME = bytes([0xFF, 0xFB, 0x90, 0x00]) + bytes(413)  # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz
FRAME_SECONDS = 1152 / 44100


def mp3(seconds: float) -> bytes:
    tag = b"ID3\x03\x00\x00\x00\x00\x00\x0a" + bytes(10)  # a 10-byte ID3v2 tag first
    return tag + FRAME * round(seconds / FRAME_SECONDS)


def test_mp3_duration_and_splits_fall_on_frame_boundaries() -> None:
    audio = mp3(30)
    assert duration_seconds(audio) == pytest.approx(30, abs=0.03)
    parts = split(audio, 100_000)
    assert len(parts) == 5 and all(len(p) <= 100_000 for p, _ in parts)
    assert b"".join(p for p, _ in parts) == audio[20:]  # everything but the tag, nothing lost
    assert [round(start, 2) for _, start in parts] == [
        round(i * (100_000 // len(FRAME)) * FRAME_SECONDS, 2) for i in range(5)
    ]
    with pytest.raises(NotMp3):
        duration_seconds(b"RIFF....WAVEfmt " + bytes(1000))


@pytest.fixture
async def server() -> AsyncIterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI()
    async with running(fake) as url:
        yield fake, url


def transcriber(url: str, limit: int = 100_000) -> OpenAITranscriber:
    return OpenAITranscriber(
        api_key="sk-test", base_url=url, upload_limit=limit,
        retry=RetryPolicy(attempts=2, sleep=RecordedSleeps()),
    )  # fmt: skip


async def test_long_audio_is_sent_in_parts_with_times_shifted(
    server: tuple[FakeOpenAI, str],
) -> None:
    fake, url = server
    client = transcriber(url)
    done = await client.transcribe(mp3(30), "episode.mp3", "audio/mpeg")
    await client.aclose()
    uploads = [body for path, body in fake.requests if path == "/v1/audio/transcriptions"]
    assert len(uploads) == 5 and all(u["bytes"] <= 100_000 for u in uploads)
    assert done.seconds == pytest.approx(30, abs=0.05)
    starts = [s.start for s in done.segments]
    assert starts == sorted(starts) and len(done.segments) == 10
    second_part = split(mp3(30), 100_000)[1][1]
    assert done.segments[2].start == pytest.approx(second_part)


async def add_audio_episode(
    sessions: Sessions, title: str, status: str, duration: float | None = None
) -> int:
    async with transaction(sessions) as session:
        feed = Feed(url=f"https://example.org/{title}.xml", title="Audio Show")
        session.add(feed)
        await session.flush()
        episode = Episode(
            feed_id=feed.id, dedup_key=title, title=title, transcript_status=status,
            enclosure_url=f"https://cdn.example.org/{title}.mp3", duration_seconds=duration,
        )  # fmt: skip
        session.add(episode)
        await session.flush()
        return episode.id


async def test_episodes_without_transcripts_are_transcribed_within_the_cap_and_cost_counted(
    sessions: Sessions, clock: FakeClock, server: tuple[FakeOpenAI, str]
) -> None:
    fake, url = server
    short = await add_audio_episode(sessions, "short", "none")
    long = await add_audio_episode(sessions, "long", "none")
    has_one = await add_audio_episode(sessions, "has-one", "fetched")
    fetcher = FakeFetcher(
        responses={
            "https://cdn.example.org/short.mp3": mp3(30),
            "https://cdn.example.org/long.mp3": mp3(150),
            "https://cdn.example.org/has-one.mp3": mp3(30),
        }
    )
    client = transcriber(url, limit=10_000_000)
    budget = LlmBudget(sessions, clock)
    report = await transcribe_missing(sessions, fetcher, client, budget, clock, max_minutes=1.5)
    await client.aclose()

    assert report.transcribed == 1
    assert report.skipped == {
        long: "the audio is 2.5 minutes long, above the 1.5-minute transcription cap"
    }
    assert "https://cdn.example.org/has-one.mp3" not in fetcher.calls
    async with sessions() as session:
        episode = await session.get(Episode, short)
        transcript = (
            await session.execute(select(Transcript).where(Transcript.episode_id == short))
        ).scalar_one()
        segments = (
            (await session.execute(select(Segment).where(Segment.transcript_id == transcript.id)))
            .scalars()
            .all()
        )
        calls = (await session.execute(select(LlmCall))).scalars().all()
        untouched = await session.get(Episode, long)
    assert episode is not None and episode.transcript_status == "fetched"
    assert episode.insight_status == "pending" and len(segments) == 2
    assert untouched is not None and untouched.transcript_status == "none"
    assert [(c.purpose, c.model, c.episode_id) for c in calls] == [
        ("transcribe", "whisper-1", short)
    ]
    assert calls[0].cost_usd == pytest.approx(0.006 * 0.5, rel=0.01)
    assert has_one not in report.skipped
    assert len([p for p, _ in fake.requests if p == "/v1/audio/transcriptions"]) == 1


async def test_audio_over_the_cap_is_not_downloaded_again_nor_blocks_the_others(
    sessions: Sessions, clock: FakeClock, server: tuple[FakeOpenAI, str]
) -> None:
    _, url = server
    measured = await add_audio_episode(sessions, "measured", "none")  # length unknown
    declared = await add_audio_episode(sessions, "declared", "none", duration=4 * 3600)
    fine = await add_audio_episode(sessions, "fine", "none")
    fetcher = FakeFetcher(
        responses={
            "https://cdn.example.org/measured.mp3": mp3(150),
            "https://cdn.example.org/declared.mp3": mp3(150),
            "https://cdn.example.org/fine.mp3": mp3(30),
        }
    )
    client = transcriber(url, limit=10_000_000)
    budget = LlmBudget(sessions, clock)
    try:
        first = await transcribe_missing(
            sessions, fetcher, client, budget, clock, max_minutes=1.5, limit=1
        )
        second = await transcribe_missing(
            sessions, fetcher, client, budget, clock, max_minutes=1.5, limit=1
        )
    finally:
        await client.aclose()
    assert list(first.skipped) == [measured] and first.transcribed == 0
    assert second.transcribed == 1 and not second.skipped  # the slot went to the next one
    # The 4-hour episode (declared) and the measured one are never fetched again.
    assert fetcher.calls == [
        "https://cdn.example.org/measured.mp3", "https://cdn.example.org/fine.mp3"
    ]  # fmt: skip
    async with sessions() as session:
        done = await session.get(Episode, fine)
        waiting = await session.get(Episode, declared)
    assert done is not None and done.transcript_status == "fetched"
    assert waiting is not None and waiting.transcript_status == "none"
