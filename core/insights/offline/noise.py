"""Passages that are not insights: sponsor reads, intros, outros, housekeeping and small talk."""

from __future__ import annotations

import re

from core.insights.cues import INTRO, OUTRO, SPONSOR

HOUSEKEEPING = re.compile(
    r"\b(show ?notes|links? (?:are |will be )?in the (?:description|notes)|newsletter|discord|"
    r"slack channel|(?:our|the) (?:youtube|twitter|mastodon) |"
    r"can you (?:hear|see) me|you're (?:muted|on mute)|my (?:mic|microphone|audio)|"
    r"share my screen|(?:twitter|x) spaces?|recording (?:this|now)|we're live|"
    r"(?:send|email) us|reach out to us|our website|sign up (?:for|at))",
    re.IGNORECASE,
)
SMALL_TALK = re.compile(
    r"^(?:\W*(?:yeah|yes|no|right|okay|ok|oh|wow|cool|nice|great|awesome|totally|exactly|"
    r"absolutely|sure|mhm|uh-huh|hmm|ha|haha|true|indeed|interesting|amazing|perfect|got it|"
    r"thank you|thanks|alright|all right|that's (?:great|funny|awesome|true|right|cool|crazy))"
    r"\W*)+$",
    re.IGNORECASE,
)
LAUGHTER = re.compile(r"\[(?:laugh\w*|chuckl\w*|crosstalk|inaudible|silence)[^\]]*\]", re.I)
AD_BREAK_SPEAKERS = frozenset({"break", "ad", "ad break", "sponsor", "advertisement", "music"})

_PATTERNS = (SPONSOR, INTRO, OUTRO, HOUSEKEEPING)


def is_noise(text: str) -> bool:
    """True for a sentence that reads as a sponsor read, intro, outro or housekeeping."""
    return any(pattern.search(text) for pattern in _PATTERNS) or bool(SMALL_TALK.match(text))


def is_ad_break_speaker(speaker: str | None) -> bool:
    return speaker is not None and speaker.strip().lower() in AD_BREAK_SPEAKERS


def is_sponsor_read(text: str) -> bool:
    return bool(SPONSOR.search(text))
