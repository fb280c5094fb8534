"""Send pacing: Telegram's overall, per-chat and per-group limits, 429 pauses, sharing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from core.delivery.paid import PaidBroadcast, PaidBroadcastConfig, PaidGate
from core.delivery.ratelimit import (
    PLATFORM_LIMITS,
    Bucket,
    Limits,
    Pacer,
    PlatformLimiter,
    RateLimiters,
    limits_shared_by,
)
from tests.fakes.clock import FakeClock
from tests.fakes.messenger import FakeTimer


async def _send_times(limiter: PlatformLimiter, chats: list[str], *, group: bool) -> list[float]:
    times = []
    for chat in chats:
        await limiter.acquire(chat, is_group=group)
        times.append(limiter.timer.monotonic())
    return times


def _max_in_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


async def test_overall_limit_is_30_a_second_evenly() -> None:
    timer = FakeTimer()
    limiter = RateLimiters(timer).for_platform("telegram")
    times = await _send_times(limiter, [str(i) for i in range(300)], group=False)
    assert _max_in_window(times, 1.0) <= 30
    assert times[-1] - times[0] == pytest.approx(299 / 30)  # and no slower than the limit


async def test_one_chat_gets_one_a_second_and_a_group_twenty_a_minute() -> None:
    limiter = RateLimiters(FakeTimer()).for_platform("telegram")
    person = await _send_times(limiter, ["7"] * 4, group=False)
    assert [round(b - a, 6) for a, b in itertools.pairwise(person)] == [1.0] * 3
    group = await _send_times(limiter, ["-100"] * 25, group=True)
    assert _max_in_window(group, 60.0) <= 20


async def test_slack_paces_each_channel_but_not_across_channels() -> None:
    limiter = RateLimiters(FakeTimer()).for_platform("slack")
    spread = await _send_times(limiter, [f"C{i}" for i in range(50)], group=True)
    assert spread[-1] == spread[0]  # fifty channels at once: no overall limit
    same = await _send_times(limiter, ["C1", "C1"], group=True)
    assert same[1] - same[0] >= 1.0


async def test_a_429_pauses_every_send_of_the_platform() -> None:
    timer = FakeTimer()
    limiter = RateLimiters(timer).for_platform("slack")
    start = timer.monotonic()
    limiter.pause(12.5)
    await limiter.acquire("C9", is_group=True)
    assert timer.monotonic() - start >= 12.5


def test_processes_share_the_overall_limit() -> None:
    shared = limits_shared_by(3)
    assert shared["telegram"].overall_per_second == pytest.approx(30 * 0.98 / 3)
    assert shared["telegram"].per_chat_per_second == 1.0
    assert shared["slack"] == PLATFORM_LIMITS["slack"]
    with pytest.raises(ValueError, match="at least 1"):
        limits_shared_by(0)


def test_a_bucket_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        Bucket(0)
    assert RateLimiters(FakeTimer(), limits={}).for_platform("x").limits == Limits()


async def test_paid_broadcast_paces_fast_while_the_budget_lasts_then_at_the_free_rate() -> None:
    """The delivery pace with paid broadcasts: ~1,000/s while today's Stars last, then 30/s;
    the next UTC day the budget is whole again."""
    timer = FakeTimer()
    clock = FakeClock(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    paid = PaidBroadcast(PaidBroadcastConfig(daily_stars=5.0), clock, timer)  # 50 messages
    limiter = PlatformLimiter(Limits(overall_per_second=30.0), timer, PaidGate(Pacer(30.0), paid))
    fast: list[float] = []
    for i in range(50):
        await limiter.acquire(str(i), is_group=False)
        fast.append(timer.monotonic())
        assert paid.reserve() and paid.left(paid=True)  # what the adapter does as each leaves
    assert _max_in_window(fast, 1.0) == 50  # far above the free 30 in one second
    assert paid.spent == pytest.approx(5.0) and paid.paid_messages == 50
    assert not paid.active() and not paid.reserve()
    slow = await _send_times(limiter, [f"s{i}" for i in range(60)], group=False)
    assert _max_in_window(slow, 1.0) <= 30  # the budget is spent: the free pace
    clock.set(datetime(2026, 11, 25, 0, 0, 1, tzinfo=UTC))
    assert paid.active() and paid.spent == 0.0


def test_paid_messages_are_reserved_then_charged_and_the_free_rate_counts_them() -> None:
    timer = FakeTimer()
    clock = FakeClock(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    paid = PaidBroadcast(PaidBroadcastConfig(daily_stars=0.2, free_per_second=2), clock, timer)
    assert paid.reserve() and paid.reserve() and not paid.reserve()  # two in the budget
    paid.release()  # one failed before it left: nothing spent for it
    assert paid.left(paid=True) is True and paid.spent == pytest.approx(0.1)
    assert paid.reserve() and paid.left(paid=True)
    paid.refund()  # refused after all: given back
    assert paid.spent == pytest.approx(0.1) and paid.active()
    assert paid.free_wait() == pytest.approx(1.05)  # two left this second: a free one waits
    timer.now += 1.1
    assert paid.free_wait() == 0.0
    with pytest.raises(ValueError, match="above the free"):
        PaidBroadcast(PaidBroadcastConfig(1.0, paid_per_second=30.0), clock, timer)
