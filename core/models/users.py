"""People and chats (recipients), their preferences, feedback, briefs and chat context."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, utcnow


class User(Base):
    """A recipient on one platform: a person, a group chat or a channel."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("platform", "workspace", "external_id"),
        # Planning reads the recipients of one schedule at a time (core.delivery.claim).
        Index("ix_users_schedule", "platform", "timezone", "delivery_time", "delivery_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))  # console | telegram | slack
    # Slack team id; "" where the platform has no workspaces.
    workspace: Mapped[str] = mapped_column(String(100), default="")
    external_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="person")  # person | group | channel
    display_name: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    delivery_time: Mapped[str] = mapped_column(String(5), default="08:00")  # local HH:MM
    delivery_days: Mapped[str] = mapped_column(String(10), default="daily")  # daily | weekdays
    paused: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)  # False once the platform refuses us
    inactive_reason: Mapped[str | None] = mapped_column(String(500))
    onboarded: Mapped[bool] = mapped_column(default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TopicPreference(Base):
    __tablename__ = "topic_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(100), primary_key=True)
    mode: Mapped[str] = mapped_column(String(10))  # follow | mute


class ShowSubscription(Base):
    __tablename__ = "show_subscriptions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    feed_id: Mapped[int] = mapped_column(
        ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True
    )


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_user", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    insight_id: Mapped[int | None] = mapped_column(ForeignKey("insights.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # up | down | more_like | less_about
    topic: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Brief(Base):
    __tablename__ = "briefs"
    __table_args__ = (Index("ix_briefs_user_date", "user_id", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20), default="on_demand")  # daily | on_demand
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BriefItem(Base):
    __tablename__ = "brief_items"
    __table_args__ = (UniqueConstraint("user_id", "insight_id"),)  # never the same insight twice

    brief_id: Mapped[int] = mapped_column(
        ForeignKey("briefs.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)  # 1-based, as the user sees "#3"
    # No index of its own: the unique (user_id, insight_id) one serves lookups by user. No
    # foreign keys on user and insight (migration 0013): the brief's user is the item's, and
    # an insight's items are deleted with it by core.feeds.service.remove_feed.
    user_id: Mapped[int]
    insight_id: Mapped[int]
    is_older: Mapped[bool] = mapped_column(default=False)  # filled from the backlog


class ChatContext(Base):
    """What "#2" and "show related insights" refer to in one chat."""

    __tablename__ = "chat_contexts"
    __table_args__ = (UniqueConstraint("platform", "workspace", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    workspace: Mapped[str] = mapped_column(String(100), default="")
    chat_id: Mapped[str] = mapped_column(String(100))
    last_brief_id: Mapped[int | None] = mapped_column(ForeignKey("briefs.id", ondelete="SET NULL"))
    last_insight_id: Mapped[int | None] = mapped_column(
        ForeignKey("insights.id", ondelete="SET NULL")
    )
    # Last list of insights shown (e.g. related or search results) for "#N" after them.
    last_listing: Mapped[list[str]] = mapped_column(default=list)
    pending: Mapped[dict[str, Any]] = mapped_column(default=dict)  # e.g. awaiting confirmation
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
