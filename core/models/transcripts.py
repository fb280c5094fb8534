"""A parsed transcript and its timestamped segments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, utcnow


class Transcript(Base):
    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), unique=True
    )
    source_url: Mapped[str | None] = mapped_column(String(2048))
    # srt | vtt | json | podwhisper | markdown | bracketed | html | text | shownotes
    format: Mapped[str] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(35))
    # Show notes stand in when no transcript exists; insights treat them as low confidence.
    is_fallback: Mapped[bool] = mapped_column(default=False)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    duration_seconds: Mapped[float | None]
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)

    segments: Mapped[list[Segment]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Segment.idx"
    )


class Segment(Base):
    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_transcript_idx", "transcript_id", "idx", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    idx: Mapped[int]
    start: Mapped[float]
    end: Mapped[float]
    speaker: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
