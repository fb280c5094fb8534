"""Recording send outcomes: senders hand them over without waiting for each commit, within a
bound, and nothing handed over is lost or fails unheard."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from core.db import Sessions, transaction
from core.delivery.claim import plan_due
from core.delivery.record import Recorder
from core.delivery.take import take_batch
from core.delivery.types import Entry, Outcome
from core.models import Delivery, DeliveryAttempt
from tests.fakes.clock import FakeClock
from tests.integration.test_delivery import START, add_recipient


async def _claimed(sessions: Sessions, clock: FakeClock, count: int) -> list[int]:
    for i in range(count):
        await add_recipient(sessions, str(500 + i))
    clock.set(START + timedelta(hours=1))
    await plan_due(sessions, clock.now(), ["telegram"], timedelta(hours=3))
    taken = await take_batch(
        sessions, "w", clock.now(), lease=timedelta(minutes=10), limit=count,
        platforms=["telegram"],
    )  # fmt: skip
    return sorted(claimed.id for claimed, _ in taken)


def _sent(delivery_id: int, clock: FakeClock) -> Entry:
    return Entry(delivery_id, Outcome("sent", "sent", message_ids=["1"]), clock.now())


async def _statuses(sessions: Sessions) -> list[str]:
    async with sessions() as session:
        return list((await session.scalars(select(Delivery.status).order_by(Delivery.id))).all())


async def test_senders_go_on_while_their_outcomes_wait_and_flush_stores_all(
    sessions: Sessions, clock: FakeClock
) -> None:
    ids = await _claimed(sessions, clock, 6)
    recorder = Recorder(sessions, "w", unwritten_max=6)

    async def hand_over() -> None:
        for delivery_id in ids:
            await recorder.record(_sent(delivery_id, clock))

    async with transaction(sessions) as session:  # holds every write to deliveries back
        await session.execute(update(Delivery).values(attempts=Delivery.attempts))
        # Each record returns although no outcome can be stored meanwhile (the guard only
        # bounds a failure: waiting for the commits would wait for this transaction).
        await asyncio.wait_for(hand_over(), timeout=30)
    await recorder.flush()
    assert await _statuses(sessions) == ["sent"] * 6
    async with sessions() as session:
        attempts = (await session.scalars(select(DeliveryAttempt.delivery_id))).all()
    assert sorted(attempts) == sorted(ids)


async def test_a_failed_write_fails_flush_and_the_next_record(
    sessions: Sessions, clock: FakeClock
) -> None:
    ids = await _claimed(sessions, clock, 1)
    recorder = Recorder(sessions, "w")
    await recorder.record(_sent(10**6, clock))  # no such delivery: its attempt row fails
    with pytest.raises(DBAPIError):
        await recorder.flush()
    with pytest.raises(DBAPIError):
        await recorder.record(_sent(ids[0], clock))
