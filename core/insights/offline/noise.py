"""Passages that are not insights: sponsor reads, intros, outros, housekeeping and small talk."""

from __future__ import annotations

import re

SPONSOR = re.compile(
    r"\b(sponsor(?:ed|s)?|brought to you by|promo code|coupon|use (?:the )?code|discount code|"
    r"free trial|percent off|% off|special offer|our partners?|this episode is (?:supported|"
    r"brought)|support (?:for )?(?:the|this) (?:show|podcast) comes|supported by|"
    r"\w+\.(?:com|io|fm|dev|co)/\w+|head (?:over )?to \w+\.(?:com|io|dev|co)|"
    r"go to \w+\.(?:com|io|dev|co)|check (?:them|it) out at|patreon|plus plus|changelog\+\+)",
    re.IGNORECASE,
)
INTRO = re.compile(
    r"\b(welcome (?:back )?to (?:the |another |this |episode |our )|welcome,? everyone|"
    r"welcome (?:on|to) the show|my name is|i'm your host|"
    r"(?:i'm|i am) joined (?:by|today)|joining me (?:today|is)|this is episode|"
    r"in this (?:episode|week's episode)|on today's (?:episode|show)|today (?:we're|we are) "
    r"(?:going to|gonna) (?:talk|be talking|discuss|cover)|before we (?:get started|start|begin)|"
    r"let's (?:get started|dive in|jump in|kick it off)|thanks for having me|"
    r"thank you for having me|great to (?:have you|be here)|good to (?:have you|be here)|"
    r"(?:glad|happy) to be here|how are you doing|how's it going|every episode|"
    r"(?:i'm|i am) (?:a |an )?[\w -]{0,30}(?:developer|engineer|designer|founder|host|"
    r"student|manager) (?:from|at|based|in|who)|introduce (?:yourself|myself))\b",
    re.IGNORECASE,
)
OUTRO = re.compile(
    r"\b(thanks? (?:you )?(?:so much )?for (?:listening|joining|coming on|watching|tuning)|"
    r"see you (?:next time|next week|soon|in the next)|until next time|that's (?:all|it) for "
    r"(?:today|this episode|this week)|(?:leave|give) us a (?:review|rating)|rate and review|"
    r"like and subscribe|(?:follow|subscribe)(?:s)? (?:to )?(?:us|the (?:show|podcast|channel))|"
    r"make sure to (?:give us a follow|subscribe|follow)|hit (?:the )?subscribe|"
    r"talk to you (?:soon|next)|catch you (?:next|later)|bye[- ]bye|goodbye)\b",
    re.IGNORECASE,
)
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
