"""The overall send limit (Telegram's ~30/s for one bot) shared by every process on one
PostgreSQL database.

Each process pacing itself at 1/N of the limit drifts: their sends bunch up and a second now
and then holds one message too many (429s). Here every send reserves the next free moment from
one row per platform in ``rate_slots`` with a single atomic upsert, on the database's clock, so
all processes together leave evenly spaced whatever their number. SQLite has one process: the
in-memory ``Pacer`` does the same there.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from sqlalchemy import text

from core.db import Sessions, transaction
from core.delivery.paid import PaidBroadcast, PaidGate
from core.delivery.ratelimit import (
    PLATFORM_LIMITS,
    Limits,
    OverallGate,
    Pacer,
    RateLimiters,
    limits_shared_by,
)
from core.ports import Timer

# Pace this far under the limit: the platform counts arrivals in any one second, and a send
# that leaves a few milliseconds late (event loop, network) must not squeeze one too many in.
SHARED_SAFETY = 0.965
LATE = 0.3  # of an interval: a send woken later than this takes a new slot
MAX_TRIES = 5  # then it goes anyway (the platform's 429 and our retry are the last resort)

# max(next free, now + pause) + step; answers how long to wait for the slot just taken.
_RESERVE = text(
    """
    INSERT INTO rate_slots (platform, next_at)
    VALUES (:platform, extract(epoch from clock_timestamp()) + :pause + :step)
    ON CONFLICT (platform) DO UPDATE
    SET next_at = greatest(rate_slots.next_at, extract(epoch from clock_timestamp()) + :pause)
        + :step
    RETURNING next_at - :step - extract(epoch from clock_timestamp())
    """
)


class SharedPacer:
    """An ``OverallGate`` kept in the database: one evenly spaced queue across processes."""

    def __init__(self, sessions: Sessions, platform: str, rate: float) -> None:
        if rate <= 0:
            raise ValueError("a rate limit needs a positive rate")
        self.sessions, self.platform = sessions, platform
        self.interval = 1.0 / rate
        self._paused_until: float | None = None  # a 429's pause, written with the next slot
        self._lock = asyncio.Lock()  # this process's sends reserve in the order they came

    async def wait(self, timer: Timer, cost: int) -> None:
        for _ in range(MAX_TRIES):
            pause = 0.0
            if self._paused_until is not None:
                pause = max(self._paused_until - timer.monotonic(), 0.0)
                self._paused_until = None
            async with self._lock:
                delay = await self._reserve(self.interval * max(cost, 1), pause)
                due = timer.monotonic() + delay
            if delay > 0:
                await timer.sleep(delay)
            # Woken late (a busy event loop): sending now would crowd the next slots' second,
            # so this slot is left unused and a new one taken.
            if timer.monotonic() - due <= LATE * self.interval:
                return

    def pause_until(self, moment: float) -> None:
        """The platform said "too many requests": every process waits (from the next slot)."""
        self._paused_until = max(self._paused_until or moment, moment)

    async def _reserve(self, step: float, pause: float) -> float:
        params = {"platform": self.platform, "pause": pause, "step": step}
        async with transaction(self.sessions) as session:
            return float((await session.execute(_RESERVE, params)).scalar_one())


def is_shared_database(sessions: Sessions) -> bool:
    bind = sessions.kw.get("bind")
    return bind is not None and bind.dialect.name == "postgresql"


def delivery_limiters(
    sessions: Sessions,
    processes: int,
    *,
    timer: Timer | None = None,
    paid: PaidBroadcast | None = None,
) -> RateLimiters:
    """The limiters a delivery worker uses: on PostgreSQL the overall limits are kept in the
    database for all processes (``processes`` does not matter then); otherwise each of
    ``processes`` paces itself at its share. With ``paid``, Telegram's overall pace is the
    paid one while its budget lasts (each process its share), then the free one."""
    shared = is_shared_database(sessions)

    def free_gate(platform: str, limits: Limits) -> OverallGate | None:
        rate = limits.overall_per_second
        if not rate:
            return None
        return SharedPacer(sessions, platform, rate * SHARED_SAFETY) if shared else Pacer(rate)

    def gate(platform: str, limits: Limits) -> OverallGate | None:
        free = free_gate(platform, limits)
        if paid is None or platform != "telegram" or free is None:
            return free
        return PaidGate(free, paid, processes)

    if shared:  # the gate paces below the limit itself: the Limits keep the full rate
        limits = {name: replace(lim) for name, lim in PLATFORM_LIMITS.items()}
    else:
        limits = limits_shared_by(processes)
    return RateLimiters(timer, limits=limits, gates=gate)
