"""Lexical cues of spoken English that the offline engine and the shared quality gate both
read: what marks a lesson, advice, a number or a result; what leans on earlier context; talk
about the show; sponsor reads, intros and outros. One place, so the engine chooses sentences
by the same rules the gate later applies to every engine's drafts."""

from __future__ import annotations

import re

LESSON = re.compile(
    r"\b(the (?:key|trick|secret|lesson|point|problem|challenge|reality|truth|insight|mistake|"
    r"goal|idea|benefit|downside|risk|difference) (?:is|was|here is)|what (?:i|we) (?:learned|"
    r"found|realized|discovered)|(?:i|we) (?:learned|realized|discovered|found) that|"
    r"turns out|the (?:big|main|real|biggest|only) (?:reason|difference|lesson|problem|thing)|"
    r"the reason (?:is|why)|that's why|which means|the takeaway|in other words|"
    r"lesson (?:here|is)|rule of thumb)\b",
    re.IGNORECASE,
)
ADVICE = re.compile(
    r"\b(you (?:should|shouldn't|need to|have to|must|want to make sure|don't want to)|"
    r"make sure|(?:i|we)(?:'d| would)? (?:recommend|suggest|advise)|my advice|"
    r"(?:it's|it is) (?:worth|better|important|essential|critical|key) to|"
    r"best (?:way|practice|approach)|the right (?:way|approach|tool)|"
    r"(?:^|[.,;] )(?:always|never|avoid|prefer|start (?:with|by)|focus on|don't) \w+)",
    re.IGNORECASE,
)
CLAIM = re.compile(
    r"\b((?:is|are|was|were) (?:the|a|an) (?:most|best|biggest|only|main|hardest|single)|"
    r"more (?:important|valuable|effective|reliable|expensive|efficient)|"
    r"(?:much|way|far|significantly) (?:better|faster|cheaper|easier|harder|slower)|"
    r"therefore|the problem (?:is|with)|fundamental(?:ly)?|ultimately|in fact|"
    r"matters?|means that|leads? to|results? in|depends? on|trade-?offs?|the future of|"
    r"will (?:be|become|replace|change)|is going to (?:be|change|replace)|"
    r"(?:every|most|all) (?:company|companies|team|teams|developer|developers|people))\b",
    re.IGNORECASE,
)
NUMBER = re.compile(
    r"(\d+(?:[.,]\d+)?\s*(?:%|percent|x\b|times|million|billion|thousand|hundred|ms|"
    r"milliseconds|seconds|minutes|hours|days|weeks|months|years|gb|tb|mb|dollars|users|"
    r"customers|requests)|[$€£]\s?\d|\b(?:half|twice|double|triple|ten times|a third|"
    r"a quarter|orders? of magnitude)\b)",
    re.IGNORECASE,
)
# An outcome: what changed and by how much.
RESULT = re.compile(
    r"\b(?:dropped|fell|rose|increased|decreased|reduced|reduces|doubled|tripled|halved|cut|"
    r"went (?:from|up|down)|grew|improved|predicted|predicts|correlat\w+|caused|causes|"
    r"leads to|led to|made (?:no|a|the) difference|works? best|worked best)\b",
    re.IGNORECASE,
)
# First words that lean on what came before, or open a clause that is not the main one.
_DEPENDENT_TEXT = """
    that this these those it its it's they them their theirs they're he she his her him which
    who whom whose when whenever because so and but or nor then also if as while although though
    since until unless whereas after before once plus here same both such yeah well where
    whether what why how even especially like not instead otherwise meanwhile anyway besides hence
    thus therefore other others another either neither none half that's there's
    still later afterwards similarly likewise however conversely
    again okay right um uh oh
"""
DEPENDENT_START = frozenset(_DEPENDENT_TEXT.split())
# "that condition", "of that", "like those": demonstratives pointing back out of the sentence.
_POINTS_BACK = re.compile(
    r"\b(?:this|these|those|such)\b|"
    r"\b(?:in|of|at|from|with|on|for|by|to|about|like|exactly|after|before|than|into|through|"
    r"did|do|does|done|said|saw|heard|mentioned|is|was) that\b(?! (?:the|a|an|we|you|they|i|it|"
    r"he|she|people|most|if|when|there|our|your|their|all|every|some|no|one|two)\b)|"
    r"\bthat(?:'s)?$|\b(?:of|with|about|for|from|on|through|into|in|at|by|without|behind) "
    r"(?:them|it)\b|\bthe same\b|"
    r"\b(?:he|she|him|his|her|hers)\b|,\s+(?:it|they|that|their|its|them)\b|"
    r"^the (?:other|same|latter|former|second one|first one)\b",
    re.IGNORECASE,
)
# Replies that only make sense after a question: "Yes, ...", "PgBouncer in pooling mode, yes."
_ANSWER = re.compile(
    r"^\W*(?:yes|no|nope|sure)\b\s*[,.!]|,\s*(?:yes|no|right|exactly)\W*$", re.IGNORECASE
)
# Talk about the conversation rather than the subject.
META = re.compile(
    r"\b(?:another (?:podcast|episode|show|guest)|(?:on|in) (?:the|this|our|a) (?:podcast|show|"
    r"episode)|as (?:i|we|you) (?:said|mentioned|know)|like (?:i|you) said|(?:you|i) (?:just )?"
    r"mentioned|you (?:just )?said|you asked|we'll get (?:to|into)|get to that|in the chat|"
    r"someone (?:in the chat|asked)|(?:your|my|that|this) question|good question|"
    r"our (?:guest|guests|listeners?)|(?:we|i)(?:'ve)? heard (?:almost |exactly |something )*"
    r"(?:that|this|the same|similar)|getting at|(?:we're|we are|we've been|i'm|i was|you're|"
    r"you were|we were) talking about|(?:we|you) talked about|let's talk|i was (?:saying|thinking)"
    r"|the short answer|to your point|shout ?out)\b",
    re.IGNORECASE,
)
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


def stands_alone(text: str) -> bool:
    """True when a sentence can be read without the one before: no leaning start or pointer."""
    tokens = re.findall(r"[A-Za-z']+", text)
    if not tokens or tokens[0].lower().split("'")[0] in DEPENDENT_START or _ANSWER.search(text):
        return False
    return not _POINTS_BACK.search(text) and not text.rstrip().endswith("?")


def is_meta(text: str) -> bool:
    return bool(META.search(text))
