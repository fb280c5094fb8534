"""Grounding: a model's quote must be the transcript's own words, or it is repaired or dropped.

Matching ignores whitespace and punctuation only (words must be the same, in the same case).
A quote that is not there is repaired to the longest run of words it shares with the
transcript, if that run carries most of it; otherwise it is dropped. Speaker and times always
come from the matched segments, never from the model.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from core.domain import SegmentData

# A word; apostrophes inside it are punctuation, so "don't" and "dont" compare equal.
_WORD = re.compile(r"\w+(?:['’]\w+)*")
_TRAILING = re.compile(r"[^\w\s]{1,3}")  # a sentence's closing punctuation, kept in the quote
MIN_QUOTE_WORDS = 4  # a word or two proves nothing, even when it was said
MIN_REPAIR_WORDS = 6
MIN_REPAIR_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class Match:
    quote: str  # verbatim transcript text
    speaker: str | None
    start_seconds: float
    end_seconds: float
    first_segment: int
    repaired: bool


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    segment: int
    start: int  # character span in the segment's text
    end: int


class TranscriptIndex:
    """The transcript's words, each traceable to its segment, for fast quote lookups."""

    def __init__(self, segments: Sequence[SegmentData]) -> None:
        self._segments = list(segments)
        self._words: list[_Word] = [
            _Word(_key(m.group(0)), i, m.start(), m.end())
            for i, segment in enumerate(self._segments)
            for m in _WORD.finditer(segment.text)
        ]
        self._flat, self._offsets = _join(w.text for w in self._words)
        self._lower = [w.text.lower() for w in self._words]
        self._matcher: SequenceMatcher[str] | None = None

    def ground(self, quote: str) -> Match | None:
        """The transcript passage a quote stands for, or None when it is not in the transcript."""
        words = [_key(w) for w in _WORD.findall(quote)]
        if len(words) < MIN_QUOTE_WORDS:
            return None
        exact = self._find_exact(words)
        if exact is not None:
            return self._match(*exact, repaired=False)
        return self._repair(words)

    def _find_exact(self, words: list[str]) -> tuple[int, int] | None:
        """First and last word of the first place the quote's letters and digits occur, from a
        word's start to a word's end (so whitespace and punctuation are all that may differ)."""
        needle = "".join(words)
        at = self._flat.find(needle)
        while at >= 0:
            first = bisect_right(self._offsets, at) - 1
            end = at + len(needle)
            last = bisect_right(self._offsets, end - 1) - 1
            ends_at = self._offsets[last] + len(self._words[last].text)
            if self._offsets[first] == at and ends_at == end:
                return first, last
            at = self._flat.find(needle, at + 1)
        return None

    def _repair(self, words: list[str]) -> Match | None:
        if self._matcher is None:
            self._matcher = SequenceMatcher(None, autojunk=False)
            self._matcher.set_seq2(self._lower)
        self._matcher.set_seq1([w.lower() for w in words])
        run = self._matcher.find_longest_match(0, len(words), 0, len(self._lower))
        if run.size < MIN_REPAIR_WORDS or run.size < MIN_REPAIR_SHARE * len(words):
            return None
        return self._match(run.b, run.b + run.size - 1, repaired=True)

    def _match(self, first: int, last: int, *, repaired: bool) -> Match:
        a, b = self._words[first], self._words[last]
        return Match(
            quote=self._text_between(a, b),
            speaker=self._segments[a.segment].speaker,
            start_seconds=self._segments[a.segment].start,
            end_seconds=max(self._segments[b.segment].end, self._segments[a.segment].start),
            first_segment=a.segment,
            repaired=repaired,
        )

    def _text_between(self, a: _Word, b: _Word) -> str:
        """The transcript's own text from word ``a`` to word ``b``, with closing punctuation."""
        end_text = self._segments[b.segment].text
        tail = _TRAILING.match(end_text, b.end)
        end = tail.end() if tail else b.end
        if a.segment == b.segment:
            return end_text[a.start : end].strip()
        parts = [self._segments[a.segment].text[a.start :]]
        parts += [self._segments[i].text for i in range(a.segment + 1, b.segment)]
        parts.append(end_text[:end])
        return " ".join(" ".join(p.split()) for p in parts if p.strip())


def _key(word: str) -> str:
    return word.replace("'", "").replace("’", "")


def _join(words: Iterable[str]) -> tuple[str, list[int]]:
    """The words run together ('w1w2…') and where each starts."""
    offsets: list[int] = []
    parts: list[str] = []
    length = 0
    for word in words:
        offsets.append(length)
        parts.append(word)
        length += len(word)
    return "".join(parts), offsets
