"""Insights, their embeddings and the ranked related-insight edges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, utcnow


class Insight(Base):
    __tablename__ = "insights"
    __table_args__ = (Index("ix_insights_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), index=True
    )
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    headline: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    quote: Mapped[str] = mapped_column(Text)
    speaker: Mapped[str | None] = mapped_column(String(200))
    start_seconds: Mapped[float]
    end_seconds: Mapped[float | None]
    topics: Mapped[list[str]] = mapped_column(default=list)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    # "offline" or "llm:<model>": which engine wrote it.
    extractor: Mapped[str] = mapped_column(String(100), default="offline")
    # Insights that state the same idea share a group id (the id of the first one seen).
    group_id: Mapped[int | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InsightTopic(Base):
    """One row per (insight, topic) so topic filters are an index lookup."""

    __tablename__ = "insight_topics"

    insight_id: Mapped[int] = mapped_column(
        ForeignKey("insights.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class InsightEmbedding(Base):
    __tablename__ = "insight_embeddings"
    __table_args__ = (
        UniqueConstraint("insight_id", "model"),
        # Vector indexes catch up by "rows of this model after id N" (migration 0008_search).
        Index("ix_insight_embeddings_model_id", "model", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    insight_id: Mapped[int] = mapped_column(ForeignKey("insights.id", ondelete="CASCADE"))
    # The embedder's name: a different model means a different vector space, never mixed.
    model: Mapped[str] = mapped_column(String(200), index=True)
    dim: Mapped[int]
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, L2-normalised


class RelatedEdge(Base):
    """Top related insights per insight, precomputed so a lookup is one indexed read (the
    key's prefix: a list is at most ten rows, sorted by rank as read). On SQLite the table
    is its key, so a list's rows are stored together (migration 0014_edges); on PostgreSQL
    its pages keep room for a re-ranked row to stay on them (0015_edges_fill)."""

    __tablename__ = "related_edges"
    __table_args__ = ({"sqlite_with_rowid": False, "postgresql_with": {"fillfactor": 80}},)

    insight_id: Mapped[int] = mapped_column(
        ForeignKey("insights.id", ondelete="CASCADE"), primary_key=True
    )
    related_id: Mapped[int] = mapped_column(
        ForeignKey("insights.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    rank: Mapped[int]
    score: Mapped[float]
