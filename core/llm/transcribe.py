"""Transcription of episodes that have no transcript (off by default; it costs money).

An episode with no transcript, or only show notes not yet turned into insights, has its audio
fetched and transcribed through the ``Transcriber`` port. An episode longer than the cap is not
sent; the cost (per audio minute) is recorded like every other call. The transcript and its
segments are written in one transaction, or not at all.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import transaction
from core.domain import FetchError
from core.llm.budget import TRANSCRIPTION_PER_MINUTE, LlmBudget
from core.llm.mp3 import NotMp3, duration_seconds
from core.llm.types import LlmError, Transcription, Usage
from core.models.feeds import Episode
from core.models.transcripts import Segment, Transcript
from core.ports import Clock, Fetcher, Transcriber

log = logging.getLogger(__name__)


@dataclass
class TranscriptionReport:
    transcribed: int = 0
    minutes: float = 0.0
    skipped: dict[int, str] = field(default_factory=dict)  # episode id -> why, in plain words
    stopped: str | None = None


async def candidates(
    sessions: async_sessionmaker[AsyncSession], limit: int, max_minutes: float | None = None
) -> list[Episode]:
    """Episodes to transcribe; those known to be longer than the cap are left out, so they are
    not downloaded again and again, nor take the places of episodes that can be transcribed."""
    query = (
        select(Episode)
        .where(
            Episode.enclosure_url.is_not(None),
            or_(
                Episode.transcript_status == "none",
                (Episode.transcript_status == "fallback") & (Episode.insight_status == "pending"),
            ),
        )
        .order_by(Episode.id)
        .limit(limit)
    )
    if max_minutes is not None:
        query = query.where(
            or_(Episode.duration_seconds.is_(None), Episode.duration_seconds <= max_minutes * 60)
        )
    async with sessions() as session:
        return list((await session.execute(query)).scalars())


async def transcribe_missing(
    sessions: async_sessionmaker[AsyncSession],
    fetcher: Fetcher,
    transcriber: Transcriber,
    budget: LlmBudget,
    clock: Clock,
    *,
    max_minutes: float,
    max_bytes: int = 500_000_000,
    limit: int = 20,
    episode_ids: Sequence[int] | None = None,
) -> TranscriptionReport:
    report = TranscriptionReport()
    for episode in await candidates(sessions, limit, max_minutes):
        if episode_ids is not None and episode.id not in episode_ids:
            continue
        try:
            await budget.ensure_available()
            result = await fetcher.fetch(episode.enclosure_url or "", max_bytes=max_bytes)
            minutes = _minutes(result.body, episode.duration_seconds)
            if minutes > max_minutes:
                report.skipped[episode.id] = (
                    f"the audio is {minutes:.3g} minutes long, above the "
                    f"{max_minutes:.3g}-minute transcription cap"
                )
                await _note_duration(sessions, episode.id, minutes * 60)
                continue
            name = (result.url.rsplit("/", 1)[-1] or "audio.mp3")[:100]
            done = await transcriber.transcribe(result.body, name, result.content_type)
        except LlmError as exc:
            report.stopped = str(exc)
            break
        except (FetchError, NotMp3) as exc:
            report.skipped[episode.id] = str(exc)
            continue
        await _record_cost(budget, transcriber.model, episode.id, done.seconds)
        if done.segments and await _store(sessions, clock, episode.id, result.url, done):
            report.transcribed += 1
            report.minutes += done.seconds / 60
    return report


def _minutes(audio: bytes, declared: float | None) -> float:
    try:
        return duration_seconds(audio) / 60
    except NotMp3:
        if declared:
            return declared / 60
        raise NotMp3("the audio is not MP3 and its length is unknown") from None


async def _note_duration(
    sessions: async_sessionmaker[AsyncSession], episode_id: int, seconds: float
) -> None:
    """The measured length, so an episode over the cap is not fetched again (until the cap is
    raised above it)."""
    async with transaction(sessions) as session:
        await session.execute(
            update(Episode).where(Episode.id == episode_id).values(duration_seconds=seconds)
        )


async def _record_cost(budget: LlmBudget, model: str, episode_id: int, seconds: float) -> None:
    cost = TRANSCRIPTION_PER_MINUTE.get(model, 0.0) * seconds / 60
    await budget.record(
        purpose="transcribe", model=model, usage=Usage(), episode_id=episode_id, cost_usd=cost
    )


async def _store(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    episode_id: int,
    url: str,
    done: Transcription,
) -> bool:
    async with transaction(sessions) as session:
        claimed: Any = await session.execute(
            update(Episode)
            .where(Episode.id == episode_id, Episode.transcript_status.in_(["none", "fallback"]))
            .values(transcript_status="fetched", transcript_error=None, insight_status="pending")
        )
        if not claimed.rowcount:
            return False
        await session.execute(delete(Transcript).where(Transcript.episode_id == episode_id))
        text = "\n".join(s.text for s in done.segments)
        transcript = Transcript(
            episode_id=episode_id,
            source_url=url,
            format="transcribed",
            content_hash=hashlib.sha256(text.encode()).hexdigest(),
            duration_seconds=done.seconds,
            fetched_at=clock.now(),
        )
        session.add(transcript)
        await session.flush()
        session.add_all(
            Segment(transcript_id=transcript.id, idx=i, start=s.start, end=s.end,
                    speaker=s.speaker, text=s.text)
            for i, s in enumerate(done.segments)
        )  # fmt: skip
    return True
