"""The overall send limit shared by processes on PostgreSQL (in-memory on SQLite)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import create_engine, session_factory
from core.delivery.ratelimit import Pacer
from core.delivery.shared_pacer import SHARED_SAFETY, SharedPacer, delivery_limiters
from tests.fakes.messenger import FakeTimer


async def test_sqlite_keeps_each_processs_share_in_memory(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the in-memory fallback is for SQLite")
    limiters = delivery_limiters(session_factory(engine), 2, timer=FakeTimer())
    limiter = limiters.for_platform("telegram")
    assert limiter.limits.overall_per_second == pytest.approx(30 * 0.98 / 2)
    assert isinstance(limiter._overall, Pacer)


async def test_two_processes_take_turns_from_one_pace(engine: AsyncEngine, db_url: str) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the shared pace lives in PostgreSQL")
    other_engine = create_engine(db_url)  # its own pool: stands for a second process
    try:
        mine = delivery_limiters(session_factory(engine), 2, timer=FakeTimer())
        theirs = delivery_limiters(session_factory(other_engine), 2, timer=FakeTimer())
        assert mine.for_platform("telegram").limits.overall_per_second == 30.0
        waits: list[float] = []
        for n in range(15):  # the processes interleave; every send gets its own slot
            for m, limiters in enumerate((mine, theirs)):
                timer = limiters.timer
                assert isinstance(timer, FakeTimer)
                before = len(timer.slept)
                await limiters.for_platform("telegram").acquire(f"/{n}-{m}", is_group=False)
                waits.append(sum(timer.slept[before:]))
        interval = 1 / (30 * SHARED_SAFETY)
        # Each wait is one interval longer than the one before (less the few milliseconds of
        # real time between two reservations): one evenly spaced queue for both, under 30/s.
        steps = [b - a for a, b in pairwise(waits)]
        assert all(interval - 0.03 < step <= interval + 1e-6 for step in steps), steps
        assert waits[-1] == pytest.approx(29 * interval, abs=0.5)
    finally:
        await other_engine.dispose()


async def test_a_429_pauses_every_process(engine: AsyncEngine, db_url: str) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the shared pace lives in PostgreSQL")
    other_engine = create_engine(db_url)
    try:
        mine_timer, their_timer = FakeTimer(), FakeTimer()
        mine = SharedPacer(session_factory(engine), "telegram", 10.0)
        theirs = SharedPacer(session_factory(other_engine), "telegram", 10.0)
        await mine.wait(mine_timer, 1)
        mine.pause_until(mine_timer.monotonic() + 30.0)  # Telegram: retry after 30 s
        await mine.wait(mine_timer, 1)  # the pause is written with the next reservation
        await theirs.wait(their_timer, 1)
        assert sum(mine_timer.slept) > 29.0
        assert sum(their_timer.slept) > 29.0  # the other process waits too
    finally:
        await other_engine.dispose()


def test_a_shared_pace_needs_a_positive_rate(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="positive rate"):
        SharedPacer(session_factory(engine), "telegram", 0.0)
