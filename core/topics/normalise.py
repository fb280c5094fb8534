"""How a topic is written once normalised: what insight tags and followed topics are stored as."""

from __future__ import annotations

import re
import unicodedata

ALIASES = {
    "k8s": "kubernetes",
    "ml": "machine learning",
    "js": "javascript",
    "ts": "typescript",
    "postgresql": "postgres",
    "llms": "llm",
}
_NON_TAG = re.compile(r"[^a-z0-9+#.' ]+")


def normalise_topic(raw: str) -> str:
    """Lower-case, accents folded, punctuation to spaces, known aliases resolved."""
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode().lower()
    text = " ".join(_NON_TAG.sub(" ", text.replace("-", " ")).split()).strip(".' ")
    return ALIASES.get(text, text)
