"""Direct inserts of feeds, episodes and insights for brief and people tests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import transaction
from core.models import Episode, Feed, Insight, InsightTopic, RelatedEdge


async def add_feed(sessions: async_sessionmaker[AsyncSession], title: str) -> int:
    async with transaction(sessions) as session:
        feed = Feed(url=f"https://example.org/{title.replace(' ', '-')}.xml", title=title)
        session.add(feed)
        await session.flush()
        return feed.id


async def add_episode(sessions: async_sessionmaker[AsyncSession], feed_id: int, title: str) -> int:
    async with transaction(sessions) as session:
        episode = Episode(
            feed_id=feed_id,
            dedup_key=f"guid:{title}",
            title=title,
            link=f"https://example.org/ep/{title.replace(' ', '-')}",
        )
        session.add(episode)
        await session.flush()
        return episode.id


async def add_insight(
    sessions: async_sessionmaker[AsyncSession],
    episode_id: int,
    feed_id: int,
    *,
    headline: str,
    score: float,
    created_at: datetime,
    topics: tuple[str, ...] = (),
    group_id: int | None = None,
) -> int:
    async with transaction(sessions) as session:
        insight = Insight(
            episode_id=episode_id,
            feed_id=feed_id,
            headline=headline,
            body=f"{headline}. Explained in two sentences. Really.",
            quote=f"they said {headline.lower()}",
            speaker="Host",
            start_seconds=12.5,
            end_seconds=20.0,
            topics=list(topics),
            score=score,
            group_id=group_id,
            created_at=created_at,
        )
        session.add(insight)
        await session.flush()
        session.add_all(InsightTopic(insight_id=insight.id, topic=t) for t in topics)
        return insight.id


async def add_edge(
    sessions: async_sessionmaker[AsyncSession], insight_id: int, related_id: int, score: float
) -> None:
    async with transaction(sessions) as session:
        session.add(RelatedEdge(insight_id=insight_id, related_id=related_id, rank=1, score=score))
