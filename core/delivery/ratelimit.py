"""Per-platform send pacing: async token buckets (GCRA) over a monotonic-time port.

Each send first waits for its chat (and group) slot, then for a slot in the platform-wide
bucket, so the overall rate holds at the moment of sending. A 429 pauses the whole platform.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from core.ports import Timer


class SystemTimer:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class Limits:
    overall_per_second: float | None = None
    per_chat_per_second: float | None = None
    group_per_minute: float | None = None  # groups and channels only


# Telegram: ~30 messages/s overall, 1/s per chat, 20/min per group. Slack: ~1/s per channel.
PLATFORM_LIMITS = {
    "telegram": Limits(overall_per_second=30.0, per_chat_per_second=1.0, group_per_minute=20.0),
    "slack": Limits(per_chat_per_second=1.0),
}


SAFETY = 0.98  # pace 2% under a platform's overall limit


def limits_shared_by(processes: int, base: dict[str, Limits] | None = None) -> dict[str, Limits]:
    """Each of ``processes`` workers sending for one bot takes its share of the overall limit,
    2% under it: several evenly paced senders, each with a little jitter, then never add up to
    one message too many in a second (per-chat and per-group limits need no sharing: one
    worker holds a chat's delivery)."""
    if processes < 1:
        raise ValueError("the number of sending processes must be at least 1")
    shared: dict[str, Limits] = {}
    for platform, limits in (PLATFORM_LIMITS if base is None else base).items():
        overall = limits.overall_per_second
        share = overall * SAFETY / processes if overall else None
        shared[platform] = replace(limits, overall_per_second=share)
    return shared


class Bucket:
    """Even spacing at ``rate`` per ``period``: each caller reserves the next free slot."""

    def __init__(self, rate: float, period: float = 1.0) -> None:
        if rate <= 0 or period <= 0:
            raise ValueError("a rate limit needs a positive rate and period")
        # A hair over the exact spacing, so float rounding never fits rate+1 into one period.
        self.interval = period / rate * (1 + 1e-9)
        self.next_free = float("-inf")

    def reserve(self, now: float, cost: int = 1) -> float:
        """Seconds to wait before sending; the slot is taken at once, so no two share it."""
        slot = max(now, self.next_free)
        self.next_free = slot + self.interval * max(cost, 1)
        return slot - now

    def pause_until(self, moment: float) -> None:
        self.next_free = max(self.next_free, moment)


class Pacer:
    """The overall limit: sends leave one at a time, ``interval`` after the previous one
    actually left. A reserved-slot bucket would let a send that woke up late be followed at
    once by the next on-time one, and a busy event loop would squeeze rate+1 into a second."""

    def __init__(self, rate: float) -> None:
        self.bucket = Bucket(rate)
        self._lock = asyncio.Lock()

    async def wait(self, timer: Timer, cost: int) -> None:
        async with self._lock:  # FIFO: waiters leave in the order they came
            delay = self.bucket.next_free - timer.monotonic()
            if delay > 0:
                await timer.sleep(delay)
            self.bucket.next_free = timer.monotonic() + self.bucket.interval * max(cost, 1)

    def pause_until(self, moment: float) -> None:
        self.bucket.pause_until(moment)


class OverallGate(Protocol):
    """Where the overall limit is kept: this process (``Pacer``) or a database shared by every
    process sending for one bot (``core.delivery.shared_pacer.SharedPacer``)."""

    async def wait(self, timer: Timer, cost: int) -> None: ...

    def pause_until(self, moment: float) -> None: ...


GateFactory = Callable[[str, Limits], OverallGate | None]  # (platform, limits) -> gate


class PlatformLimiter:
    def __init__(self, limits: Limits, timer: Timer, overall: OverallGate | None = None) -> None:
        self.limits = limits
        self.timer = timer
        rate = limits.overall_per_second
        self._overall: OverallGate | None = overall or (Pacer(rate) if rate else None)
        self._chats: dict[str, Bucket] = {}
        self._groups: dict[str, Bucket] = {}

    async def acquire(self, chat_key: str, *, is_group: bool, cost: int = 1) -> None:
        """Wait until a send of ``cost`` messages to the chat keeps every limit."""
        limits = self.limits
        local: list[Bucket] = []
        if limits.per_chat_per_second:
            local.append(self._bucket(self._chats, chat_key, limits.per_chat_per_second, 1.0))
        if is_group and limits.group_per_minute:
            local.append(self._bucket(self._groups, chat_key, limits.group_per_minute, 60.0))
        now = self.timer.monotonic()
        wait = max((bucket.reserve(now, cost) for bucket in local), default=0.0)
        if wait > 0:
            await self.timer.sleep(wait)
        if self._overall is not None:
            await self._overall.wait(self.timer, cost)
        sent_at = self.timer.monotonic()
        for bucket in local:  # the overall wait may have made this send later than reserved
            bucket.pause_until(sent_at + bucket.interval * max(cost, 1))

    def pause(self, seconds: float) -> None:
        """The platform said "too many requests": nobody sends for ``seconds``."""
        until = self.timer.monotonic() + seconds
        if self._overall is None:
            self._overall = Pacer(1e9)  # no overall limit, but the pause must hold everyone
        self._overall.pause_until(until)

    def _bucket(self, table: dict[str, Bucket], key: str, rate: float, period: float) -> Bucket:
        bucket = table.get(key)
        if bucket is None:
            if len(table) > 50_000:  # forget chats whose slots are in the past
                now = self.timer.monotonic()
                for idle in [k for k, b in table.items() if b.next_free < now]:
                    del table[idle]
            bucket = table[key] = Bucket(rate, period)
        return bucket


class RateLimiters:
    """One limiter per platform, created on first use with that platform's limits."""

    def __init__(
        self,
        timer: Timer | None = None,
        limits: dict[str, Limits] | None = None,
        gates: GateFactory | None = None,
    ) -> None:
        self.timer = timer or SystemTimer()
        self._limits = dict(PLATFORM_LIMITS if limits is None else limits)
        self._gates = gates
        self._by_platform: dict[str, PlatformLimiter] = {}

    def for_platform(self, platform: str) -> PlatformLimiter:
        limiter = self._by_platform.get(platform)
        if limiter is None:
            limits = self._limits.get(platform, Limits())
            gate = self._gates(platform, limits) if self._gates else None
            limiter = self._by_platform[platform] = PlatformLimiter(limits, self.timer, gate)
        return limiter
