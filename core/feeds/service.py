"""Feed operations for the CLI and the chat adapters: add, list, remove, poll every due feed."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import chunks, one_of, transaction
from core.domain import FetchError, FetchResult
from core.feeds.errors import FeedError
from core.feeds.parse import ParsedFeed, parse_feed
from core.feeds.poll import FeedOutcome, PollReport, ProgressFn, poll_due_feeds
from core.feeds.store import PollPolicy, store_parsed
from core.feeds.urls import normalise_feed_url
from core.models import BriefItem, Episode, Feed, Insight
from core.ports import Clock, Fetcher

__all__ = [
    "AddedFeed",
    "FeedOutcome",
    "FeedSummary",
    "PollPolicy",
    "PollReport",
    "ProgressFn",
    "add_feed",
    "list_feeds",
    "poll_due_feeds",
    "remove_feed",
]


@dataclass(frozen=True)
class FeedSummary:
    id: int
    url: str
    title: str | None
    episodes: int
    untrusted: bool
    last_polled_at: datetime | None
    next_poll_at: datetime | None
    error_count: int
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("last_polled_at", "next_poll_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass(frozen=True)
class AddedFeed:
    feed: FeedSummary
    created: bool  # False: the URL was already there
    new_episodes: int = 0


async def add_feed(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    url: str,
    *,
    fetcher: Fetcher | None = None,
    untrusted: bool = False,
    policy: PollPolicy | None = None,
) -> AddedFeed:
    """Store a feed. With ``fetcher`` it is fetched and parsed first, so a URL that is not a
    feed is refused and nothing is stored. ``untrusted``: a chat user's URL (SSRF guard)."""
    url = normalise_feed_url(url, untrusted=untrusted)
    existing = await _feed_id_by_url(sessions, url)
    if existing is not None:
        return AddedFeed(await _summary(sessions, existing), created=False)
    fetched: tuple[FetchResult, ParsedFeed] | None = None
    if fetcher is not None:
        fetched = await _fetch_and_parse(fetcher, url, untrusted)
        url = fetched[0].permanent_redirect_to or url
    try:
        async with transaction(sessions) as session:
            feed = Feed(url=url, untrusted=untrusted, error_count=0)
            session.add(feed)
            await session.flush()
            new = 0
            if fetched is not None:
                result, parsed = fetched
                now = clock.now()
                new = await store_parsed(session, feed, parsed, result, now, policy or PollPolicy())
            feed_id = feed.id
    except IntegrityError:  # the same URL was added meanwhile
        feed_id = await _feed_id_by_url(sessions, url) or 0
        return AddedFeed(await _summary(sessions, feed_id), created=False)
    return AddedFeed(await _summary(sessions, feed_id), created=True, new_episodes=new)


async def _fetch_and_parse(
    fetcher: Fetcher, url: str, untrusted: bool
) -> tuple[FetchResult, ParsedFeed]:
    try:
        result = await fetcher.fetch(url, untrusted=untrusted)
    except FetchError as exc:
        raise FeedError(f"could not fetch {url}: {exc}") from exc
    parsed = await asyncio.to_thread(
        parse_feed, result.body, feed_url=result.url, content_type=result.content_type
    )
    return result, parsed


async def list_feeds(sessions: async_sessionmaker[AsyncSession]) -> list[FeedSummary]:
    async with sessions() as session:
        rows = await session.execute(_summary_query().order_by(Feed.id))
        return [_to_summary(feed, count) for feed, count in rows]


async def remove_feed(
    sessions: async_sessionmaker[AsyncSession], feed_id: int
) -> FeedSummary | None:
    """Delete a feed with its episodes (and everything hanging off them); None if unknown."""
    async with transaction(sessions) as session:
        row = (await session.execute(_summary_query().where(Feed.id == feed_id))).first()
        if row is None:
            return None
        await _delete_insights(session, feed_id)
        await session.execute(delete(Episode).where(Episode.feed_id == feed_id))
        await session.execute(delete(Feed).where(Feed.id == feed_id))
        return _to_summary(row[0], row[1])


async def _delete_insights(session: AsyncSession, feed_id: int) -> None:
    """The feed's insights, then the brief items that showed them (they have no foreign key
    to cascade from: see migration 0013). In this order: deleting an insight waits for a
    brief being stored with it (which holds it FOR KEY SHARE), so the items are read after
    that brief's commit; a brief stored after this deletion finds the insight gone."""
    gone = list(
        await session.scalars(
            delete(Insight).where(Insight.feed_id == feed_id).returning(Insight.id)
        )
    )
    for part in chunks(sorted(gone)):
        await session.execute(delete(BriefItem).where(one_of(session, BriefItem.insight_id, part)))


def _summary_query() -> Any:
    counts = (
        select(Episode.feed_id, func.count(Episode.id).label("n"))
        .group_by(Episode.feed_id)
        .subquery()
    )
    return select(Feed, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.feed_id == Feed.id)


def _to_summary(feed: Feed, count: int) -> FeedSummary:
    return FeedSummary(
        id=feed.id,
        url=feed.url,
        title=feed.title,
        episodes=int(count),
        untrusted=feed.untrusted,
        last_polled_at=feed.last_polled_at,
        next_poll_at=feed.next_poll_at,
        error_count=feed.error_count,
        last_error=feed.last_error,
    )


async def _summary(sessions: async_sessionmaker[AsyncSession], feed_id: int) -> FeedSummary:
    async with sessions() as session:
        row = (await session.execute(_summary_query().where(Feed.id == feed_id))).one()
        return _to_summary(row[0], row[1])


async def _feed_id_by_url(sessions: async_sessionmaker[AsyncSession], url: str) -> int | None:
    async with sessions() as session:
        found: int | None = await session.scalar(select(Feed.id).where(Feed.url == url))
        return found
