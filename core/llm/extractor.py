"""``LlmInsightExtractor``: insights through an LLM, in the offline engine's shape.

Per episode: the whole transcript's cached result if any; else each chunk (cached per chunk)
is sent once with a strict JSON schema, every quote is grounded in the transcript (repaired or
dropped and counted), chunk results are merged and de-duplicated, and the result is cached.
An answer that is not valid JSON for the schema is asked again once; a second bad answer makes
the episode fall back to the offline engine. ``LlmUnavailable`` and ``BudgetExhausted`` are
raised as ``ExtractionDeferred`` for the caller to defer the episode: nothing of it is stored.
``extract_labelled`` also says which engine really wrote the drafts, so insights from the
offline fallback are stored as the offline engine's, not the model's.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from core.domain import EpisodeInfo, InsightDraft, SegmentData
from core.llm.budget import LlmBudget
from core.llm.cache import ExtractionStore
from core.llm.chunking import (
    Chunk,
    audio_seconds,
    chunk_transcript,
    content_hash,
    segments_fingerprint,
)
from core.llm.grounding import TranscriptIndex
from core.llm.prompts import PROMPT_VERSION, LlmInsight, LlmInsights, system_prompt, user_message
from core.llm.types import (
    BudgetExhausted,
    ExtractionDeferred,
    LlmBadAnswer,
    LlmError,
    LlmUnavailable,
    Parsed,
)
from core.ports import LLM, InsightExtractor

log = logging.getLogger(__name__)
HEADLINE_MAX = 90
RECENT_RESULTS = 8


@dataclass(frozen=True, slots=True)
class LlmExtractorConfig:
    chunk_tokens: int = 30_000  # transcript tokens per request: about 1h45 of speech
    per_hour: float = 7.0  # the most insights per hour of audio, as the offline engine
    min_words: int = 150  # thinner transcripts are not worth a call
    dedup_similarity: float = 0.6  # headline word overlap above which two insights are one


@dataclass
class ExtractionStats:
    calls: int = 0
    cache_hits: int = 0
    bad_answers: int = 0
    fallbacks: int = 0
    quotes_repaired: int = 0
    quotes_dropped: int = 0
    duplicates_merged: int = 0
    fallback_episodes: list[int] = field(default_factory=list)


class LlmInsightExtractor:
    def __init__(
        self,
        llm: LLM,
        budget: LlmBudget,
        store: ExtractionStore,
        fallback: InsightExtractor,
        config: LlmExtractorConfig | None = None,
    ) -> None:
        self._llm = llm
        self._budget = budget
        self._store = store
        self._fallback = fallback
        self._config = config or LlmExtractorConfig()
        self.stats = ExtractionStats()
        # The last few results (drafts, engine name), so asking again for the same transcript
        # (prepare, then store) costs nothing even after the offline fallback, which is not cached.
        self._recent: OrderedDict[str, tuple[list[InsightDraft], str]] = OrderedDict()

    @property
    def name(self) -> str:
        return f"llm:{self._llm.model}"

    def chunks_of(self, segments: Sequence[SegmentData]) -> list[Chunk]:
        return chunk_transcript(segments, self._config.chunk_tokens)

    async def extract(
        self, episode: EpisodeInfo, segments: Sequence[SegmentData]
    ) -> list[InsightDraft]:
        """The port's call: drafts labelled with the offline engine's name when it took over;
        ``ExtractionDeferred`` (a ``TryLater``) when the budget is spent or the server down."""
        drafts, engine = await self.extract_labelled(episode, segments)
        if engine == self.name:
            return drafts
        return [replace(d, engine=engine) for d in drafts]

    async def extract_labelled(
        self, episode: EpisodeInfo, segments: Sequence[SegmentData]
    ) -> tuple[list[InsightDraft], str]:
        """The drafts and the name of the engine that wrote them: ``self.name``, or the
        offline engine's name when the model's answers were unusable and it took over."""
        segments = list(segments)
        if sum(len(s.text.split()) for s in segments) < self._config.min_words:
            return [], self.name
        key = content_hash(PROMPT_VERSION, segments_fingerprint(segments))
        if key in self._recent:
            drafts, engine = self._recent[key]
            return list(drafts), engine
        try:
            drafts, engine = await self._extract_uncached(key, episode, segments)
        except (BudgetExhausted, LlmUnavailable) as exc:
            raise ExtractionDeferred(exc) from exc
        self._recent[key] = (drafts, engine)
        while len(self._recent) > RECENT_RESULTS:
            self._recent.popitem(last=False)
        return list(drafts), engine

    async def _extract_uncached(
        self, key: str, episode: EpisodeInfo, segments: list[SegmentData]
    ) -> tuple[list[InsightDraft], str]:
        cached = await self._store.get(key, self._llm.model)
        if cached is not None:
            self.stats.cache_hits += 1
            return cached, self.name
        index = TranscriptIndex(segments)
        chunks = self.chunks_of(segments)
        try:
            found = await self._all_chunks(episode, chunks, index)
        except LlmBadAnswer as exc:
            log.warning("episode %s: %s; using the offline engine", episode.episode_id, exc)
            self.stats.fallbacks += 1
            self.stats.fallback_episodes.append(episode.episode_id)
            return await self._fallback.extract(episode, segments), self._fallback.name
        drafts = self._merge(found, self._limit(audio_seconds(segments)))
        await self._store.put(key, self._llm.model, drafts)
        return drafts, self.name

    async def _all_chunks(
        self,
        episode: EpisodeInfo,
        chunks: list[Chunk],
        index: TranscriptIndex,
    ) -> list[InsightDraft]:
        results = await asyncio.gather(
            *(self._chunk(episode, c, len(chunks), index) for c in chunks),
            return_exceptions=True,
        )
        # Finished chunks are cached already; report the most telling failure, if any.
        for kind in (LlmBadAnswer, LlmError, BaseException):
            for result in results:
                if isinstance(result, kind):
                    raise result
        return [d for result in results if isinstance(result, list) for d in result]

    async def _chunk(
        self,
        episode: EpisodeInfo,
        chunk: Chunk,
        total: int,
        index: TranscriptIndex,
    ) -> list[InsightDraft]:
        limit = self._limit(chunk.seconds)
        where = f"{chunk.index}/{total}/{limit}"
        key = content_hash(PROMPT_VERSION, where, episode.show_title, episode.episode_title,
                           chunk.text)  # fmt: skip
        cached = await self._store.get(key, self._llm.model)
        if cached is not None:
            self.stats.cache_hits += 1
            return cached
        answer = await self._ask(episode, chunk, total, limit)
        drafts = self._ground(answer.value.insights[: limit * 2], index, episode)
        await self._store.put(key, self._llm.model, drafts)
        return drafts

    async def _ask(
        self, episode: EpisodeInfo, chunk: Chunk, total: int, limit: int
    ) -> Parsed[LlmInsights]:
        system = system_prompt(limit)
        user = user_message(episode, chunk.text, chunk.index, total)
        for attempt in (1, 2):
            self.stats.calls += 1
            try:
                return await self._budget.metered(
                    "extract",
                    self._llm.model,
                    lambda: self._llm.complete_structured(
                        system=system, user=user, output=LlmInsights, schema_name="insights"
                    ),
                    episode_id=episode.episode_id,
                )
            except LlmBadAnswer:
                self.stats.bad_answers += 1
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _ground(
        self, items: Sequence[LlmInsight], index: TranscriptIndex, episode: EpisodeInfo
    ) -> list[InsightDraft]:
        drafts: list[InsightDraft] = []
        for item in items:
            match = index.ground(item.quote)
            if match is None or not item.headline.strip():
                self.stats.quotes_dropped += 1
                continue
            self.stats.quotes_repaired += int(match.repaired)
            score = min(1.0, max(0.0, float(item.score)))
            drafts.append(
                InsightDraft(
                    headline=_headline(item.headline),
                    body=" ".join(item.body.split()),
                    quote=match.quote,
                    speaker=match.speaker,
                    start_seconds=match.start_seconds,
                    end_seconds=match.end_seconds,
                    topics=_topics(item.topics),
                    score=round(score * (0.7 if episode.is_fallback else 1.0), 4),
                )
            )
        return drafts

    def _merge(self, drafts: list[InsightDraft], limit: int) -> list[InsightDraft]:
        kept: list[InsightDraft] = []
        for draft in sorted(drafts, key=lambda d: (-d.score, d.start_seconds)):
            if any(self._same(draft, other) for other in kept):
                self.stats.duplicates_merged += 1
                continue
            kept.append(draft)
        return sorted(kept[:limit], key=lambda d: d.start_seconds)

    def _same(self, a: InsightDraft, b: InsightDraft) -> bool:
        qa, qb = _norm(a.quote), _norm(b.quote)
        if qa in qb or qb in qa:
            return True
        wa, wb = set(_norm(a.headline).split()), set(_norm(b.headline).split())
        overlap = len(wa & wb) / max(1, len(wa | wb))
        return overlap >= self._config.dedup_similarity

    def _limit(self, seconds: float) -> int:
        return max(1, math.ceil(seconds / 3600 * self._config.per_hour))


def _headline(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= HEADLINE_MAX:
        return text
    cut = text[: HEADLINE_MAX - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:-") + "…"


def _topics(raw: Sequence[str]) -> list[str]:
    out: list[str] = []
    for topic in raw:
        tag = " ".join(topic.lower().split()).strip("#.,;:")[:100]
        if tag and tag not in out:
            out.append(tag)
    return out[:4]


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))
