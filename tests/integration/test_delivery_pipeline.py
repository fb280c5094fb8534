"""The delivery pipeline: briefs composed per batch, sent from a queue, given back on stop."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from core.chat.context import load_context
from core.chat.types import ChatRef, Reply
from core.db import Sessions
from core.delivery.ratelimit import RateLimiters
from core.delivery.service import deliver_due
from core.delivery.types import DeliveryConfig
from core.models import Delivery, DeliveryAttempt
from tests.fakes.clock import FakeClock
from tests.fakes.messenger import FakeMessenger, FakeTimer
from tests.integration.test_delivery import START, add_insights, add_recipient


class StoppingMessenger(FakeMessenger):
    """Sets ``stop`` once it has sent ``after`` briefs (an orderly shutdown mid-run)."""

    def __init__(self, stop: asyncio.Event, after: int) -> None:
        super().__init__("telegram")
        self.stop, self.after = stop, after

    async def send(self, chat: ChatRef, reply: Reply) -> list[str]:
        ids = await super().send(chat, reply)
        if len(self.sent) >= self.after:
            self.stop.set()
        return ids


async def tick(
    sessions: Sessions,
    clock: FakeClock,
    messenger: FakeMessenger,
    worker: str,
    stop: asyncio.Event | None = None,
) -> int:
    report = await deliver_due(
        sessions,
        clock,
        {"telegram": messenger},
        config=DeliveryConfig(worker=worker, batch_size=4, concurrency=2),
        limiters=RateLimiters(FakeTimer()),
        stop=stop,
    )
    assert report.composed == report.claimed  # every claimed brief composed in its batch
    return report.sent


async def test_an_orderly_stop_gives_unsent_briefs_back_at_once(
    sessions: Sessions, clock: FakeClock
) -> None:
    await add_insights(sessions, 12, START - timedelta(hours=3), "fresh")
    for i in range(10):
        await add_recipient(sessions, str(100 + i))
    clock.set(START + timedelta(hours=1))
    stop = asyncio.Event()
    first = StoppingMessenger(stop, after=3)
    sent_first = await tick(sessions, clock, first, "first", stop)
    assert 3 <= sent_first < 10
    async with sessions() as session:
        held = (
            await session.scalars(select(Delivery.id).where(Delivery.status == "claimed"))
        ).all()
    assert held == []  # nothing waits for the lease to run out
    second = FakeMessenger("telegram")
    assert await tick(sessions, clock, second, "second") == 10 - sent_first
    everyone = sorted(first.chats() + second.chats())
    assert everyone == [str(100 + i) for i in range(10)]  # each exactly once


async def test_a_sent_brief_is_what_number_3_means_in_that_chat(
    sessions: Sessions, clock: FakeClock
) -> None:
    await add_insights(sessions, 12, START - timedelta(hours=3), "fresh")
    for i in range(6):
        await add_recipient(sessions, str(100 + i))
    clock.set(START + timedelta(hours=1))
    messenger = FakeMessenger("telegram")
    assert await tick(sessions, clock, messenger, "w") == 6
    for chat, reply in messenger.sent:
        context = await load_context(sessions, chat)
        assert context.last_brief_id == reply.brief_id is not None
        assert context.last_listing == []
    async with sessions() as session:
        rows = (await session.scalars(select(Delivery).order_by(Delivery.id))).all()
        attempts = (await session.scalars(select(DeliveryAttempt))).all()
    briefs = sorted(reply.brief_id or 0 for _, reply in messenger.sent)
    assert sorted(r.brief_id or 0 for r in rows) == briefs
    assert all(r.status == "sent" and r.attempts == 1 and r.sent_at is not None for r in rows)
    assert all(len(r.message_ids) == 1 for r in rows)  # the platform's id, kept
    assert len({r.message_ids[0] for r in rows}) == 6
    assert sorted(a.delivery_id for a in attempts) == [r.id for r in rows]
    assert {(a.status, a.worker, a.error) for a in attempts} == {("sent", "w", None)}
