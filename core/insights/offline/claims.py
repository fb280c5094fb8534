"""How much a sentence reads as a claim, a lesson, a number or a recommendation."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from itertools import pairwise

from core.insights.cues import ADVICE, CLAIM, LESSON, NUMBER, RESULT, is_meta
from core.insights.offline.passages import Sentence
from core.insights.offline.text import words

# Storytelling ("We logged ...", "I remember ...") reads as an anecdote unless it ends in a result.
NARRATIVE = re.compile(
    r"^\W*(?:(?:so|and|but|then|well),? )?(?:we|i) (?:had|logged|started|did|went|got|ran|"
    r"tried|looked|were|was|remember|recorded|asked|interviewed|surveyed|used to|moved|called)\b",
    re.IGNORECASE,
)
# A statement about the world rather than about the speaker: "Most teams ...", "You should ...",
# "Small releases are ...". Such sentences make the most usable headlines.
GENERAL = re.compile(
    r"^\W*(?:(?:so|and|but|well|now|i think|i'd say),?\s+)*(?:you|people|teams?|companies|"
    r"developers|engineers|users|customers|leaders|managers|most|every|any|nobody|no one|"
    r"the (?:best|right|key|real|main|biggest|only|first) \w+|[a-z]+(?:ing|s)\b[^.,]{0,40}?\b"
    r"(?:is|are|beats?|makes?|matters?|needs?|helps?|works?|costs?|takes?|means?))",
    re.IGNORECASE,
)
HEDGE = re.compile(
    r"\b(i don't know|i'm not sure|i forget|i can't remember|who knows|i have no idea|"
    r"wait a minute|hold on|sorry|anyway|whatever)\b",
    re.IGNORECASE,
)
FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|me|my)\b", re.IGNORECASE)
FILLER = re.compile(r"\b(?:you know|i mean|like,|oh|um|uh|kind of|sort of|stuff)\b", re.IGNORECASE)
# Speech that restarts mid-sentence ("Sam Altman So Sam Altman said", "It but importantly").
RUN_ON = re.compile(r"[a-z,] (?:So|And|But|There|Then|It|We|You|They|That|This)\s+[a-z]")
RESTART = re.compile(
    r"^\W*(?:\w+\W+)?(?:you|it|we|they|he|she|that) (?:there|it's|we|they|i|but|and|so|you)\b"
    r"|\s--?\s",
    re.IGNORECASE,
)
STUTTER = re.compile(r"\b(\w+) \1\b", re.IGNORECASE)
ANNOTATION = re.compile(r"\[[^\]]*\]")


def claim_strength(text: str) -> float:
    """0 for chatter; grows with each kind of signal a sentence carries."""
    strength = 0.0
    strength += 1.2 if LESSON.search(text) else 0.0
    strength += 1.0 if ADVICE.search(text) else 0.0
    strength += 0.6 * min(2, len(CLAIM.findall(text)))
    strength += 0.9 if NUMBER.search(text) else 0.0
    strength += 0.5 if RESULT.search(text) else 0.0
    return strength


def repeated_bigrams(text: str) -> int:
    tokens = words(text)
    counts = Counter(pairwise(tokens))
    return sum(c - 1 for c in counts.values() if c > 1)


def headline_adjusted(score: float, headline: str) -> float:
    """A concrete, general headline lifts an insight a little; an anecdote lowers it."""
    score += 0.04 if re.search(r"\d", headline) else 0.0
    score += 0.03 if ADVICE.search(headline) or LESSON.search(headline) else 0.0
    score -= 0.05 if re.match(r"^(?:I|I'm|I've|I'd|My)\b", headline) else 0.0
    return min(1.0, max(0.01, score))


def sentence_score(sentence: Sentence, keyword_weight: Mapping[str, float]) -> float:
    """A 0–1 score of a sentence as the core of an insight; 0 rules it out."""
    if sentence.noisy or not 9 <= sentence.n_words <= 70 or sentence.text.endswith("?"):
        return 0.0
    if ANNOTATION.search(sentence.text) or len(set(sentence.content)) < 4:
        return 0.0
    if is_meta(sentence.text):
        return 0.0  # talk about the conversation, not about the subject
    density = len(sentence.content) / sentence.n_words
    topical = sum(keyword_weight.get(w, 0.0) for w in set(sentence.content))
    raw = claim_strength(sentence.text) + 2.0 * density + min(1.5, topical)
    general = GENERAL.search(sentence.text) and not FIRST_PERSON.search(sentence.text)
    raw += 0.5 if general else 0.0
    raw -= 1.0 if HEDGE.search(sentence.text) else 0.0
    raw -= 0.4 * len(STUTTER.findall(sentence.text))
    # Anecdotes and hesitant speech make weak insights; general statements make strong ones.
    raw -= min(1.0, 0.3 * len(FIRST_PERSON.findall(sentence.text)))
    raw -= min(1.0, 0.25 * len(FILLER.findall(sentence.text)))
    raw -= 0.5 if sentence.n_words < 12 else 0.0
    raw -= 0.7 if NARRATIVE.search(sentence.text) and not RESULT.search(sentence.text) else 0.0
    raw -= 0.6 * min(2, len(RUN_ON.findall(sentence.text)) + len(RESTART.findall(sentence.text)))
    raw -= 0.3 * min(3, repeated_bigrams(sentence.text))
    return max(0.0, 1.0 - math.exp(-max(0.0, raw) / 3.0))
