"""Transcript segments as speaker turns and sentences, each traceable to its segments.

A turn is a maximal run of contiguous segments with the same speaker; its text is the segment
texts joined by one space with whitespace collapsed. A quote cut from a turn's text is therefore
verbatim from one segment or a contiguous same-speaker run, and its start time is the start of the
segment its first character came from.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from core.domain import SegmentData
from core.insights.offline.noise import is_ad_break_speaker, is_noise, is_sponsor_read
from core.insights.offline.text import collapse, content_words, sentence_spans, words

LONGEST_SENTENCE_WORDS = 80  # beyond this a "sentence" is really unpunctuated speech
PIECE_WORDS = 25


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: str | None
    text: str
    seg_indices: tuple[int, ...]  # indices into the transcript's segments
    seg_offsets: tuple[int, ...]  # where each segment's text starts in ``text``

    def segment_at(self, offset: int) -> int:
        """Index (into the transcript) of the segment holding character ``offset``."""
        return self.seg_indices[max(0, bisect_right(self.seg_offsets, offset) - 1)]


@dataclass(frozen=True, slots=True)
class Sentence:
    index: int  # position among all sentences of the transcript
    turn: int
    start: int  # character span in the turn's text
    end: int
    text: str
    n_words: int
    content: tuple[str, ...]
    noisy: bool  # sponsor read, intro, outro, housekeeping or small talk


def build_turns(segments: Sequence[SegmentData]) -> list[Turn]:
    turns: list[Turn] = []
    indices: list[int] = []
    offsets: list[int] = []
    parts: list[str] = []
    length = 0
    speaker: str | None = None
    for i, segment in enumerate(segments):
        if indices and segment.speaker != speaker:
            turns.append(Turn(speaker, " ".join(parts), tuple(indices), tuple(offsets)))
            indices, offsets, parts, length = [], [], [], 0
        speaker = segment.speaker
        text = collapse(segment.text)
        indices.append(i)
        offsets.append(length + (1 if parts and text else 0))
        if text:
            length += len(text) + (1 if parts else 0)
            parts.append(text)
    if indices:
        turns.append(Turn(speaker, " ".join(parts), tuple(indices), tuple(offsets)))
    return turns


def build_sentences(turns: Sequence[Turn]) -> list[Sentence]:
    sentences: list[Sentence] = []
    for t, turn in enumerate(turns):
        ad_turn = is_ad_break_speaker(turn.speaker)
        spans = [piece for span in sentence_spans(turn.text) for piece in _pieces(turn, span)]
        sponsor_spans = {k for k, (a, b) in enumerate(spans) if is_sponsor_read(turn.text[a:b])}
        for k, (start, end) in enumerate(spans):
            text = turn.text[start:end]
            # A sponsor read runs over several sentences: its neighbours are part of it.
            near_sponsor = any(abs(k - s) <= 2 for s in sponsor_spans)
            sentences.append(
                Sentence(
                    index=len(sentences),
                    turn=t,
                    start=start,
                    end=end,
                    text=text,
                    n_words=len(words(text)),
                    content=tuple(content_words(text)),
                    noisy=ad_turn or near_sponsor or is_noise(text),
                )
            )
    return sentences


def _pieces(turn: Turn, span: tuple[int, int]) -> list[tuple[int, int]]:
    """An unpunctuated run (auto captions) cut at segment boundaries into sentence-sized parts."""
    start, end = span
    if len(turn.text[start:end].split()) <= LONGEST_SENTENCE_WORDS:
        return [span]
    pieces: list[tuple[int, int]] = []
    cuts = [o - 1 for o in turn.seg_offsets if start < o - 1 < end] + [end]
    for cut in cuts:
        if len(turn.text[start:cut].split()) >= PIECE_WORDS or cut == end:
            if turn.text[start:cut].strip():
                pieces.append((start, cut))
            start = cut + 1
    return pieces
