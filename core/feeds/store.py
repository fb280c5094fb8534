"""Writing poll results: parsed feeds stored idempotently, 304s and failures scheduled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain import FetchResult
from core.feeds.parse import DedupIndex, ParsedEpisode, ParsedFeed
from core.feeds.store_pg import insert_episodes_pg
from core.feeds.store_sqlite import insert_episodes_sqlite
from core.models import Episode, Feed, utcnow

MAX_ERROR = 2000


@dataclass(frozen=True)
class PollPolicy:
    """When a feed is polled next: after ``interval``, or backed off after failures."""

    interval: timedelta = timedelta(minutes=30)
    backoff_base: timedelta = timedelta(minutes=30)
    backoff_max: timedelta = timedelta(hours=24)

    def next_poll(self, now: datetime, feed_id: int) -> datetime:
        """About one interval on, at the feed's own phase of the interval.

        Feeds added or restarted together would otherwise come due together for ever; a fixed
        per-feed phase spreads them evenly over the interval (the gap is 0.5 to 1.5 intervals
        once, then exactly one interval)."""
        period = self.interval.total_seconds()
        phase = (feed_id * 2654435761 % 2**32) / 2**32 * period  # Knuth's multiplicative hash
        earliest = now.timestamp() + period / 2
        wait = (phase - earliest) % period
        return now + timedelta(seconds=period / 2 + wait)

    def backoff(self, failures: int) -> timedelta:
        """base * 2^(failures-1), capped: 30 min, 1 h, 2 h, ... 24 h."""
        exponent = min(max(failures - 1, 0), 30)
        delay: timedelta = self.backoff_base * (2**exponent)
        return min(delay, self.backoff_max)


async def store_parsed(
    session: AsyncSession,
    feed: Feed,
    parsed: ParsedFeed,
    result: FetchResult,
    now: datetime,
    policy: PollPolicy,
) -> int:
    """Update the feed and add the episodes it does not have yet; returns how many."""
    feed.title = parsed.title or feed.title
    feed.link = parsed.link or feed.link
    feed.description = parsed.description or feed.description
    feed.image_url = parsed.image_url or feed.image_url
    feed.language = parsed.language or feed.language
    await mark_polled(session, feed, result, now, policy)
    known = await known_identities(session, feed.id)
    new = new_episodes(known, parsed)
    await insert_episodes(session, [(feed.id, item, parsed.language) for item in new])
    return len(new)


@dataclass(frozen=True)
class PolledFeed:
    """One feed's successful fetch (no redirect to follow) and what it parsed to."""

    feed_id: int
    result: FetchResult
    parsed: ParsedFeed


async def store_many_parsed(
    session: AsyncSession, polls: list[PolledFeed], now: datetime, policy: PollPolicy
) -> list[int]:
    """What ``store_parsed`` does, for many feeds in a handful of statements (ingest's hot
    path: per feed, ORM loads, flushes and statements cost more than the rows themselves).
    The number of new episodes of each feed, in order; 0 for a feed removed meanwhile."""
    conn = await session.connection()
    ids = sorted({poll.feed_id for poll in polls})
    present = set((await conn.execute(select(_FEEDS.c.id).where(_FEEDS.c.id.in_(ids)))).scalars())
    known: dict[int, DedupIndex] = {feed_id: DedupIndex() for feed_id in present}
    identities = select(Episode.feed_id, Episode.guid, Episode.enclosure_url, Episode.link)
    rows = await conn.execute(
        identities.add_columns(Episode.title).where(Episode.feed_id.in_(sorted(present)))
    )
    for feed_id, guid, enclosure, link, title in rows:
        known[feed_id].add_identity(guid, enclosure, link, title)
    counts: list[int] = []
    updates: list[dict[str, Any]] = []
    episodes: list[tuple[int, ParsedEpisode, str | None]] = []
    for poll in polls:
        if poll.feed_id not in present:
            counts.append(0)
            continue
        parsed = poll.parsed
        new = new_episodes(known[poll.feed_id], parsed)
        counts.append(len(new))
        episodes.extend((poll.feed_id, item, parsed.language) for item in new)
        updates.append(
            polled_row(poll.feed_id, poll.result, now, policy)
            | {"new_title": parsed.title or None, "new_link": parsed.link or None}
            | {"new_description": parsed.description or None}
            | {"new_image_url": parsed.image_url or None, "new_language": parsed.language or None}
        )
    if updates:
        await conn.execute(_STORE_POLLED, updates)
    await insert_episodes(session, episodes)
    return counts


def new_episodes(known: DedupIndex, parsed: ParsedFeed) -> list[ParsedEpisode]:
    """The feed's episodes ``known`` does not have yet (and from now on has)."""
    new: list[ParsedEpisode] = []
    for item in parsed.episodes:
        if not known.contains(item):
            known.add(item)
            new.append(item)
    return new


_FEEDS = cast(Table, Feed.__table__)
_POLLED = {
    "etag": bindparam("new_etag"),
    "last_modified": bindparam("new_last_modified"),
    "last_polled_at": bindparam("new_polled_at"),
    "next_poll_at": bindparam("new_next_poll_at"),
    "error_count": 0,
    "last_error": None,
    "last_error_at": None,
}
_MARK_POLLED = update(_FEEDS).where(_FEEDS.c.id == bindparam("fid")).values(**_POLLED)
# A feed's own details are kept where the new parse has none (as ``store_parsed`` does).
_STORE_POLLED = _MARK_POLLED.values(
    **{
        name: func.coalesce(bindparam(f"new_{name}", type_=_FEEDS.c[name].type), _FEEDS.c[name])
        for name in ("title", "link", "description", "image_url", "language")
    }
)


async def insert_episodes(
    session: AsyncSession, items: list[tuple[int, ParsedEpisode, str | None]]
) -> None:
    """New episodes, each as (feed id, episode, the feed's language), and their transcript
    links, on the session's connection, in a couple of statements per call (ingest's hot
    path): one per backend, each sending the rows the way its driver takes them fastest."""
    if not items:
        return
    conn = await session.connection()
    created = utcnow()
    if conn.dialect.name == "postgresql":
        await insert_episodes_pg(conn, items, created)
    else:
        await insert_episodes_sqlite(conn, items, created)


async def mark_polled(
    session: AsyncSession, feed: Feed, result: FetchResult, now: datetime, policy: PollPolicy
) -> None:
    """A successful poll (200 or 304): new validators, errors cleared, next poll scheduled."""
    feed.etag = result.etag[:500] if result.etag else None
    feed.last_modified = result.last_modified[:100] if result.last_modified else None
    feed.last_polled_at = now
    if feed.id is None:  # a feed being added: its id sets its phase
        await session.flush()
    feed.next_poll_at = policy.next_poll(now, feed.id)
    feed.error_count = 0
    feed.last_error = None
    feed.last_error_at = None
    await follow_permanent_redirect(session, feed, result)


def polled_row(
    feed_id: int, result: FetchResult, now: datetime, policy: PollPolicy
) -> dict[str, Any]:
    """What ``mark_polled`` sets, as one row for ``mark_many_polled`` (no redirect to follow)."""
    return {
        "fid": feed_id,
        "new_etag": result.etag[:500] if result.etag else None,
        "new_last_modified": result.last_modified[:100] if result.last_modified else None,
        "new_polled_at": now,
        "new_next_poll_at": policy.next_poll(now, feed_id),
    }


async def mark_many_polled(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Many successful polls in one executemany UPDATE (a feed removed meanwhile matches
    nothing)."""
    await (await session.connection()).execute(_MARK_POLLED, rows)


async def follow_permanent_redirect(session: AsyncSession, feed: Feed, result: FetchResult) -> None:
    target = result.permanent_redirect_to
    if not target or target == feed.url or len(target) > 2048:
        return
    taken = await session.scalar(select(Feed.id).where(Feed.url == target, Feed.id != feed.id))
    if taken is None:  # else another feed already has that URL: keep ours as it is
        feed.url = target


def mark_failed(feed: Feed, message: str, now: datetime, policy: PollPolicy) -> None:
    feed.error_count += 1
    feed.last_error = message[:MAX_ERROR]
    feed.last_error_at = now
    feed.last_polled_at = now
    feed.next_poll_at = now + policy.backoff(feed.error_count)


async def known_identities(session: AsyncSession, feed_id: int) -> DedupIndex:
    index = DedupIndex()
    rows = await session.execute(
        select(Episode.guid, Episode.enclosure_url, Episode.link, Episode.title).where(
            Episode.feed_id == feed_id
        )
    )
    for guid, enclosure, link, title in rows:
        index.add_identity(guid, enclosure, link, title)
    return index
