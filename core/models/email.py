"""Email recipients' consent and bounces, signup throttling, private brief feeds, app secrets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, utcnow


class EmailSubscription(Base):
    """What the ``users`` row of an email recipient (platform "email") does not say: when the
    address confirmed (the double opt-in's evidence), unsubscribed or bounced."""

    __tablename__ = "email_subscriptions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(320), unique=True)  # normalised, lower-case
    confirmed_at: Mapped[datetime]
    unsubscribed_at: Mapped[datetime | None]
    bounced_at: Mapped[datetime | None]
    bounce_reason: Mapped[str | None] = mapped_column(String(500))


class SignupAttempt(Base):
    """One signup request, for the per-client and per-address rate limits. ``key`` is a keyed
    hash (never the address or IP itself): an unconfirmed address is not stored."""

    __tablename__ = "signup_attempts"
    __table_args__ = (Index("ix_signup_attempts_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]


class BriefFeed(Base):
    """A recipient's private Atom feed of their briefs, at /feeds/{token}.atom."""

    __tablename__ = "brief_feeds"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppSecret(Base):
    """Secrets the app generates once and every process shares (e.g. the link signing key)."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
