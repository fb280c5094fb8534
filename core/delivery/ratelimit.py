"""Per-platform send pacing: async token buckets (GCRA) over a monotonic-time port.

Each send first waits for its chat (and group) slot, then for a slot in the platform-wide
bucket, so the overall rate holds at the moment of sending. A 429 pauses the whole platform.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol


class Timer(Protocol):
    """Monotonic seconds and a way to wait; tests pass a fake that moves time by hand."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


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


class Bucket:
    """Even spacing at ``rate`` per ``period``: each caller reserves the next free slot."""

    def __init__(self, rate: float, period: float = 1.0) -> None:
        if rate <= 0 or period <= 0:
            raise ValueError("a rate limit needs a positive rate and period")
        self.interval = period / rate
        self.next_free = float("-inf")

    def reserve(self, now: float, cost: int = 1) -> float:
        """Seconds to wait before sending; the slot is taken at once, so no two share it."""
        slot = max(now, self.next_free)
        self.next_free = slot + self.interval * max(cost, 1)
        return slot - now

    def pause_until(self, moment: float) -> None:
        self.next_free = max(self.next_free, moment)


class PlatformLimiter:
    def __init__(self, limits: Limits, timer: Timer) -> None:
        self.limits = limits
        self.timer = timer
        rate = limits.overall_per_second
        self._overall = Bucket(rate) if rate else None
        self._chats: dict[str, Bucket] = {}
        self._groups: dict[str, Bucket] = {}

    async def acquire(self, chat_key: str, *, is_group: bool, cost: int = 1) -> None:
        limits = self.limits
        waits: list[float] = []
        now = self.timer.monotonic()
        if limits.per_chat_per_second:
            waits.append(
                self._bucket(self._chats, chat_key, limits.per_chat_per_second, 1.0).reserve(
                    now, cost
                )
            )
        if is_group and limits.group_per_minute:
            waits.append(
                self._bucket(self._groups, chat_key, limits.group_per_minute, 60.0).reserve(
                    now, cost
                )
            )
        wait = max(waits, default=0.0)
        if wait > 0:
            await self.timer.sleep(wait)
        if self._overall is not None:
            wait = self._overall.reserve(self.timer.monotonic(), cost)
            if wait > 0:
                await self.timer.sleep(wait)

    def pause(self, seconds: float) -> None:
        """The platform said "too many requests": nobody sends for ``seconds``."""
        until = self.timer.monotonic() + seconds
        if self._overall is None:
            self._overall = Bucket(1e9)  # no overall limit, but the pause must hold everyone
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

    def __init__(self, timer: Timer | None = None, limits: dict[str, Limits] | None = None) -> None:
        self.timer = timer or SystemTimer()
        self._limits = dict(PLATFORM_LIMITS if limits is None else limits)
        self._by_platform: dict[str, PlatformLimiter] = {}

    def for_platform(self, platform: str) -> PlatformLimiter:
        limiter = self._by_platform.get(platform)
        if limiter is None:
            limits = self._limits.get(platform, Limits())
            limiter = self._by_platform[platform] = PlatformLimiter(limits, self.timer)
        return limiter
