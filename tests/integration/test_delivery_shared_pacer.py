"""The overall send limit shared by processes on PostgreSQL (in-memory on SQLite)."""

from __future__ import annotations

import time
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
        # Each send's slot is (the moment it reserved) + (its wait); the moment lies between
        # the real times read around the reservation, which the database's clock also keeps.
        slots: list[tuple[float, float]] = []  # earliest and latest the slot can be
        for n in range(15):  # the processes interleave; every send gets its own slot
            for m, limiters in enumerate((mine, theirs)):
                timer = limiters.timer
                assert isinstance(timer, FakeTimer)
                before, started = len(timer.slept), time.monotonic()
                await limiters.for_platform("telegram").acquire(f"/{n}-{m}", is_group=False)
                wait = sum(timer.slept[before:])
                slots.append((started + wait, time.monotonic() + wait))
        interval = 1 / (30 * SHARED_SAFETY)
        # One evenly spaced queue for both, under 30/s: each slot one interval after the one
        # before (checked against the real time around the two reservations, not a fixed
        # allowance, so a busy machine cannot fail it; two paces of their own would).
        for (early_a, late_a), (early_b, late_b) in pairwise(slots):
            assert early_b - late_a - 0.002 <= interval <= late_b - early_a + 0.002, slots
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
