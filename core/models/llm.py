"""LLM spend (one row per API call) and the extraction cache (never send a transcript twice)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, utcnow


class LlmCall(Base):
    __tablename__ = "llm_calls"
    __table_args__ = (Index("ix_llm_calls_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # extract | answer | route | embed | transcribe | check
    purpose: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(200))
    # Spend survives the episode's deletion: the money was spent either way.
    episode_id: Mapped[int | None] = mapped_column(
        ForeignKey("episodes.id", ondelete="SET NULL"), index=True
    )
    prompt_tokens: Mapped[int] = mapped_column(default=0)
    completion_tokens: Mapped[int] = mapped_column(default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    # ok | bad_answer | failed
    status: Mapped[str] = mapped_column(String(20), default="ok")


class ExtractionCache(Base):
    """A transcript (or one chunk of it) already extracted by a model, with its grounded result.

    ``content_hash`` hashes the segments sent (and the prompt version), so the same text is
    never sent to the same model twice, whichever episode it belongs to.
    """

    __tablename__ = "llm_extraction_cache"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    result_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
