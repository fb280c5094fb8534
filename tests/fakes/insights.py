"""Fakes for the far side of the insight ports."""

from __future__ import annotations

from collections.abc import Sequence

from core.domain import EpisodeInfo, InsightDraft, SegmentData
from core.ports import InsightExtractor


class FailingExtractor:
    """Delegates to a real extractor, but fails on the episodes named (as an LLM outage would)."""

    def __init__(self, inner: InsightExtractor, fail_for: set[int]) -> None:
        self._inner = inner
        self._fail_for = fail_for

    @property
    def name(self) -> str:
        return self._inner.name

    async def extract(
        self, episode: EpisodeInfo, segments: Sequence[SegmentData]
    ) -> list[InsightDraft]:
        if episode.episode_id in self._fail_for:
            raise RuntimeError("the insight engine timed out")
        return await self._inner.extract(episode, segments)


class InventingExtractor:
    """Returns one draft whose quote is not in the transcript: it must never be stored."""

    @property
    def name(self) -> str:
        return "inventing"

    async def extract(
        self, episode: EpisodeInfo, segments: Sequence[SegmentData]
    ) -> list[InsightDraft]:
        return [
            InsightDraft(
                headline="A claim nobody made",
                body="It sounds plausible. It was never said.",
                quote="words that appear nowhere in this transcript at all",
                speaker=None,
                start_seconds=0.0,
                end_seconds=1.0,
            )
        ]
