"""Retries for OpenAI-compatible servers: 429, 5xx, timeouts and dropped connections.

The SDK retries by itself too, but it sleeps where a test cannot see it; this loop owns the
waiting (``sleep`` is injectable) and honours ``Retry-After`` / ``Retry-After-Ms`` exactly.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from core.llm.types import LlmBadAnswer, LlmUnavailable

if TYPE_CHECKING:  # imported where a request fails: every `podbrief` command loads this module
    import openai

R = TypeVar("R")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 6  # tries in all, for errors worth trying again
    base_delay: float = 1.0  # doubled per try, with jitter, when the server names no delay
    max_delay: float = 60.0
    max_retry_after: float = 600.0  # a longer Retry-After is treated as "not now"
    sleep: Sleep = field(default=asyncio.sleep)


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    if headers is None:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / divisor)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is not None:
            return max(0.0, email.utils.mktime_tz(parsed) - time.time())
    return None


async def with_retries(policy: RetryPolicy, call: Callable[[], Awaitable[R]], what: str) -> R:
    """Run ``call``; transient failures are retried, the rest become plain-words errors."""
    import openai  # already loaded by the client that ``call`` uses

    for attempt in range(1, policy.attempts + 1):
        try:
            return await call()
        except (openai.APITimeoutError, openai.APIConnectionError, openai.APIStatusError) as exc:
            if isinstance(exc, openai.APIStatusError) and not _transient(exc):
                raise _permanent(exc, what) from exc
            delay = _delay(policy, exc, attempt)
            if attempt == policy.attempts or delay is None:
                raise LlmUnavailable(f"{what} failed: {_describe(exc)}; try again later") from exc
            await policy.sleep(delay)
    raise AssertionError("unreachable")


def _transient(exc: openai.APIStatusError) -> bool:
    return exc.status_code in (408, 409, 429) or exc.status_code >= 500


def _delay(policy: RetryPolicy, exc: openai.APIError, attempt: int) -> float | None:
    import openai

    response = exc.response if isinstance(exc, openai.APIStatusError) else None
    named = retry_after_seconds(response.headers if response is not None else None)
    if named is not None:
        return named if named <= policy.max_retry_after else None
    backoff = min(policy.max_delay, policy.base_delay * 2.0 ** (attempt - 1))
    return backoff * (0.75 + random.random() / 4)  # jitter: many workers do not return at once


def _describe(exc: openai.APIError) -> str:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "the server did not answer in time"
    if isinstance(exc, openai.APIConnectionError):
        return "the server could not be reached"
    if isinstance(exc, openai.RateLimitError):
        return "the server is rate limiting us (429)"
    if isinstance(exc, openai.APIStatusError):
        return f"the server answered with an error ({exc.status_code})"
    return str(exc)


def _permanent(exc: openai.APIStatusError, what: str) -> Exception:
    import openai

    detail = _detail(exc)
    if isinstance(exc, openai.AuthenticationError):
        return LlmUnavailable(f"{what} failed: the API key was refused (401). Check OPENAI_API_KEY")
    if isinstance(exc, openai.PermissionDeniedError):
        return LlmUnavailable(f"{what} failed: this key may not use that model (403){detail}")
    if isinstance(exc, openai.NotFoundError):
        return LlmUnavailable(
            f"{what} failed: the server does not know that model or endpoint (404){detail}"
        )
    # 400/422: our request does not suit this server or model; asking again will not help.
    return LlmBadAnswer(f"{what} was refused by the server ({exc.status_code}){detail}")


def _detail(exc: openai.APIStatusError) -> str:
    message = exc.message if isinstance(exc.message, str) else ""
    return f": {message[:200]}" if message else ""
