"""Telegram's flood limits and transient failures, handled below every Bot API call.

About 30 messages a second overall, about 1 a second per chat, 20 a minute per group; a 429
pauses every request for its ``retry_after``; network failures are retried with backoff, except
a timed-out send, which may already have been delivered (retrying it could send it twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

from core.delivery.paid import PaidBroadcast

log = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]
_SENDING = ("send", "edit", "copy", "forward")


@dataclass(frozen=True, slots=True)
class RateLimits:
    overall_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    group_max: float = 20.0  # messages per group_period_seconds to one group
    group_period_seconds: float = 60.0
    max_retries: int = 5  # for a 429 and for network failures
    network_backoff_seconds: float = 0.5  # doubled on each retry
    paid_per_second: float = 1000.0  # a send with allow_paid_broadcast (Telegram's ceiling)


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB 22 deprecates the int form; both are handled
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def is_group_chat(chat_id: object) -> bool:
    """Groups and channels have negative ids (or an @username)."""
    if isinstance(chat_id, str):
        return not chat_id.lstrip("-").isdigit() or chat_id.startswith("-")
    return isinstance(chat_id, int) and chat_id < 0


class ChatPace:
    """Even spacing of the messages to one chat, from the moment each one really left."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.next_free = 0.0

    async def wait(self) -> None:
        delay = self.next_free - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def sent_now(self, pace: float) -> None:
        self.next_free = time.monotonic() + pace

    def idle(self, now: float) -> bool:
        return self.next_free < now and not self.lock.locked()


class FloodAwareRateLimiter(BaseRateLimiter[int]):
    """PTB rate limiter: overall, per-chat and per-group limits, RetryAfter and retries."""

    def __init__(self, limits: RateLimits | None = None, paid: PaidBroadcast | None = None) -> None:
        self.limits = limits or RateLimits()
        self.paid = paid  # Telegram's paid broadcasts within a budget (opt-in)
        self._free_turn = asyncio.Lock()
        # Capacity 1: evenly spaced, so no second ever holds more than the rate (no burst).
        self._overall = AsyncLimiter(1, 1 / self.limits.overall_per_second)
        self._paid_overall = AsyncLimiter(1, 1 / self.limits.paid_per_second)
        self._chats: dict[str, ChatPace] = {}
        self._groups: dict[str, AsyncLimiter] = {}
        self._resume = asyncio.Event()
        self._resume.set()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        retries = rate_limit_args if rate_limit_args is not None else self.limits.max_retries
        sending = endpoint.startswith(_SENDING)
        chat_id = data.get("chat_id") if sending else None
        wants_paid = bool(data.get("allow_paid_broadcast"))
        for attempt in range(retries + 1):
            last = attempt == retries
            try:
                async with self._slot(chat_id, data, wants_paid=wants_paid):
                    await self._resume.wait()
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if last:
                    raise
                await self._pause_all(retry_after_seconds(exc))
            except BadRequest:
                raise
            except TimedOut:
                if sending or last:
                    raise  # it may have arrived: never risk a duplicate message
                await asyncio.sleep(self._backoff(attempt))
            except NetworkError as exc:
                if last:
                    raise
                log.warning("Telegram %s failed (%s); retrying", endpoint, exc)
                await asyncio.sleep(self._backoff(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _overall_slot(self, data: dict[str, Any], wants_paid: bool) -> bool:
        """Wait for the overall pace; True if the message was charged as a paid broadcast.
        It goes as one while the budget covers it; otherwise the flag is taken off the request
        (``data`` is what PTB is about to post) and it waits for the free pace, which counts
        the paid messages of the last second too."""
        paid = self.paid
        if paid is None:
            await self._overall.acquire()
            return False
        if wants_paid and paid.reserve():
            await self._paid_overall.acquire()
            return paid.left(paid=True)
        data.pop("allow_paid_broadcast", None)
        async with self._free_turn:  # one at a time: each sees the one before it counted
            await self._overall.acquire()
            wait = paid.free_wait()
            if wait > 0:  # until the last second holds fewer than the free rate
                await asyncio.sleep(wait)
            paid.left(paid=False)
        return False

    def _backoff(self, attempt: int) -> float:
        return float(self.limits.network_backoff_seconds * 2**attempt)

    async def _pause_all(self, seconds: float) -> None:
        """Telegram asked us to wait: hold every request, not just this one."""
        log.info("Telegram flood control: waiting %.1f s", seconds)
        self._resume.clear()
        try:
            await asyncio.sleep(seconds + 0.1)
        finally:
            self._resume.set()

    @contextlib.asynccontextmanager
    async def _slot(
        self, chat_id: object, data: dict[str, Any], *, wants_paid: bool = False
    ) -> AsyncIterator[None]:
        if chat_id is None:
            yield
            return
        key = str(chat_id)
        pace = self._pace(key)
        async with pace.lock:  # one send per chat at a time, in order
            await pace.wait()
            if is_group_chat(chat_id):
                # Half the allowance may come at once (a brief), the rest evenly: never more
                # than group_max in any window of group_period_seconds.
                burst = max(1.0, self.limits.group_max / 2)
                group = self._limiter(self._groups, key, burst, self.limits.group_period_seconds)
                await group.acquire()
            charged = await self._overall_slot(data, wants_paid)
            # Measured from when the message really leaves, after any wait for the others.
            pace.sent_now(1 / self.limits.per_chat_per_second)
            try:
                yield
            except BaseException:
                if charged and self.paid is not None:
                    self.paid.refund()  # not sent: not charged
                raise

    def _pace(self, key: str) -> ChatPace:
        pace = self._chats.get(key)
        if pace is None:
            if len(self._chats) > 4096:  # forget idle chats so the table stays small
                now = time.monotonic()
                for idle in [k for k, p in self._chats.items() if p.idle(now)]:
                    del self._chats[idle]
            pace = self._chats[key] = ChatPace()
        return pace

    @staticmethod
    def _limiter(
        table: dict[str, AsyncLimiter], key: str, rate: float, period: float
    ) -> AsyncLimiter:
        limiter = table.get(key)
        if limiter is None:
            if len(table) > 4096:  # forget idle chats so the table stays small
                for idle in [k for k, v in table.items() if v.has_capacity(v.max_rate)]:
                    del table[idle]
            limiter = table[key] = AsyncLimiter(rate, period)
        return limiter
