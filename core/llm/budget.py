"""Spend accounting and the daily budget: every call is stored with its tokens and cost.

The day is the UTC day of the injected Clock, so a budget spent today resumes at midnight UTC.
Prices are USD per million tokens (input, output); a model not listed costs 0 here and is
limited by the token budget only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import transaction
from core.llm.types import BudgetExhausted, LlmBadAnswer, LlmError, Usage
from core.models.llm import LlmCall
from core.ports import Clock

# (input, output) USD per 1M tokens, from the providers' public price lists.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "text-embedding-3-small": (0.02, 0.0),
    "text-embedding-3-large": (0.13, 0.0),
}
# Transcription is priced per audio minute.
TRANSCRIPTION_PER_MINUTE: dict[str, float] = {"whisper-1": 0.006, "gpt-4o-mini-transcribe": 0.003}


class HasUsage(Protocol):
    @property
    def usage(self) -> Usage: ...


R = TypeVar("R", bound=HasUsage)


def cost_of(model: str, usage: Usage) -> float:
    price_in, price_out = PRICES.get(model, (0.0, 0.0))
    return (usage.prompt_tokens * price_in + usage.completion_tokens * price_out) / 1_000_000


@dataclass(frozen=True, slots=True)
class Spend:
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class LlmBudget:
    """Records every call and refuses new ones once today's budget is spent (0 = no limit)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        daily_tokens: int = 0,
        daily_cost_usd: float = 0.0,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._daily_tokens = daily_tokens
        self._daily_cost = daily_cost_usd

    async def today(self) -> Spend:
        start = datetime.combine(self._clock.now().date(), time(), tzinfo=self._clock.now().tzinfo)
        return await spend_between(self._sessions, start, start + timedelta(days=1))

    async def ensure_available(self) -> None:
        if not self._daily_tokens and not self._daily_cost:
            return
        spent = await self.today()
        if self._daily_tokens and spent.tokens >= self._daily_tokens:
            raise BudgetExhausted(
                f"today's LLM budget of {self._daily_tokens:,} tokens is spent "
                f"({spent.tokens:,} used); extraction resumes tomorrow (UTC)"
            )
        if self._daily_cost and spent.cost_usd >= self._daily_cost:
            raise BudgetExhausted(
                f"today's LLM budget of ${self._daily_cost:.2f} is spent "
                f"(${spent.cost_usd:.4f} used); extraction resumes tomorrow (UTC)"
            )

    async def record(
        self,
        *,
        purpose: str,
        model: str,
        usage: Usage,
        status: str = "ok",
        episode_id: int | None = None,
        cost_usd: float | None = None,
    ) -> None:
        async with transaction(self._sessions) as session:
            session.add(
                LlmCall(
                    created_at=self._clock.now(),
                    purpose=purpose,
                    model=model,
                    episode_id=episode_id,
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                    cost_usd=cost_of(model, usage) if cost_usd is None else cost_usd,
                    status=status,
                )
            )

    async def metered(
        self,
        purpose: str,
        model: str,
        call: Callable[[], Awaitable[R]],
        *,
        episode_id: int | None = None,
    ) -> R:
        """Run one API call inside the budget and store what it spent, whatever the outcome."""
        await self.ensure_available()
        try:
            result = await call()
        except LlmBadAnswer as exc:
            await self.record(
                purpose=purpose, model=model, usage=exc.usage, status="bad_answer",
                episode_id=episode_id,
            )  # fmt: skip
            raise
        except LlmError:
            await self.record(
                purpose=purpose, model=model, usage=Usage(), status="failed", episode_id=episode_id
            )
            raise
        await self.record(purpose=purpose, model=model, usage=result.usage, episode_id=episode_id)
        return result


async def spend_between(
    sessions: async_sessionmaker[AsyncSession], start: datetime | None, end: datetime | None
) -> Spend:
    query = select(
        func.count(LlmCall.id),
        func.coalesce(func.sum(LlmCall.prompt_tokens), 0),
        func.coalesce(func.sum(LlmCall.completion_tokens), 0),
        func.coalesce(func.sum(LlmCall.cost_usd), 0.0),
    )
    if start is not None:
        query = query.where(LlmCall.created_at >= start)
    if end is not None:
        query = query.where(LlmCall.created_at < end)
    async with sessions() as session:
        calls, prompt, completion, cost = (await session.execute(query)).one()
    return Spend(int(calls), int(prompt), int(completion), float(cost))


async def spend_of_episode(sessions: async_sessionmaker[AsyncSession], episode_id: int) -> Spend:
    query = select(
        func.count(LlmCall.id),
        func.coalesce(func.sum(LlmCall.prompt_tokens), 0),
        func.coalesce(func.sum(LlmCall.completion_tokens), 0),
        func.coalesce(func.sum(LlmCall.cost_usd), 0.0),
    ).where(LlmCall.episode_id == episode_id)
    async with sessions() as session:
        calls, prompt, completion, cost = (await session.execute(query)).one()
    return Spend(int(calls), int(prompt), int(completion), float(cost))
