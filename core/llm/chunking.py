"""Transcript sections for the model: whole speaker turns, packed into chunks within a budget.

A transcript that fits ``max_tokens`` is one chunk. A longer one (about two hours of speech and
up, at the default) is cut only between turns, into chunks of about equal size, so no chunk
starts or ends mid-sentence and each stays well inside the model's context window.
Times and segment numbers are left out of the text: grounding finds each quote's segment
itself, so they would only cost tokens.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from core.domain import SegmentData

CHARS_PER_TOKEN = 4.0  # English text in current OpenAI tokenizers, near enough for budgeting
MAX_LINE_TOKENS = 400  # a monologue is split into lines of about this size, between segments
WORDS_PER_SECOND = 2.5


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    first: int  # segment indices, inclusive
    last: int


@dataclass(frozen=True, slots=True)
class Chunk:
    index: int
    lines: tuple[Line, ...]
    seconds: float  # how much audio it covers

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)


def render_lines(segments: Sequence[SegmentData]) -> list[Line]:
    """One line per speaker turn ("Name: words"), long turns split between segments."""
    lines: list[Line] = []
    start = 0
    words: list[str] = []
    for i, segment in enumerate(segments):
        text = " ".join(segment.text.split())
        turn_changes = i > start and segment.speaker != segments[start].speaker
        too_long = words and estimate_tokens(" ".join(words)) >= MAX_LINE_TOKENS
        if turn_changes or too_long:
            lines.append(_line(segments, start, i - 1, words))
            start, words = i, []
        if text:
            words.append(text)
    if words or start < len(segments):
        lines.append(_line(segments, start, len(segments) - 1, words))
    return [line for line in lines if line.text]


def _line(segments: Sequence[SegmentData], first: int, last: int, words: list[str]) -> Line:
    body = " ".join(words)
    speaker = segments[first].speaker
    return Line(f"{speaker}: {body}" if speaker and body else body, first, last)


def chunk_transcript(segments: Sequence[SegmentData], max_tokens: int) -> list[Chunk]:
    lines = render_lines(segments)
    if not lines:
        return []
    sizes = [estimate_tokens(line.text) + 1 for line in lines]
    count = max(1, math.ceil(sum(sizes) / max_tokens))
    target = sum(sizes) / count
    groups: list[list[Line]] = [[]]
    filled = 0
    for line, size in zip(lines, sizes, strict=True):
        over_target = filled >= target and len(groups) < count
        if groups[-1] and (over_target or filled + size > max_tokens):
            groups.append([])
            filled = 0
        groups[-1].append(line)
        filled += size
    return [Chunk(k, tuple(group), _seconds(segments, group)) for k, group in enumerate(groups)]


def _seconds(segments: Sequence[SegmentData], lines: list[Line]) -> float:
    first, last = segments[lines[0].first], segments[lines[-1].last]
    span = last.end - first.start
    if span > 0:
        return span
    words = sum(len(line.text.split()) for line in lines)
    return words / WORDS_PER_SECOND


def audio_seconds(segments: Sequence[SegmentData]) -> float:
    span = max((s.end for s in segments), default=0.0) - min((s.start for s in segments), default=0)
    if span > 0:
        return span
    return sum(len(s.text.split()) for s in segments) / WORDS_PER_SECOND


def content_hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def segments_fingerprint(segments: Sequence[SegmentData]) -> str:
    """What the segments say and where: equal transcripts hash equal, whatever their episode."""
    return content_hash(
        *(f"{s.start:.2f}|{s.end:.2f}|{s.speaker or ''}|{s.text}" for s in segments)
    )
