"""Realistic, varied insight text and vectors for the scale benchmarks.

Sentences come from the real transcripts in ../shared/data/transcripts (every format there),
embedded once with WordLlama. An insight is a headline sentence, a 2–3 sentence body and a
quote sentence drawn at random; its vector is the normalised mean of those sentences' vectors
plus a little noise (WordLlama pools token vectors, so this is close to embedding the joined
text, and far cheaper for a million insights).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("PODBRIEF_SHARED_DATA", ROOT.parent / "shared" / "data"))
TOPICS = ["ai", "pricing", "startups", "engineering", "databases", "security", "cloud",
          "hiring", "leadership", "open source", "health", "productivity"]  # fmt: skip
_NOISE = re.compile(r"(\d\d:)?\d\d:\d\d[.,]\d+\s*-->.*|^\d+$|<[^>]+>|\*\*[^*]+:\*\*|^WEBVTT.*")


def _transcript_text(path: Path) -> str:
    raw = path.read_text(errors="replace")
    if path.suffix == ".json":
        texts: list[str] = []

        def walk(node: object) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "text" and isinstance(value, str):
                        texts.append(value)
                    else:
                        walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(json.loads(raw))
        return " ".join(texts)
    return " ".join(_NOISE.sub(" ", line) for line in raw.splitlines())


@cache
def sentences() -> tuple[str, ...]:
    found: list[str] = []
    for path in sorted((DATA / "transcripts").iterdir()):
        text = " ".join(_transcript_text(path).split())
        for s in re.split(r"(?<=[.!?])\s+", text):
            if 6 <= len(s.split()) <= 45:
                found.append(s)
    return tuple(dict.fromkeys(found))


@cache
def sentence_vectors() -> np.ndarray:
    from core.embeddings import WordLlamaEmbedder

    return asyncio.run(WordLlamaEmbedder().embed(list(sentences())))


@dataclass(frozen=True, slots=True)
class FakeInsight:
    headline: str
    body: str
    quote: str
    topics: list[str]


def library_vectors(n: int, seed: int = 1) -> np.ndarray:
    return _mix(n, np.random.default_rng(seed))[1]


def _mix(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    base = sentence_vectors()
    picks = rng.integers(0, len(base), size=(n, 4))  # headline, two body sentences, quote
    vectors = base[picks[:, 0]] * 1.5 + base[picks[:, 1]] + base[picks[:, 2]]
    vectors += rng.normal(0.0, 0.02, size=vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return picks, vectors.astype(np.float32)


def insights(n: int, seed: int = 1) -> tuple[list[FakeInsight], np.ndarray]:
    rng = np.random.default_rng(seed)
    picks, vectors = _mix(n, rng)
    text = sentences()
    topic_picks = rng.integers(0, len(TOPICS), size=(n, 2))
    rows = [
        FakeInsight(
            headline=text[p[0]][:90],
            body=f"{text[p[1]]} {text[p[2]]}",
            quote=text[p[3]],
            topics=sorted({TOPICS[t[0]], TOPICS[t[1]]}),
        )
        for p, t in zip(picks, topic_picks, strict=True)
    ]
    return rows, vectors
