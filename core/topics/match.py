"""Matching keys for topics, so "follow database" finds insights tagged "databases"."""

from __future__ import annotations

# Words that end in "s" but are not plurals: left alone.
_NOT_PLURAL = frozenset(
    {
        "news",
        "kubernetes",
        "series",
        "species",
        "macos",
        "ios",
        "windows",
        "sales",
        "gas",
        "chaos",
        "bias",
        "atlas",
        "canvas",
        "postgres",
        "express",
        "rails",
        "jenkins",
        "pandas",
        "redis",
        "aws",
        "dns",
        "devops",
        "ops",
        "mlops",
        "analysis",
    }
)


def topic_key(topic: str) -> str:
    """The singular-ish form of an already normalised topic (its last word de-pluralised).

    Preferences are stored and shown as normalised by ``core.topics.normalise.normalise_topic``;
    ranking compares both sides by this key, so a plural and its singular match.
    """
    words = topic.split(" ")
    if not words[-1]:
        return topic
    words[-1] = _singular(words[-1])
    return " ".join(words)


def _singular(word: str) -> str:
    if len(word) <= 3 or word in _NOT_PLURAL or word.endswith(("ss", "us", "is", "ics")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word
