"""Polling: fetch every due feed (bounded concurrency), parse off the event loop, store."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import transaction
from core.domain import FetchError, FetchResult
from core.feeds import full_collections
from core.feeds.errors import FeedError
from core.feeds.parse import ParsedFeed, parse_feed
from core.feeds.store import (
    PolledFeed,
    PollPolicy,
    mark_failed,
    mark_many_polled,
    mark_polled,
    polled_row,
    store_many_parsed,
    store_parsed,
)
from core.models import Feed
from core.ports import Clock, Fetcher

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]  # (feeds done, feeds due)


def make_parse_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Worker processes for ``parse_feed``, started on first use.

    forkserver, not fork: forking a process that runs an event loop and database threads can
    copy a held lock into the child.
    """
    context = multiprocessing.get_context("forkserver")
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 2, mp_context=context)


@dataclass(frozen=True)
class FeedOutcome:
    feed_id: int
    url: str
    status: Literal["updated", "unchanged", "failed"]
    new_episodes: int = 0
    error: str | None = None


@dataclass
class PollReport:
    outcomes: list[FeedOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def new_episodes(self) -> int:
        return sum(o.new_episodes for o in self.outcomes)

    def summary(self) -> str:
        return (
            f"{len(self.outcomes)} feeds polled: {self.count('updated')} updated, "
            f"{self.count('unchanged')} unchanged, {self.count('failed')} failed; "
            f"{self.new_episodes} new episodes in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class DueFeed:
    id: int
    url: str
    etag: str | None
    last_modified: str | None
    untrusted: bool


async def due_feeds(
    sessions: async_sessionmaker[AsyncSession], now: datetime | None
) -> list[DueFeed]:
    """Feeds whose next poll time has come (every feed when ``now`` is None)."""
    query = select(Feed.id, Feed.url, Feed.etag, Feed.last_modified, Feed.untrusted)
    if now is not None:
        query = query.where(or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= now))
    async with sessions() as session:
        rows = await session.execute(query.order_by(Feed.id))
        return [DueFeed(*row) for row in rows]


async def poll_due_feeds(
    sessions: async_sessionmaker[AsyncSession],
    fetcher: Fetcher,
    clock: Clock,
    *,
    concurrency: int = 20,
    on_progress: ProgressFn | None = None,
    policy: PollPolicy | None = None,
    parse_executor: Executor | None = None,
    every_feed: bool = False,
) -> PollReport:
    """Poll every due feed once; one failing feed is backed off and never stops the others.

    Parsing is CPU-bound: pass a ``ProcessPoolExecutor`` to spread it over cores. Garbage
    collections are rarer while it runs (``core.feeds.full_collections``).
    """
    with full_collections.deferred():
        return await _poll_due_feeds(
            sessions,
            fetcher,
            clock,
            concurrency=concurrency,
            on_progress=on_progress,
            policy=policy,
            parse_executor=parse_executor,
            every_feed=every_feed,
        )


async def _poll_due_feeds(
    sessions: async_sessionmaker[AsyncSession],
    fetcher: Fetcher,
    clock: Clock,
    *,
    concurrency: int,
    on_progress: ProgressFn | None,
    policy: PollPolicy | None,
    parse_executor: Executor | None,
    every_feed: bool,
) -> PollReport:
    started = time.perf_counter()
    poller = _Poller(sessions, fetcher, clock, policy or PollPolicy(), parse_executor)
    due = await due_feeds(sessions, None if every_feed else clock.now())
    total, done = len(due), 0
    if on_progress:
        on_progress(0, total)
    # ``concurrency`` feeds fetched and parsed at once; a parsed feed waiting to be stored
    # gives its place to the next (storing a batch would otherwise stall the parse workers),
    # up to a batch of them waiting.
    gate = asyncio.Semaphore(concurrency)
    in_flight = asyncio.Semaphore(concurrency + MAX_BATCH)

    async def one(feed: DueFeed) -> FeedOutcome:
        nonlocal done
        async with in_flight:
            outcome = await poller.poll(feed, gate)
        done += 1
        if on_progress:
            on_progress(done, total)
        return outcome

    outcomes = await asyncio.gather(*(one(feed) for feed in due))
    return PollReport(list(outcomes), time.perf_counter() - started)


# Feeds stored together at most: one transaction's worth (50 episodes each is 5,000 rows).
MAX_BATCH = 100
# Parsed feeds wait to be stored until this many have arrived (or none is being fetched or
# parsed any more): a write's own statements, transaction and hand-offs to the database cost
# more than a feed's rows, and feeds are parsed one at a time, so writing whatever had arrived
# meant writing them one by one (179 of 221 batches in a 300-feed cold ingest).
MIN_BATCH = 20


@dataclass
class _PendingWrite:
    due: DueFeed
    result: FetchResult
    parsed: ParsedFeed | None  # None: a 304
    done: asyncio.Future[int]  # the feed's new episodes, once stored


class _Poller:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        fetcher: Fetcher,
        clock: Clock,
        policy: PollPolicy,
        executor: Executor | None,
    ) -> None:
        self.sessions, self.fetcher, self.clock = sessions, fetcher, clock
        self.policy, self.executor = policy, executor
        # One writer at a time: SQLite has a single write lock, and batching waits is cheaper
        # than contending for it.
        self.write_lock = asyncio.Lock()
        self._pending: list[_PendingWrite] = []
        self._writer: asyncio.Task[None] | None = None
        self._fetching = 0  # feeds being fetched or parsed: they may join the next batch

    async def poll(self, due: DueFeed, gate: asyncio.Semaphore) -> FeedOutcome:
        """Fetch and parse holding a place at ``gate``, then store without it."""
        try:
            self._fetching += 1
            try:
                async with gate:
                    result = await self.fetcher.fetch(
                        due.url,
                        etag=due.etag,
                        last_modified=due.last_modified,
                        untrusted=due.untrusted,
                    )
                    parsed = await self._parse(result) if result.status != 304 else None
            finally:
                self._fetching -= 1
                self._write_when_due()  # this feed may have been the one others waited for
            if result.permanent_redirect_to:
                new = await self._write(due, result, parsed)
            else:
                new = await self._write_together(due, result, parsed)
            if parsed is None:
                return FeedOutcome(due.id, due.url, "unchanged")
            return FeedOutcome(due.id, due.url, "updated", new_episodes=new)
        except (FetchError, FeedError) as exc:
            message = str(exc)
        except OperationalError as exc:
            # The database, not the feed (a full disk, a dropped connection): nothing was stored,
            # validators included, so the next poll fetches it again. No backoff for the feed.
            reason = str(exc.orig or exc).strip().splitlines()[0]
            log.warning("could not store %s: the database cannot be used: %s", due.url, reason)
            return FeedOutcome(due.id, due.url, "failed", error=f"the database: {reason}")
        except Exception as exc:  # a bug hit by one feed must not stop the others
            log.exception("polling %s failed", due.url)
            message = f"unexpected error: {type(exc).__name__}: {exc}"
        await self._record_failure(due, message)
        return FeedOutcome(due.id, due.url, "failed", error=message)

    async def _parse(self, result: FetchResult) -> ParsedFeed:
        job = partial(
            parse_feed, result.body, feed_url=result.url, content_type=result.content_type
        )
        loop = asyncio.get_running_loop()
        if self.executor is not None:
            return await loop.run_in_executor(self.executor, job)
        return await asyncio.to_thread(job)

    async def _write(self, due: DueFeed, result: FetchResult, parsed: ParsedFeed | None) -> int:
        """One feed in a transaction of its own, through the ORM (a redirect to follow)."""
        async with self.write_lock, transaction(self.sessions) as session:
            feed = await session.get(Feed, due.id)
            if feed is None:  # removed while we fetched
                return 0
            now = self.clock.now()
            if parsed is None:
                await mark_polled(session, feed, result, now, self.policy)
                return 0
            return await store_parsed(session, feed, parsed, result, now, self.policy)

    async def _write_together(
        self, due: DueFeed, result: FetchResult, parsed: ParsedFeed | None
    ) -> int:
        """A 304 or a parsed feed, stored together with the others that arrive while a write
        is under way: one transaction and a few statements for many feeds instead of a
        transaction and several statements each (the ingest process's largest cost).
        Returns the feed's new episodes once they are stored."""
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append(_PendingWrite(due, result, parsed, done))
        self._write_when_due()
        return await done

    def _batch_due(self) -> bool:
        """Enough feeds wait to be stored, or no other feed could join them."""
        return bool(self._pending) and (len(self._pending) >= MIN_BATCH or not self._fetching)

    def _write_when_due(self) -> None:
        if self._batch_due() and (self._writer is None or self._writer.done()):
            self._writer = asyncio.create_task(self._write_pending())

    async def _write_pending(self) -> None:
        while self._batch_due():
            await asyncio.sleep(0)  # let feeds answered in this same turn join
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                async with self.write_lock, transaction(self.sessions) as session:
                    counts = await self._write_batch(session, batch)
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0].done, exc)
                else:  # nothing of the batch was stored: each alone, so only a bad one fails
                    await self._write_one_by_one(batch)
                continue
            for item, count in zip(batch, counts, strict=True):
                _settle(item.done, count)

    async def _write_batch(self, session: AsyncSession, batch: list[_PendingWrite]) -> list[int]:
        now, policy = self.clock.now(), self.policy
        unchanged = [polled_row(w.due.id, w.result, now, policy) for w in batch if not w.parsed]
        if unchanged:
            await mark_many_polled(session, unchanged)
        updated = [PolledFeed(w.due.id, w.result, w.parsed) for w in batch if w.parsed]
        counts = iter(await store_many_parsed(session, updated, now, policy))
        return [next(counts) if w.parsed else 0 for w in batch]

    async def _write_one_by_one(self, batch: list[_PendingWrite]) -> None:
        for item in batch:
            try:
                _settle(item.done, await self._write(item.due, item.result, item.parsed))
            except Exception as exc:
                _settle(item.done, exc)

    async def _record_failure(self, due: DueFeed, message: str) -> None:
        async with self.write_lock, transaction(self.sessions) as session:
            feed = await session.get(Feed, due.id)
            if feed is not None:
                mark_failed(feed, message, self.clock.now(), self.policy)


def _settle(done: asyncio.Future[int], outcome: int | Exception) -> None:
    if done.done():
        return
    if isinstance(outcome, Exception):
        done.set_exception(outcome)
    else:
        done.set_result(outcome)
