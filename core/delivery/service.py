"""The delivery run: plan due recipients, claim a batch, compose, send through the limiter.

A pipeline, so sending never waits for composing: one producer claims a batch, composes all
its briefs at once (``core.brief.batch``) and queues them; ``concurrency`` senders take them
from the queue through the rate limiter. The queue holds at most a batch, so the next batch is
composed while the last one is being sent and claimed rows do not outwait their lease.
Composing is itself a pipeline of batches: while one batch is ranked (CPU, in short steps), the
next is claimed and read and the last one stored, so the database works meanwhile instead of
being waited for.

Exactly once: the deliveries row (unique per recipient and local day) is stored before any
brief is composed, a worker sends only rows it holds a live lease on, and the platform's
acknowledgement is written right after the send. A worker that dies after claiming leaves
rows that another takes over when the lease expires; the brief composed for them is reused.
An orderly stop gives the claimed rows it did not send back at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from core.brief.batch import PreparedBriefs, prepare_briefs, rank_in_steps, store_briefs
from core.brief.compose import BriefResult
from core.brief.rank import CandidateRow
from core.brief.statistics import refresh_if_grown
from core.db import Sessions
from core.delivery.claim import due_counts, expire_stale, plan_due, release
from core.delivery.ratelimit import RateLimiters
from core.delivery.sender import Ready, Sender
from core.delivery.take import take_batch
from core.delivery.types import Claimed, DeliveryConfig, DeliveryReport, Outcome, Recipient
from core.ports import Clock, Messenger

log = logging.getLogger(__name__)


async def deliver_due(
    sessions: Sessions,
    clock: Clock,
    messengers: Mapping[str, Messenger],
    *,
    config: DeliveryConfig | None = None,
    limiters: RateLimiters | None = None,
    stop: asyncio.Event | None = None,
) -> DeliveryReport:
    """One delivery tick: every due brief on the platforms in ``messengers``, until none is
    left to claim now (retries wait for their time) or ``stop`` is set."""
    run = _Run(sessions, clock, messengers, config or DeliveryConfig(), limiters or RateLimiters())
    await run.run(stop or asyncio.Event())
    return run.report


class _Run:
    def __init__(
        self,
        sessions: Sessions,
        clock: Clock,
        messengers: Mapping[str, Messenger],
        config: DeliveryConfig,
        limiters: RateLimiters,
    ) -> None:
        self.sessions, self.clock, self.messengers = sessions, clock, dict(messengers)
        self.config = config
        self.report = DeliveryReport()
        self.sender = Sender(sessions, clock, self.messengers, config, limiters, self.report)
        self._last_plan = clock.now()
        self._unsent: list[int] = []  # claimed, then left in the queue by a stop
        self._composing, self._busy_since = 0, 0.0  # batches being composed, since when

    async def run(self, stop: asyncio.Event) -> None:
        if not self.messengers:
            return
        await self._plan()
        queue: asyncio.Queue[Ready | None] = asyncio.Queue(maxsize=max(self.config.batch_size, 1))
        async with asyncio.TaskGroup() as group:
            senders = [
                group.create_task(self._consume(queue, stop))
                for _ in range(max(self.config.concurrency, 1))
            ]
            await self._produce(queue, stop)
            for _ in senders:
                await queue.put(None)
        await self.sender.recorder.flush()  # every outcome stored before the run ends
        if self._unsent:
            await release(self.sessions, self.config.worker, self._unsent)

    async def _produce(self, queue: asyncio.Queue[Ready | None], stop: asyncio.Event) -> None:
        """Batches in a pipeline: the next batch is claimed and read, and the last one stored
        and queued, while this one is ranked (in short steps), so the database's work overlaps
        ranking instead of being waited for."""
        reading: asyncio.Task[_Batch | None] = asyncio.create_task(self._read_next(stop))
        storing: asyncio.Task[None] | None = None
        try:
            while (batch := await reading) is not None:
                reading = asyncio.create_task(self._read_next(stop))
                picks = await self._rank(batch)
                if storing is not None:  # batches reach the queue in claim order
                    await storing
                storing = asyncio.create_task(self._store(batch, picks, queue))
            if storing is not None:
                await storing
        except BaseException:
            for task in (reading, storing):
                if task is not None:
                    task.cancel()
            raise

    async def _consume(self, queue: asyncio.Queue[Ready | None], stop: asyncio.Event) -> None:
        while (ready := await queue.get()) is not None:
            if stop.is_set():
                self._unsent.append(ready.delivery.id)
            else:
                await self.sender.send(ready)

    async def _take_next(self, now: datetime) -> list[tuple[Claimed, Recipient]]:
        config = self.config
        if now - self._last_plan >= config.replan_every:  # a long run picks up new slots
            self._last_plan = now
            await self._plan()
        taken = await take_batch(
            self.sessions,
            config.worker,
            now,
            lease=config.lease,
            limit=config.batch_size,
            platforms=list(self.messengers),
        )
        self.report.claimed += len(taken)
        return taken

    async def _plan(self) -> None:
        now, config = self.clock.now(), self.config
        planned = await plan_due(self.sessions, now, list(self.messengers), config.grace)
        self.report.queued += planned.queued
        self.report.missed += planned.missed
        self.report.missed += await expire_stale(
            self.sessions, now, grace=config.grace, lease=config.lease
        )
        if config.compact_above:
            due = await due_counts(self.sessions, list(self.messengers))
            self.sender.compact_platforms = {
                platform for platform, count in due.items() if count > config.compact_above
            }

    async def _read_next(self, stop: asyncio.Event) -> _Batch | None:
        """Claim the next batch and read what composing it needs; None when there is none."""
        if stop.is_set():
            return None
        claimed_at = self.clock.now()
        taken = await self._take_next(claimed_at)
        if not taken:
            return None
        batch = _Batch(claimed_at)
        for delivery, user in taken:
            if user.active and not user.paused:
                batch.to_send.append((delivery, user))
                continue
            why = "paused" if user.paused else f"inactive: {user.inactive_reason or '?'}"
            await self.sender.finish(
                delivery, Outcome("skipped", "skipped", why, counts_as_attempt=False)
            )
        if batch.to_send:
            self._busy(+1)
            try:
                zones = {user.id: user.timezone for _, user in batch.to_send}
                batch.prepared = await prepare_briefs(
                    self.sessions, list(zones), self.clock, kind="daily", zones=zones
                )
            except Exception as exc:
                batch.failed = exc
        return batch

    async def _rank(self, batch: _Batch) -> dict[int, list[CandidateRow]]:
        """Ranking on the event loop, in steps of a few tens of milliseconds with the other
        tasks (the batches being read and stored, the senders) running between them. In a
        thread it took twice as long: every database reply the loop waited for took the
        interpreter lock from ranking, and the two threads spent their time handing it over."""
        picks: dict[int, list[CandidateRow]] = {}
        if batch.prepared is None or not batch.prepared.ranks:
            return picks
        try:
            for _ in rank_in_steps(batch.prepared, picks):
                await asyncio.sleep(0)
        except Exception as exc:
            batch.failed = exc
            return {}
        return picks

    async def _store(
        self,
        batch: _Batch,
        picks: dict[int, list[CandidateRow]],
        queue: asyncio.Queue[Ready | None],
    ) -> None:
        """Store the batch's briefs, then queue the ones to send, in claim order."""
        if batch.prepared is None and batch.failed is None:  # nothing to compose
            return
        briefs: dict[int, BriefResult] = {}
        if batch.failed is None and batch.prepared is not None:
            try:
                briefs = await store_briefs(self.sessions, batch.prepared, picks, self.clock)
            except Exception as exc:
                batch.failed = exc
        self._busy(-1)
        if batch.failed is not None:  # a failed batch is retried later, like one failed brief
            failed = batch.failed
            log.warning("composing %d briefs failed", len(batch.to_send), exc_info=failed)
            for delivery, _ in batch.to_send:
                await self.sender.retry(delivery, "compose_failed", f"composing failed: {failed}")
            return
        self.report.composed += len(batch.to_send)
        await refresh_if_grown(self.sessions)  # for the batches read from now on
        for delivery, user in batch.to_send:
            self.sender.remember_brief(delivery.id, briefs[user.id].brief_id)
            skip = _nothing_to_send(briefs[user.id])
            if skip is None:
                await queue.put(Ready(delivery, user, briefs[user.id], batch.claimed_at))
            else:
                outcome = Outcome("skipped", "skipped", skip, counts_as_attempt=False)
                await self.sender.finish(delivery, outcome)

    def _busy(self, change: int) -> None:
        """Composing time is the wall time while any batch is being composed (they overlap)."""
        now = time.perf_counter()
        if self._composing == 0:
            self._busy_since = now
        self._composing += change
        if self._composing == 0:
            self.report.compose_seconds += now - self._busy_since


@dataclass
class _Batch:
    """A claimed batch on its way through the pipeline."""

    claimed_at: datetime
    to_send: list[tuple[Claimed, Recipient]] = field(default_factory=list)
    prepared: PreparedBriefs | None = None
    failed: Exception | None = None


def _nothing_to_send(result: BriefResult) -> str | None:
    if result.brief_id is None or not result.items:
        return "nothing to send: no insights this recipient has not seen"
    if result.reused and result.kind != "daily":
        return "already had today's brief on request"
    return None
