"""The stored insights with their episode and show, for `podbrief insights list`."""

from __future__ import annotations

from sqlalchemy import select

from core.db import Sessions
from core.models import Episode, Feed, Insight


async def list_insights(
    sessions: Sessions, *, episode_id: int | None = None, limit: int = 50
) -> list[tuple[Insight, Episode, Feed]]:
    """In episode order, then by where they start in the episode."""
    stmt = (
        select(Insight, Episode, Feed)
        .join(Episode, Episode.id == Insight.episode_id)
        .join(Feed, Feed.id == Insight.feed_id)
        .order_by(Insight.episode_id, Insight.start_seconds)
        .limit(limit)
    )
    if episode_id is not None:
        stmt = stmt.where(Insight.episode_id == episode_id)
    async with sessions() as session:
        return [(ins, ep, feed) for ins, ep, feed in (await session.execute(stmt)).all()]
