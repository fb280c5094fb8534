"""Two `podbrief run` workers on one PostgreSQL database: every recipient gets one brief."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.db import create_engine, migrate, session_factory, transaction
from core.delivery.ratelimit import RateLimiters
from core.delivery.service import deliver_due
from core.delivery.types import DeliveryConfig
from core.models import Delivery, User
from tests.fakes.brief_rows import add_episode, add_feed, add_insight
from tests.fakes.clock import FakeClock
from tests.fakes.messenger import FakeMessenger, FakeTimer

pytestmark = pytest.mark.postgres
DUE = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
RECIPIENTS = 120


async def seed(url: str) -> None:
    engine = create_engine(url)
    await migrate(engine)
    sessions = session_factory(engine)
    feed = await add_feed(sessions, "Race show")
    episode = await add_episode(sessions, feed, "Race episode")
    for i in range(8):
        await add_insight(
            sessions,
            episode,
            feed,
            headline=f"insight {i}",
            score=0.5,
            created_at=DUE - timedelta(hours=2),
        )
    async with transaction(sessions) as session:
        session.add_all(
            User(
                platform="telegram",
                external_id=str(1000 + i),
                timezone="Europe/Berlin",
                delivery_time="08:00",
                created_at=DUE - timedelta(days=9),
            )
            for i in range(RECIPIENTS)
        )
    await engine.dispose()


async def worker(url: str, name: str, clock: FakeClock, start: asyncio.Event) -> FakeMessenger:
    """A separate engine (its own connection pool) stands for a separate process."""
    engine = create_engine(url)
    messenger = FakeMessenger("telegram")
    try:
        await start.wait()
        config = DeliveryConfig(worker=name, batch_size=10, concurrency=4)
        await deliver_due(
            session_factory(engine),
            clock,
            {"telegram": messenger},
            config=config,
            limiters=RateLimiters(FakeTimer()),
        )
    finally:
        await engine.dispose()
    return messenger


async def test_two_workers_racing_send_each_brief_exactly_once(
    postgres_schema_url: str,
) -> None:
    await seed(postgres_schema_url)
    clock = FakeClock(DUE + timedelta(minutes=1))
    start = asyncio.Event()
    tasks = [asyncio.create_task(worker(postgres_schema_url, n, clock, start)) for n in "ab"]
    await asyncio.sleep(0)
    start.set()
    first, second = await asyncio.gather(*tasks)
    sends = Counter(first.chats() + second.chats())
    assert len(sends) == RECIPIENTS
    assert set(sends.values()) == {1}
    engine = create_engine(postgres_schema_url)
    try:
        async with session_factory(engine)() as session:
            counts = dict(
                (
                    await session.execute(
                        select(Delivery.status, func.count()).group_by(Delivery.status)
                    )
                ).all()
            )
            workers = dict(
                (
                    await session.execute(
                        select(Delivery.claimed_by, func.count()).group_by(Delivery.claimed_by)
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    assert counts == {"sent": RECIPIENTS}
    assert sum(workers.values()) == RECIPIENTS
    assert set(workers) == {"a", "b"}  # both really took part in the race
