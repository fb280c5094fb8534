"""The scheduler's jobs run on the event loop, survive a failing run, and stop cleanly."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from core.scheduling.scheduler import ScheduleConfig, Scheduler


async def test_delivery_ticks_at_start_and_ingest_is_spread_over_the_interval() -> None:
    ticks: list[bool] = []
    ticked = asyncio.Event()

    async def deliver(stop: asyncio.Event) -> None:
        ticks.append(stop.is_set())
        ticked.set()

    ingested: list[bool] = []

    async def ingest(stop: asyncio.Event) -> None:
        ingested.append(True)  # must not happen at start: it waits for its random offset

    scheduler = Scheduler(ingest=ingest, deliver=deliver, rng=random.Random(7))
    before = datetime.now(UTC)
    await scheduler.start()
    try:
        await asyncio.wait_for(ticked.wait(), timeout=10)
        runs = scheduler.next_runs()
        assert set(runs) == {"ingest", "deliver"}
        ingest_at, deliver_at = runs["ingest"], runs["deliver"]
        assert ingest_at is not None and deliver_at is not None
        # Ticks every tenth of the 30-minute interval; each polls only the feeds that are due.
        assert before < ingest_at <= before + timedelta(minutes=3, seconds=1)
        assert deliver_at - before <= timedelta(minutes=1, seconds=1)
        assert ticks == [False] and ingested == []
    finally:
        await scheduler.stop()
    assert scheduler.stopping.is_set()


async def test_a_failing_job_is_logged_and_a_stop_waits_for_the_running_job() -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    seen_stop: list[bool] = []

    async def deliver(stop: asyncio.Event) -> None:
        entered.set()
        await release.wait()
        seen_stop.append(stop.is_set())
        raise RuntimeError("database went away")

    scheduler = Scheduler(deliver=deliver, config=ScheduleConfig())
    await scheduler.start()
    await asyncio.wait_for(entered.wait(), timeout=10)
    stopping = asyncio.create_task(scheduler.stop())
    await asyncio.sleep(0)
    assert not stopping.done()  # still waiting for the running tick
    release.set()
    await asyncio.wait_for(stopping, timeout=10)
    assert seen_stop == [True]  # the tick saw the stop and could stop claiming


async def test_ingest_at_start_polls_right_away_then_every_tick() -> None:
    ingested = asyncio.Event()

    async def ingest(stop: asyncio.Event) -> None:
        ingested.set()

    config = ScheduleConfig(ingest_at_start=True)
    scheduler = Scheduler(ingest=ingest, config=config, rng=random.Random(7))
    before = datetime.now(UTC)
    await scheduler.start()
    try:
        await asyncio.wait_for(ingested.wait(), timeout=10)  # not after a random offset
        ingest_at = scheduler.next_runs()["ingest"]
        assert ingest_at is not None  # then every tenth of the interval, jittered by a tenth
        latest = before + timedelta(minutes=3, seconds=20)
        assert before + timedelta(minutes=2) < ingest_at <= latest
    finally:
        await scheduler.stop()
