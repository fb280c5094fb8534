"""Feeds, their episodes and the transcript links each episode announces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, utcnow


class Feed(Base):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str | None] = mapped_column(String(500))
    link: Mapped[str | None] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(String(2048))
    language: Mapped[str | None] = mapped_column(String(35))
    # Conditional GET validators: an unchanged feed costs one 304.
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_polled_at: Mapped[datetime | None]
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    error_count: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    # Added by a chat user: every fetch of it goes through the SSRF guard.
    untrusted: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    episodes: Mapped[list[Episode]] = relationship(
        back_populates="feed", cascade="all, delete-orphan", passive_deletes=True
    )


class Episode(Base):
    __tablename__ = "episodes"
    __table_args__ = (
        # dedup_key is "guid:…", else "enclosure:…", else "link-title:…" (see core.feeds).
        UniqueConstraint("feed_id", "dedup_key"),
        Index("ix_episodes_feed_published", "feed_id", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    dedup_key: Mapped[str] = mapped_column(String(700))
    guid: Mapped[str | None] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(String(1000))
    published_at: Mapped[datetime | None]
    duration_seconds: Mapped[float | None]
    enclosure_url: Mapped[str | None] = mapped_column(String(2048))
    enclosure_type: Mapped[str | None] = mapped_column(String(200))
    link: Mapped[str | None] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(String(2048))
    chapters_url: Mapped[str | None] = mapped_column(String(2048))
    persons: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    language: Mapped[str | None] = mapped_column(String(35))
    # pending | fetched | fallback | failed | none
    transcript_status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    transcript_error: Mapped[str | None] = mapped_column(Text)
    # pending | done | failed | skipped
    insight_status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    insight_error: Mapped[str | None] = mapped_column(Text)  # why it failed or was skipped
    # Drafts the shared quality gate turned away for this episode (see core.insights.quality).
    insights_rejected: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    feed: Mapped[Feed] = relationship(back_populates="episodes")
    transcript_links: Mapped[list[TranscriptLink]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class TranscriptLink(Base):
    __tablename__ = "transcript_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    mime_type: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(35))
    rel: Mapped[str | None] = mapped_column(String(50))
