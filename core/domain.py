"""Plain value types passed between core modules and across ports (no ORM, no platform)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SegmentData:
    """One timestamped utterance of a transcript."""

    start: float
    end: float
    text: str
    speaker: str | None = None


@dataclass(frozen=True, slots=True)
class EpisodeInfo:
    """What an insight extractor may know about an episode besides its transcript."""

    episode_id: int
    feed_id: int
    show_title: str
    episode_title: str
    published_at: datetime | None
    duration_seconds: float | None
    description: str | None
    is_fallback: bool = False  # the transcript is only the show notes


class TryLater(Exception):
    """A far side (a model, an embeddings API) cannot serve now: the server is down or today's
    budget is spent. Work that meets it is not failed; it stays pending for a later run."""


@dataclass(frozen=True, slots=True)
class InsightDraft:
    """An insight before it is stored: every extractor returns these."""

    headline: str
    body: str
    quote: str
    speaker: str | None
    start_seconds: float
    end_seconds: float | None
    topics: list[str] = field(default_factory=list)
    score: float = 0.0
    # The engine that really wrote it when that is not the extractor asked (an LLM extractor
    # whose model answered badly hands the episode to the offline engine); None: the extractor.
    engine: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The answer to one HTTP (or file) fetch."""

    url: str  # the URL finally answered, after redirects
    status: int  # 200, or 304 when the validators matched
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    # Set when a 301/308 chain led here: the feed's stored URL should move.
    permanent_redirect_to: str | None = None


class FetchError(Exception):
    """A fetch failed in a way worth telling the user about, in plain words."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
