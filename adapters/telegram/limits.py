"""Telegram's flood limits and transient failures, handled below every Bot API call.

About 30 messages a second overall, about 1 a second per chat, 20 a minute per group; a 429
pauses every request for its ``retry_after``; network failures are retried with backoff, except
a timed-out send, which may already have been delivered (retrying it could send it twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

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


class FloodAwareRateLimiter(BaseRateLimiter[int]):
    """PTB rate limiter: overall, per-chat and per-group limits, RetryAfter and retries."""

    def __init__(self, limits: RateLimits | None = None) -> None:
        self.limits = limits or RateLimits()
        self._overall = AsyncLimiter(self.limits.overall_per_second, 1)
        self._chats: dict[str, AsyncLimiter] = {}
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
        for attempt in range(retries + 1):
            last = attempt == retries
            try:
                async with self._slot(chat_id):
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
    async def _slot(self, chat_id: object) -> AsyncIterator[None]:
        if chat_id is None:
            yield
            return
        key = str(chat_id)
        # Capacity 1: messages to one chat are paced evenly, never burst.
        pace = 1 / self.limits.per_chat_per_second
        await self._limiter(self._chats, key, 1, pace).acquire()
        if is_group_chat(chat_id):
            group = self._limiter(
                self._groups, key, self.limits.group_max, self.limits.group_period_seconds
            )
            await group.acquire()
        await self._overall.acquire()
        yield

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
