"""The delivery run: plan due recipients, claim a batch, compose, send through the limiter.

Exactly once: the deliveries row (unique per recipient and local day) is stored before any
brief is composed, a worker sends only rows it holds a live lease on, and the platform's
acknowledgement is written right after the send. A worker that dies after claiming leaves
rows that another takes over when the lease expires; the brief composed for them is reused.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.brief import BriefResult, compose_brief
from core.chat.context import save_context
from core.chat.handlers.brief import brief_reply
from core.chat.types import ChatRef
from core.delivery.claim import claim_batch, expire_stale, plan_due, still_mine
from core.delivery.errors import MaybeSent, RateLimited, RecipientGone
from core.delivery.ratelimit import RateLimiters
from core.delivery.record import Outcome, record_outcome
from core.models import Delivery, User
from core.people_status import deactivate_recipient
from core.ports import Clock, Messenger

log = logging.getLogger(__name__)
Sessions = async_sessionmaker[AsyncSession]


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    worker: str = field(default_factory=default_worker_name)
    grace: timedelta = timedelta(hours=3)  # missed by less: sent late; by more: skipped
    lease: timedelta = timedelta(minutes=10)
    batch_size: int = 200
    concurrency: int = 32
    max_attempts: int = 5
    retry_base: timedelta = timedelta(minutes=1)  # doubled per attempt
    retry_max: timedelta = timedelta(minutes=30)
    replan_every: timedelta = timedelta(minutes=1)

    def backoff(self, attempts: int) -> timedelta:
        delay: timedelta = self.retry_base * (2 ** min(max(attempts - 1, 0), 20))
        return min(delay, self.retry_max)


@dataclass
class DeliveryReport:
    queued: int = 0
    missed: int = 0
    claimed: int = 0
    composed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    gone: int = 0
    skipped: int = 0
    lost_lease: int = 0
    messages: int = 0

    @property
    def quiet(self) -> bool:
        """Nothing was due, claimed or missed (not worth a log line every minute)."""
        return not (self.queued or self.claimed or self.missed)

    def summary(self) -> str:
        return (
            f"{self.sent} sent, {self.retried} to retry, {self.failed} failed "
            f"({self.gone} recipients gone), {self.skipped} skipped, {self.missed} missed; "
            f"{self.queued} newly due"
        )


def chat_ref(user: User) -> ChatRef:
    return ChatRef(
        platform=user.platform,
        chat_id=user.external_id,
        workspace=user.workspace,
        is_group=user.kind != "person",
    )


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
        self.sessions, self.clock, self.messengers = sessions, clock, messengers
        self.config, self.limiters = config, limiters
        self.report = DeliveryReport()
        self._pending: deque[int] = deque()  # claimed, not yet delivered
        self._exhausted = False  # the last claim found nothing
        self._last_plan = clock.now()

    async def run(self, stop: asyncio.Event) -> None:
        if not self.messengers:
            return
        await self._plan()
        refill = asyncio.Lock()

        async def work() -> None:
            # A continuous pipeline: whoever finds the queue empty claims the next batch while
            # the others keep sending, so the send rate does not dip between batches.
            while True:
                if not self._pending:
                    async with refill:
                        if not self._pending and not self._exhausted and not stop.is_set():
                            await self._claim_next()
                    if not self._pending:
                        return
                await self._deliver_one(self._pending.popleft())

        async with asyncio.TaskGroup() as group:
            for _ in range(self.config.concurrency):
                group.create_task(work())

    async def _claim_next(self) -> None:
        config, now = self.config, self.clock.now()
        if now - self._last_plan >= config.replan_every:  # a long run picks up new slots
            self._last_plan = now
            await self._plan()
        ids = await claim_batch(
            self.sessions,
            config.worker,
            now,
            lease=config.lease,
            limit=config.batch_size,
            platforms=list(self.messengers),
        )
        self._exhausted = not ids
        self.report.claimed += len(ids)
        self._pending.extend(ids)

    async def _plan(self) -> None:
        now, config = self.clock.now(), self.config
        planned = await plan_due(self.sessions, now, list(self.messengers), config.grace)
        self.report.queued += planned.queued
        self.report.missed += planned.missed
        self.report.missed += await expire_stale(
            self.sessions, now, grace=config.grace, lease=config.lease
        )

    async def _deliver_one(self, delivery_id: int) -> None:
        stmt = (
            select(Delivery, User)
            .join(User, User.id == Delivery.user_id)
            .where(Delivery.id == delivery_id)
        )
        async with self.sessions() as session:
            row = (await session.execute(stmt)).one_or_none()
        if row is None:
            return
        delivery, user = row
        if not user.active or user.paused:
            why = "paused" if user.paused else f"inactive: {user.inactive_reason or '?'}"
            return await self._finish(
                delivery, Outcome("skipped", "skipped", why, counts_as_attempt=False)
            )
        try:
            result = await compose_brief(self.sessions, user.id, self.clock, kind="daily")
        except Exception as exc:  # one recipient's failure must not stop the others
            log.warning("composing the brief for user %s failed", user.id, exc_info=True)
            return await self._retry(delivery, "compose_failed", f"composing failed: {exc}")
        self.report.composed += 1
        skip = _nothing_to_send(result)
        if skip is not None:
            return await self._finish(
                delivery, Outcome("skipped", "skipped", skip, counts_as_attempt=False)
            )
        await self._send(delivery, user, result)

    async def _send(self, delivery: Delivery, user: User, result: BriefResult) -> None:
        chat = chat_ref(user)
        limiter = self.limiters.for_platform(user.platform)
        await limiter.acquire(f"{user.workspace}/{user.external_id}", is_group=chat.is_group)
        # Renew the lease only now: waiting for the limiter may take long, and a row whose
        # lease ran out meanwhile may already be another worker's to send.
        now = self.clock.now()
        if not await still_mine(
            self.sessions, delivery.id, self.config.worker, now, brief_id=result.brief_id
        ):
            self.report.lost_lease += 1
            return
        await save_context(
            self.sessions,
            chat,
            last_brief_id=result.brief_id,
            last_insight_id=None,
            last_listing=[],
        )
        reply = brief_reply(result, user)
        timer = self.limiters.timer
        started = timer.monotonic()

        def ms() -> int:
            return int((timer.monotonic() - started) * 1000)

        try:
            ids = await self.messengers[user.platform].send(chat, reply)
        except RecipientGone as exc:
            await deactivate_recipient(
                self.sessions, user.platform, user.workspace, user.external_id, exc.reason
            )
            log.warning("recipient %s is gone (%s): deactivated", user.id, exc.reason)
            self.report.gone += 1
            return await self._finish(delivery, Outcome("failed", "gone", exc.reason, ms()))
        except RateLimited as exc:
            limiter.pause(exc.retry_after)
            wait = timedelta(seconds=exc.retry_after)  # the platform's wait, not our backoff
            return await self._retry(delivery, "rate_limited", str(exc), ms(), wait=wait)
        except MaybeSent as exc:
            return await self._finish(delivery, Outcome("failed", "maybe_sent", str(exc), ms()))
        except Exception as exc:
            return await self._retry(delivery, "transient", str(exc) or type(exc).__name__, ms())
        self.report.messages += len(ids)
        await self._finish(delivery, Outcome("sent", "sent", None, ms(), message_ids=ids))

    async def _retry(
        self,
        delivery: Delivery,
        attempt: str,
        error: str,
        latency_ms: int = 0,
        *,
        wait: timedelta | None = None,
    ) -> None:
        attempts = delivery.attempts + 1
        if attempts >= self.config.max_attempts:
            final = f"gave up after {attempts} attempts: {error}"
            return await self._finish(delivery, Outcome("failed", attempt, final, latency_ms))
        delay = wait if wait is not None else self.config.backoff(attempts)
        not_before = self.clock.now() + delay
        await self._finish(delivery, Outcome("queued", attempt, error, latency_ms, not_before))

    async def _finish(self, delivery: Delivery, outcome: Outcome) -> None:
        counter = {"queued": "retried", "sent": "sent", "failed": "failed", "skipped": "skipped"}
        name = counter[outcome.status]
        setattr(self.report, name, getattr(self.report, name) + 1)
        if outcome.status != "sent":
            log.info(
                "delivery %s (user %s): %s: %s",
                delivery.id,
                delivery.user_id,
                outcome.attempt,
                outcome.error,
            )
        await record_outcome(
            self.sessions, delivery.id, outcome, self.clock.now(), self.config.worker
        )


def _nothing_to_send(result: BriefResult) -> str | None:
    if result.brief_id is None or not result.items:
        return "nothing to send: no insights this recipient has not seen"
    if result.reused and result.kind != "daily":
        return "already had today's brief on request"
    return None
