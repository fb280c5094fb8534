"""Episodes with real shared transcripts in the database, and the LLM stack wired to a fake."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from adapters.openai_embedder import OpenAIEmbedder
from adapters.openai_llm import OpenAILLM
from adapters.openai_retry import RetryPolicy
from core.db import Sessions, transaction
from core.domain import SegmentData
from core.insights.offline.extractor import OfflineInsightExtractor
from core.llm.budget import LlmBudget
from core.llm.cache import ExtractionStore
from core.llm.extractor import LlmExtractorConfig, LlmInsightExtractor
from core.llm.types import Usage
from core.models.feeds import Episode, Feed
from core.models.transcripts import Segment, Transcript
from core.transcripts.parse import parse_transcript
from tests.fakes.clock import FakeClock
from tests.fakes.sleeps import RecordedSleeps


def shared_transcripts(shared: Path) -> list[Path]:
    return sorted(p for p in (shared / "transcripts").iterdir() if p.is_file())


def segments_of(path: Path) -> list[SegmentData]:
    return parse_transcript(path.read_bytes(), url=path.name).segments


async def add_episode(
    sessions: Sessions, show: str, title: str, segments: list[SegmentData]
) -> int:
    async with transaction(sessions) as session:
        feed = Feed(url=f"https://example.org/{show}-{title}.xml", title=show)
        session.add(feed)
        await session.flush()
        episode = Episode(feed_id=feed.id, dedup_key=f"guid:{title}", title=title)
        session.add(episode)
        await session.flush()
        digest = hashlib.sha256("".join(s.text for s in segments).encode()).hexdigest()
        transcript = Transcript(
            episode_id=episode.id,
            format="text",
            content_hash=digest,
            duration_seconds=max((s.end for s in segments), default=0.0),
        )
        session.add(transcript)
        await session.flush()
        session.add_all(
            Segment(
                transcript_id=transcript.id, idx=i, start=s.start, end=s.end,
                speaker=s.speaker, text=s.text,
            )
            for i, s in enumerate(segments)
        )  # fmt: skip
        return episode.id


@dataclass
class LlmStack:
    llm: OpenAILLM
    embedder: OpenAIEmbedder
    budget: LlmBudget
    extractor: LlmInsightExtractor
    sleeps: RecordedSleeps

    async def aclose(self) -> None:
        await self.llm.aclose()
        await self.embedder.aclose()


def llm_stack(
    sessions: Sessions,
    clock: FakeClock,
    base_url: str,
    *,
    daily_tokens: int = 0,
    attempts: int = 4,
    chunk_tokens: int = 30_000,
) -> LlmStack:
    sleeps = RecordedSleeps()
    retry = RetryPolicy(attempts=attempts, sleep=sleeps)
    llm = OpenAILLM(
        api_key="sk-test", base_url=base_url, model="gpt-4o-mini", timeout=5, retry=retry
    )
    budget = LlmBudget(sessions, clock, daily_tokens=daily_tokens)

    async def record(model: str, usage: Usage) -> None:
        await budget.record(purpose="embed", model=model, usage=usage)

    embedder = OpenAIEmbedder(api_key="sk-test", base_url=base_url, retry=retry, on_usage=record)
    extractor = LlmInsightExtractor(
        llm,
        budget,
        ExtractionStore(sessions, clock),
        OfflineInsightExtractor(),
        LlmExtractorConfig(chunk_tokens=chunk_tokens),
    )
    return LlmStack(llm, embedder, budget, extractor, sleeps)
