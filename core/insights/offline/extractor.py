"""The offline, deterministic insight extractor: no model, no network, same input same output."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from core.domain import EpisodeInfo, InsightDraft, SegmentData
from core.insights import quality  # module, not names: quality reads this package's patterns
from core.insights.errors import ExtractionSkipped
from core.insights.language import looks_english
from core.insights.offline.claims import headline_adjusted, sentence_score
from core.insights.offline.compose import body_from, quote_span, quote_text
from core.insights.offline.headline import headline_from
from core.insights.offline.passages import Sentence, Turn, build_sentences, build_turns
from core.insights.offline.sections import blocks_of, split_sections
from core.insights.topics import tag_counts, tags_for

NOT_ENGLISH = (
    "The offline insight engine only reads English, and this transcript is in another "
    "language. Configure an LLM (see 'Using an LLM' in the README) to get insights from it."
)
WORDS_PER_SECOND = 2.5  # speech rate used when a transcript carries no usable times
TRIES_PER_SECTION = 20


@dataclass(frozen=True, slots=True)
class ExtractorLimits:
    per_hour: float = 7.0  # the most insights per hour of audio
    min_score: float = 0.45  # a weaker best passage yields no insight...
    floor_per_hour: float = 5.0  # ...unless the episode would fall below this many per hour,
    relaxed_min_score: float = 0.3  # when passages down to this score may fill the gap
    rescue_min_score: float = 0.1  # a substantial talk with nothing better gets its best one
    substantial_words: int = 1500
    min_words: int = 350  # below this a transcript is too thin to say anything
    fallback_min_words: int = 900  # show notes must be this substantial to be used
    fallback_max: int = 2
    edge_share: float = 0.04  # the opening/closing share of an episode, where intros live


@dataclass(frozen=True, slots=True)
class _Episode:
    """One transcript prepared for extraction."""

    info: EpisodeInfo
    segments: list[SegmentData]
    turns: list[Turn]
    sentences: list[Sentence]
    duration: float

    @property
    def cased(self) -> bool:
        """Whether the transcript has capital letters at all (bare captions have none)."""
        return any(c.isupper() for turn in self.turns for c in turn.text[:200])

    @property
    def people(self) -> frozenset[str]:
        """Lower-case parts of the speakers' names (hosts and guests are not topics)."""
        names = {s.speaker for s in self.segments if s.speaker}
        return frozenset(part.lower() for name in names for part in name.split())


class OfflineInsightExtractor:
    def __init__(self, limits: ExtractorLimits | None = None) -> None:
        self._limits = limits or ExtractorLimits()

    @property
    def name(self) -> str:
        return "offline"

    async def extract(
        self, episode: EpisodeInfo, segments: Sequence[SegmentData]
    ) -> list[InsightDraft]:
        # Pure CPU work: run it beside the event loop, not on it.
        return await asyncio.to_thread(self.extract_sync, episode, list(segments))

    def extract_sync(self, info: EpisodeInfo, segments: list[SegmentData]) -> list[InsightDraft]:
        if not looks_english(s.text for s in segments):
            raise ExtractionSkipped(NOT_ENGLISH)
        turns = build_turns(segments)
        sentences = build_sentences(turns)
        total_words = sum(s.n_words for s in sentences)
        ep = _Episode(info, segments, turns, sentences, _duration(info, segments, total_words))
        limit = self._limit(ep, total_words)
        if limit == 0:
            return []
        sections = split_sections(sentences, max_sections=limit * 2)
        idf = _idf(sentences)
        scores = [0.0] * len(sentences)
        weights: list[dict[str, float]] = []
        for section in sections:
            weights.append(_section_weights(sentences, section, idf))
            for i in section:
                scores[i] = sentence_score(sentences[i], weights[-1]) * self._position(ep, i)
        drafts = self._drafts(ep, sections, scores, weights, self._limits.relaxed_min_score)
        if not drafts and self._substantial(ep):
            # A real talk of 1,500 words always says something: take its best passage even
            # when nothing scores high (unlabeled hosts and plain speech score lower).
            drafts = self._drafts(ep, sections, scores, weights, self._limits.rescue_min_score)[:1]
        drafts.sort(key=lambda d: (-d.score, d.start_seconds))
        strong = [d for d in drafts if d.score >= self._limits.min_score]
        wanted = math.floor(self._limits.floor_per_hour * ep.duration / 3600)
        chosen = drafts[: max(len(strong), min(wanted, len(drafts)))]
        return sorted(chosen[:limit], key=lambda d: d.start_seconds)

    def _drafts(
        self,
        ep: _Episode,
        sections: list[list[int]],
        scores: list[float],
        weights: list[dict[str, float]],
        floor: float,
    ) -> list[InsightDraft]:
        found = (self._best_draft(ep, s, scores, weights[k], floor) for k, s in enumerate(sections))
        return [d for d in found if d is not None]

    def _substantial(self, ep: _Episode) -> bool:
        """About 1,500 words or more of real talk (not ads, intros or small talk)."""
        if ep.info.is_fallback:
            return False
        talk = sum(s.n_words for s in ep.sentences if not s.noisy)
        return talk >= self._limits.substantial_words

    def _best_draft(
        self,
        ep: _Episode,
        section: list[int],
        scores: list[float],
        weights: dict[str, float],
        floor: float,
    ) -> InsightDraft | None:
        """The section's best-scoring sentence that makes a headline and a body."""
        ranked = sorted(section, key=lambda i: (-scores[i], i))[:TRIES_PER_SECTION]
        members = set(section)
        context = tag_counts(" ".join(ep.sentences[i].text for i in section))
        best: InsightDraft | None = None
        for i in ranked:
            if scores[i] < floor:
                break
            if best is not None and scores[i] <= best.score:
                break
            draft = _draft(ep, ep.sentences[i], scores, members, (weights, context))
            if draft is not None and (best is None or draft.score > best.score):
                best = draft
        return best

    def _limit(self, ep: _Episode, total_words: int) -> int:
        if ep.info.is_fallback:
            substantial = total_words >= self._limits.fallback_min_words
            return self._limits.fallback_max if substantial else 0
        if total_words < self._limits.min_words:
            return 0
        return max(1, math.floor(self._limits.per_hour * ep.duration / 3600 + 0.5))

    def _position(self, ep: _Episode, index: int) -> float:
        """Openings and closings are where intros and outros live: trust them less."""
        if ep.info.is_fallback or ep.segments[-1].start <= ep.segments[0].start:
            return 1.0  # show notes, or no usable times: position says nothing
        start = _start_of(ep, ep.sentences[index])
        edge = self._limits.edge_share * ep.duration
        return 0.6 if start < max(edge, 30.0) or start > ep.duration - edge else 1.0


def _draft(
    ep: _Episode,
    core: Sentence,
    scores: list[float],
    section: set[int],
    topical: tuple[dict[str, float], Counter[str]],
) -> InsightDraft | None:
    """An insight around ``core``; ``topical`` is the section's key-word weights and tag counts."""
    headline = headline_from(core.text, cased=ep.cased, accept=quality.is_standalone_claim)
    if headline is None:
        return None
    body = body_from(ep.sentences, core, scores, section)
    if body is None:
        return None
    weights, context = topical
    turn = ep.turns[core.turn]
    span = quote_span(ep.sentences, core)
    first = ep.segments[turn.segment_at(span[0])]
    last = ep.segments[turn.segment_at(span[1] - 1)]
    quote = quote_text(ep.turns, core, span)
    if ep.cased and not quality.quote_is_sentence_bounded(quote):
        return None  # an utterance cut off mid-sentence (speaker change, a caption piece)
    words = [w for i in sorted(section) for w in ep.sentences[i].content]
    score = headline_adjusted(scores[core.index], headline)
    return InsightDraft(
        headline=headline,
        body=body,
        quote=quote,
        speaker=turn.speaker,
        start_seconds=first.start,
        end_seconds=max(first.start, last.end),
        topics=tags_for(
            f"{quote} {body}", words, weights, headline, ep.people, context, focus=quote
        ),
        score=round(score * (0.7 if ep.info.is_fallback else 1.0), 4),
    )


def _start_of(ep: _Episode, sentence: Sentence) -> float:
    return ep.segments[ep.turns[sentence.turn].segment_at(sentence.start)].start


def _duration(info: EpisodeInfo, segments: list[SegmentData], total_words: int) -> float:
    timed = max((s.end for s in segments), default=0.0)
    return max(info.duration_seconds or 0.0, timed) or total_words / WORDS_PER_SECOND


def _idf(sentences: list[Sentence]) -> dict[str, float]:
    """Inverse document frequency over ~80-word blocks: words everywhere weigh little."""
    blocks = blocks_of(sentences, 80)
    df: Counter[str] = Counter()
    for block in blocks:
        df.update({w for i in block for w in sentences[i].content})
    n = len(blocks)
    return {w: math.log((1 + n) / (1 + c)) for w, c in df.items()}


def _section_weights(
    sentences: list[Sentence], section: list[int], idf: dict[str, float]
) -> dict[str, float]:
    """The section's key words, tf-idf scaled so the strongest weighs 0.5."""
    tf = Counter(w for i in section for w in sentences[i].content)
    raw = {w: c * idf.get(w, 0.0) for w, c in tf.items() if c >= 2}
    top = max(raw.values(), default=0.0)
    return {w: 0.5 * v / top for w, v in raw.items()} if top > 0 else {}
