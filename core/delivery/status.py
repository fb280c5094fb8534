"""What `podbrief deliveries` shows: the last day's deliveries and what is coming up."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Sessions
from core.delivery.claim import gets_daily_briefs
from core.delivery.schedule import ScheduleError, next_due
from core.models import Delivery, DeliveryAttempt, User


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    delivery_id: int
    user_id: int
    platform: str
    chat_id: str
    local_date: date
    due_at: datetime
    status: str
    attempts: int
    sent_at: datetime | None
    claimed_by: str | None
    error: str | None
    last_latency_ms: int | None


@dataclass
class DeliveryStatus:
    now: datetime
    counts: dict[str, int] = field(default_factory=dict)
    rows: list[DeliveryRow] = field(default_factory=list)
    upcoming_24h: int = 0  # active recipients whose next brief is due within a day
    inactive: int = 0  # recipients the platforms refused
    paused: int = 0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: _plain(v) for k, v in data.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


async def delivery_status(
    sessions: Sessions, now: datetime, *, window: timedelta = timedelta(hours=24), limit: int = 50
) -> DeliveryStatus:
    """Deliveries due in the last ``window`` (counts by status, the latest ``limit`` rows)."""
    status = DeliveryStatus(now=now)
    since = now - window
    latency = (
        select(DeliveryAttempt.latency_ms)
        .where(DeliveryAttempt.delivery_id == Delivery.id)
        .order_by(DeliveryAttempt.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    async with sessions() as session:
        counts = await session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.due_at >= since)
            .group_by(Delivery.status)
        )
        status.counts = {name: int(n) for name, n in counts.all()}
        rows = await session.execute(
            select(Delivery, User.external_id, latency)
            .join(User, User.id == Delivery.user_id)
            .where(Delivery.due_at >= since)
            .order_by(Delivery.due_at.desc(), Delivery.id.desc())
            .limit(limit)
        )
        status.rows = [_row(d, chat, ms) for d, chat, ms in rows.all()]
        status.inactive = await _count(session, User.active.is_(False))
        status.paused = await _count(session, User.paused.is_(True), User.active.is_(True))
        status.upcoming_24h = await _upcoming(session, now)
    return status


def _row(delivery: Delivery, chat_id: str, latency_ms: int | None) -> DeliveryRow:
    return DeliveryRow(
        delivery_id=delivery.id,
        user_id=delivery.user_id,
        platform=delivery.platform,
        chat_id=chat_id,
        local_date=delivery.local_date,
        due_at=delivery.due_at,
        status=delivery.status,
        attempts=delivery.attempts,
        sent_at=delivery.sent_at,
        claimed_by=delivery.claimed_by,
        error=delivery.error,
        last_latency_ms=latency_ms,
    )


async def _count(session: AsyncSession, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(User).where(*where)) or 0)


async def _upcoming(session: AsyncSession, now: datetime) -> int:
    groups = await session.execute(
        select(User.timezone, User.delivery_time, User.delivery_days, func.count())
        .where(gets_daily_briefs(), User.platform != "console")
        .group_by(User.timezone, User.delivery_time, User.delivery_days)
    )
    total = 0
    for tz, at, days, count in groups.all():
        try:
            slot = next_due(tz, at, days, now)
        except ScheduleError:
            continue
        if slot is not None and slot.due_at - now <= timedelta(hours=24):
            total += int(count)
    return total
