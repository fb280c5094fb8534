"""Headline, body and quote written from the transcript's own words."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.insights.offline.passages import Sentence, Turn
from core.insights.offline.text import as_sentence, content_words, tidy

HEADLINE_MAX = 90
_STRONG_BREAK = re.compile(r"(?:[;:]| -+| —|,? because|, but|, and|, which|, so|, when|, where)\s")
_COMMA = re.compile(r",\s")
_TRAILING_WEAK_TEXT = """
    a an the and or but of to in on with for at by from that which so because as if is are
    was were be been like just really very this these those my your our their its his her
    than then when where while who whom whose into about over under had has have would will
    can could should do does did being"""
_TRAILING_WEAK = frozenset(_TRAILING_WEAK_TEXT.split())


_LEAD_IN = re.compile(
    r"^(?:(?:because|and|but|so|then|in that case|of course|in fact|again|also|now|"
    r"honestly|actually|obviously|to be fair|at the end of the day|for me|i think|"
    r"i would say|i'd say|i feel like|i believe),?\s+)+(?:that\s+)?",
    re.IGNORECASE,
)


def headline_from(text: str) -> str | None:
    """A claim of at most 90 characters, cut at a clause boundary, without filler."""
    clean: str | None = _LEAD_IN.sub("", tidy(text)).rstrip(".!?;:, ")
    if clean is not None and len(clean) > HEADLINE_MAX:
        clean = _shorten(clean)
    if clean is None or len(content_words(clean)) < 3 or len(clean.split()) < 5:
        return None
    return clean[:1].upper() + clean[1:]


def fits_headline(text: str) -> bool:
    return len(_LEAD_IN.sub("", tidy(text)).rstrip(".!?;:, ")) <= HEADLINE_MAX


def _shorten(text: str) -> str | None:
    for breaks in (_STRONG_BREAK, _COMMA):
        cuts = [m.start() for m in breaks.finditer(text) if 40 <= m.start() <= HEADLINE_MAX]
        if cuts:
            return _drop_weak_tail(text[: cuts[-1]])
    # No clause fits: cut at the last word boundary that does.
    cut = text.rfind(" ", 0, HEADLINE_MAX + 1)
    return _drop_weak_tail(text[:cut]) if cut >= 40 else None


def _drop_weak_tail(text: str) -> str | None:
    tokens = text.rstrip(" ,;:-—").split()
    while tokens and tokens[-1].lower().strip(",.;:") in _TRAILING_WEAK:
        tokens.pop()
    result = " ".join(tokens).rstrip(" ,;:-—")
    return result if len(result) <= HEADLINE_MAX else None


def quote_span(sentences: Sequence[Sentence], core: Sentence) -> tuple[int, int]:
    """The core sentence, widened within its turn to the next (or previous) sentence if short."""
    start, end, n = core.start, core.end, core.n_words
    for step in (1, -1):
        j = core.index + step
        if n >= 18 or not 0 <= j < len(sentences):
            continue
        other = sentences[j]
        if other.turn != core.turn or other.noisy or n + other.n_words > 60:
            continue
        start, end, n = min(start, other.start), max(end, other.end), n + other.n_words
    return start, end


def body_from(
    sentences: Sequence[Sentence], core: Sentence, scores: Sequence[float], section: set[int]
) -> str | None:
    """The core sentence and up to three strong neighbours (same section), in spoken order."""
    near = [
        s
        for s in sentences[max(0, core.index - 6) : core.index + 7]
        if s.index != core.index
        and s.index in section
        and not s.noisy
        and not s.text.endswith("?")
        and 6 <= s.n_words <= 60
        and len(set(s.content)) >= 3
    ]
    near.sort(key=lambda s: (-(scores[s.index] + 0.1 * len(set(s.content))), s.index))
    chosen = sorted([core, *near[:3]], key=lambda s: s.index)
    parts: list[str] = []
    for sentence in chosen:
        text = as_sentence(sentence.text)
        if len(text.split()) >= 5 and sum(len(p) for p in parts) + len(text) <= 700:
            parts.append(text)
    return " ".join(parts) if len(parts) >= 2 else None


def quote_text(turns: Sequence[Turn], core: Sentence, span: tuple[int, int]) -> str:
    return turns[core.turn].text[span[0] : span[1]]
