"""Rule-based understanding of chat text: commands and plain English become an ``Intent``.

An LLM router can replace ``parse_intent`` later behind the same signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from core.chat.phrases import BARE, RULE_TEXT, SEARCH_PATTERNS

# Every intent kind the engine handles.
KINDS = (
    "start", "help", "brief", "show_item", "related", "more_episode", "source", "topics",
    "follow", "unfollow", "mute", "unmute", "up", "down", "more_like", "less_about", "search",
    "shows", "subscribe", "time", "timezone", "pause", "resume", "forget", "confirm", "cancel",
    "compact", "feed", "feed_reset",
    "unknown",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Intent:
    kind: str
    position: int | None = None  # the "#N" the user referred to, if any
    arg: str = ""  # a topic, query, URL, time or timezone


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*(?:{pattern})\s*$", re.IGNORECASE)


def _n(match: re.Match[str]) -> int | None:
    raw = match.groupdict().get("n")
    return int(raw) if raw else None


def clean_arg(raw: str) -> str:
    """Strip quotes, trailing punctuation and filler from a topic or query."""
    text = raw.strip().strip("\"'“”‘’`").strip()
    text = re.sub(r"[?!.。]+$", "", text).strip()
    text = re.sub(r"^(?:the|a|an|topic|topics)\s+", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s+(?:please|pls|thanks|thank you)$", "", text, flags=re.IGNORECASE)
    return text.strip().strip("\"'“”‘’`").strip()


RULES: list[tuple[str, re.Pattern[str]]] = [
    (kind, _re(alternative)) for kind, alternatives in RULE_TEXT for alternative in alternatives
]

_SEARCH = [_re(p) for p in SEARCH_PATTERNS]


def _first_arg(match: re.Match[str]) -> str:
    for key, value in match.groupdict().items():
        if key.startswith("arg") and value:
            return clean_arg(value)
    return ""


def _intent_from(kind: str, match: re.Match[str]) -> Intent:
    if kind == "subscribe":
        return Intent(kind, arg=_first_arg(match).rstrip(">").lstrip("<"))
    return Intent(kind, position=_n(match), arg=_first_arg(match))


def normalise(text: str) -> str:
    """One line, single spaces, Slack's <url|label> and @mentions reduced, no trailing dots."""
    text = re.sub(r"<(https?://[^|>]+)(?:\|[^>]*)?>", r"\1", text)
    text = re.sub(r"^(?:@\S+|<@\w+>)[\s,:]*", "", text.strip())
    text = re.sub(r"^/(\w+)@\w+", r"/\1", text)  # Telegram's /cmd@botname in groups
    return " ".join(text.split()).rstrip(".!")


def parse_intent(text: str) -> Intent:
    """Understand one message. Never raises: anything else is ``unknown``."""
    line = normalise(text)
    if not line:
        return Intent("unknown")
    bare = BARE.get(line.lower())
    if bare is not None:
        return Intent(bare)
    for kind, pattern in RULES:
        match = pattern.match(line)
        if match:
            intent = _intent_from(kind, match)
            if kind in {"follow", "mute", "unfollow", "unmute", "less_about"} and not intent.arg:
                continue
            return intent
    for pattern in _SEARCH:
        match = pattern.match(line)
        if match and _first_arg(match):
            return Intent("search", arg=_first_arg(match))
    if line.endswith("?") and len(line.split()) <= 12:
        return Intent("search", arg=_question_keywords(line))
    return Intent("unknown", arg=line)


_STOP = {
    "a", "an", "the", "is", "are", "was", "were", "do", "does", "did", "what", "who", "how",
    "why", "when", "which", "about", "any", "anything", "there", "they", "it", "of", "on", "in",
    "to", "for", "me", "you", "i", "we", "say", "said", "tell", "can", "could", "would", "should",
    "has", "have", "been", "be", "and", "or", "with", "that", "this", "some", "someone",
}  # fmt: skip


def _question_keywords(line: str) -> str:
    words = re.findall(r"[\w'+#.-]+", line.lower())
    kept = [w.strip(".") for w in words if w not in _STOP and len(w) > 1]
    return " ".join(kept)


class IntentRouter(Protocol):
    """The port an LLM-backed router will implement; the rule-based one is the default."""

    async def route(self, text: str) -> Intent: ...


class RuleRouter:
    """``parse_intent`` behind the ``IntentRouter`` port."""

    async def route(self, text: str) -> Intent:
        return parse_intent(text)
