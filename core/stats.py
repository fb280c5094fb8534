"""Counts for `podbrief stats`: how much is stored, and how much went wrong."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Episode, Feed, Segment, Transcript


async def collect_stats(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """feeds, episodes, episodes_with_transcripts, transcript_segments, errors (and its parts)."""
    async with sessions() as session:

        async def count(query: Select[Any]) -> int:
            return int(await session.scalar(query) or 0)

        feeds = await count(select(func.count(Feed.id)))
        feeds_failing = await count(select(func.count(Feed.id)).where(Feed.error_count > 0))
        episodes = await count(select(func.count(Episode.id)))
        with_transcripts = await count(
            select(func.count(Transcript.id)).where(Transcript.is_fallback.is_(False))
        )
        with_fallback = await count(
            select(func.count(Transcript.id)).where(Transcript.is_fallback.is_(True))
        )
        segments = await count(select(func.count(Segment.id)))
        transcript_errors = await count(
            select(func.count(Episode.id)).where(Episode.transcript_status == "failed")
        )
        insight_errors = await count(
            select(func.count(Episode.id)).where(Episode.insight_status == "failed")
        )
    return {
        "feeds": feeds,
        "episodes": episodes,
        "episodes_with_transcripts": with_transcripts,
        "episodes_with_show_notes_only": with_fallback,
        "transcript_segments": segments,
        "errors": feeds_failing + transcript_errors + insight_errors,
        "feeds_failing": feeds_failing,
        "transcript_errors": transcript_errors,
        "insight_errors": insight_errors,
    }
