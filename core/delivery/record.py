"""Writing down what happened to a delivery: its new status and one attempt row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import transaction
from core.models import Delivery, DeliveryAttempt

Sessions = async_sessionmaker[AsyncSession]
_ERROR_MAX = 500


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # the delivery's new status: sent | queued (retry) | failed | skipped
    attempt: str  # what this attempt was: sent | transient | rate_limited | gone | …
    error: str | None = None
    latency_ms: int = 0
    not_before: datetime | None = None
    message_ids: list[str] = field(default_factory=list)
    counts_as_attempt: bool = True


async def record_outcome(
    sessions: Sessions, delivery_id: int, outcome: Outcome, now: datetime, worker: str
) -> None:
    values: dict[str, object] = {
        "status": outcome.status,
        "error": outcome.error[:_ERROR_MAX] if outcome.error else None,
        "not_before": outcome.not_before,
    }
    if outcome.counts_as_attempt:
        values["attempts"] = Delivery.attempts + 1
    if outcome.status == "sent":
        values["sent_at"] = now
        values["message_ids"] = list(outcome.message_ids)
    async with transaction(sessions) as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.add(
            DeliveryAttempt(
                delivery_id=delivery_id,
                at=now,
                worker=worker[:100],
                status=outcome.attempt,
                error=outcome.error[:_ERROR_MAX] if outcome.error else None,
                latency_ms=outcome.latency_ms,
            )
        )
