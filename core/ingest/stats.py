"""Counts for `podbrief stats`: how much is stored, and how much went wrong."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import SystemClock
from core.models import Episode, Feed, Segment, Transcript
from core.ports import Clock


async def collect_stats(
    sessions: async_sessionmaker[AsyncSession], clock: Clock | None = None
) -> dict[str, int | float]:
    """feeds, episodes, episodes_with_transcripts, transcript_segments, errors (and its parts),
    and the LLM spend: calls, tokens and estimated cost, in all and today (UTC)."""
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
        rejected = await count(select(func.coalesce(func.sum(Episode.insights_rejected), 0)))
    spend = await llm_spend(sessions, clock or SystemClock())
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
        "insights_rejected_by_quality_gate": rejected,
        **spend,
    }


async def llm_spend(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> dict[str, int | float]:
    from core.llm.budget import spend_between

    today = datetime.combine(clock.now().date(), time(), tzinfo=UTC)
    total = await spend_between(sessions, None, None)
    now = await spend_between(sessions, today, today + timedelta(days=1))
    return {
        "llm_calls": total.calls,
        "llm_tokens": total.tokens,
        "llm_cost_usd": round(total.cost_usd, 4),
        "llm_tokens_today": now.tokens,
        "llm_cost_usd_today": round(now.cost_usd, 4),
    }
