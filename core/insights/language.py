"""Whether a transcript is in English: the offline engine's patterns only read English.

A cheap, dependency-free test: English speech is full of a few dozen short function words
("the", "and", "to", "is", "that"…). In English transcripts they make up well over a fifth of
all words; in other languages almost none of them occur.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_FUNCTION_WORDS = frozenset(
    [
        "the",
        "and",
        "to",
        "of",
        "a",
        "in",
        "is",
        "that",
        "it",
        "you",
        "i",
        "we",
        "they",
        "this",
        "for",
        "on",
        "with",
        "was",
        "are",
        "be",
        "have",
        "not",
        "but",
        "what",
        "so",
        "do",
        "at",
        "as",
        "or",
        "if",
        "can",
        "there",
        "about",
        "just",
        "like",
        "all",
        "my",
        "your",
        "our",
        "one",
        "would",
        "will",
        "an",
    ]
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
ENGLISH_SHARE = 0.18  # English transcripts measure 0.35–0.5; French/Spanish/German under 0.08
SAMPLE_WORDS = 4000
MIN_WORDS = 150  # fewer words say nothing reliable (and are too few for an insight anyway)


def english_share(texts: Iterable[str]) -> float:
    """The share of words that are common English function words, over a sample."""
    seen = 0
    hits = 0
    for text in texts:
        for word in _WORD.findall(text.lower()):
            seen += 1
            hits += word in _FUNCTION_WORDS
            if seen >= SAMPLE_WORDS:
                return hits / seen
    return hits / seen if seen else 1.0


def looks_english(texts: Iterable[str]) -> bool:
    """False only for a transcript long enough to tell, and clearly not English."""
    sample = []
    count = 0
    for text in texts:
        sample.append(text)
        count += len(text.split())
        if count >= SAMPLE_WORDS:
            break
    return count < MIN_WORDS or english_share(sample) >= ENGLISH_SHARE
