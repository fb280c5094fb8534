"""Headline, body and quote written from the transcript's own words."""

from __future__ import annotations

from collections.abc import Sequence

from core.insights.cues import is_meta, stands_alone
from core.insights.offline.passages import Sentence, Turn
from core.insights.offline.text import as_sentence, tidy


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


MAX_BODY_CHARS = 600
_BEFORE = 2  # sentences of lead-up a body may start with before the core


def body_from(
    sentences: Sequence[Sentence], core: Sentence, scores: Sequence[float], section: set[int]
) -> str | None:
    """Two to four consecutive sentences of the core's turn around it, the first standing alone.

    Of the windows that qualify, the one whose sentences score best as claims wins; the core's
    own sentence is always in it.
    """
    best: tuple[float, int, int] | None = None
    fit: dict[int, bool] = {}
    for start in range(core.index - _BEFORE, core.index + 1):
        for end in range(max(start + 1, core.index), start + 4):
            window = _window(sentences, core, section, (start, end), fit)
            if window is None:
                continue
            value = sum(0.3 + scores[s.index] for s in window) - 0.12 * (core.index - start)
            if best is None or value > best[0]:
                best = (value, start, end)
    if best is None:
        return None
    window = _window(sentences, core, section, best[1:], fit) or []
    return " ".join(as_sentence(s.text) for s in window)


def _window(
    sentences: Sequence[Sentence],
    core: Sentence,
    section: set[int],
    span: tuple[int, int],
    fit: dict[int, bool],
) -> list[Sentence] | None:
    """Sentences ``span`` (inclusive) if they make a body; ``fit`` caches per-sentence checks."""
    start, end = span
    if start < 0 or end >= len(sentences):
        return None
    window = list(sentences[start : end + 1])
    for s in window:
        if s.index not in fit:
            fit[s.index] = s.turn == core.turn and s.index in section and _explains(s)
        if not fit[s.index] and (s is window[0] or not _supports(s, core)):
            return None
    if not stands_alone(tidy(window[0].text)):
        return None
    if sum(len(s.text) for s in window) > MAX_BODY_CHARS:
        return None
    return window


def _supports(sentence: Sentence, core: Sentence) -> bool:
    """A short aside inside a body ("That's roughly thirty percent.") may stay."""
    text = sentence.text
    return (
        sentence.turn == core.turn
        and not sentence.noisy
        and not text.rstrip().endswith("?")
        and 4 <= sentence.n_words <= 70
        and len(tidy(text).split()) >= 3
        and not is_meta(text)
    )


def _explains(sentence: Sentence) -> bool:
    """A sentence fit for a body: spoken content, not a question, chatter or talk about the talk."""
    text = sentence.text
    return (
        not sentence.noisy
        and not text.rstrip().endswith("?")
        and 5 <= sentence.n_words <= 70
        and len(set(sentence.content)) >= 2
        and not is_meta(text)
        and len(tidy(text).split()) >= 5
    )


def quote_text(turns: Sequence[Turn], core: Sentence, span: tuple[int, int]) -> str:
    return turns[core.turn].text[span[0] : span[1]]
