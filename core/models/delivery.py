"""Daily deliveries: one row per recipient and local day (the exactly-once guard), attempts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, utcnow

# queued: waiting to be sent (again, once not_before has come) | claimed: a worker holds it
# until claimed_at + lease | sent | failed: gave up | skipped: nothing to send | missed: due
# longer ago than the catch-up window allows.
DELIVERY_STATUSES = ("queued", "claimed", "sent", "failed", "skipped", "missed")


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("user_id", "local_date"),  # a second brief for a day cannot be stored
        Index("ix_deliveries_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)
    platform: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="queued")
    due_at: Mapped[datetime]
    not_before: Mapped[datetime | None]  # a retry waits until then
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]  # the lease runs from here
    brief_id: Mapped[int | None] = mapped_column(ForeignKey("briefs.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    message_ids: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryAttempt(Base):
    """Every send attempt: what happened, the error, how long the platform took."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    worker: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20))  # sent | transient | rate_limited | gone | …
    error: Mapped[str | None] = mapped_column(String(500))
    latency_ms: Mapped[int] = mapped_column(default=0)


class RateSlot(Base):
    """A platform's overall send pacing shared by every process on one database: the next
    free send moment (epoch seconds on the database's clock; see core.delivery.shared_pacer)."""

    __tablename__ = "rate_slots"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)
