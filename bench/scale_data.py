"""Realistic, varied insight text and vectors for the scale benchmarks.

Sentences come from the real transcripts in ../shared/data/transcripts (every format there),
embedded once with WordLlama. An insight is a headline sentence, a 2–3 sentence body and a
quote sentence drawn at random; its vector is the normalised mean of those sentences' vectors
plus a little noise (WordLlama pools token vectors, so this is close to embedding the joined
text, and far cheaper for a million insights).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("PODBRIEF_SHARED_DATA", ROOT.parent / "shared" / "data"))
TOPICS = [
    "ai",
    "pricing",
    "startups",
    "engineering",
    "databases",
    "security",
    "cloud",
    "hiring",
    "leadership",
    "open source",
    "health",
    "productivity",
]
SHOW_NAMES = [
    "AWS Bites",
    "The Changelog",
    "Practical AI",
    "Oxide and Friends",
    "Lenny's Podcast",
    "Acquired",
]
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

    return WordLlamaEmbedder().embed_sync(list(sentences()))


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


async def store_insights(
    sessions: Any,
    rows: list[FakeInsight],
    vectors: np.ndarray,
    model: str,
    *,
    shows: int = 50,
    per_episode: int = 10,
    chunk: int = 5_000,
) -> list[int]:
    """Store ``rows`` with their topics and vectors in bulk: ``shows`` shows, episodes of
    ``per_episode`` insights, published a day apart from 2025-01-01. Returns the insight ids."""
    from sqlalchemy import insert, select

    from core.db import transaction
    from core.models.feeds import Episode, Feed
    from core.models.insights import Insight, InsightEmbedding, InsightTopic

    start = datetime(2025, 1, 1, tzinfo=UTC)
    async with transaction(sessions) as session:
        first_feed = (await session.scalar(select(func.count()).select_from(Feed))) or 0
        feed_ids = []
        for n in range(shows):
            feed_ids.append(
                (
                    await session.execute(
                        insert(Feed)
                        .values(
                            url=f"https://show{first_feed + n}.example/feed.xml",
                            title=f"{SHOW_NAMES[n % len(SHOW_NAMES)]} {first_feed + n}",
                        )
                        .returning(Feed.id)
                    )
                ).scalar_one()
            )
    ids: list[int] = []
    episodes = (len(rows) + per_episode - 1) // per_episode
    for ep_start in range(0, episodes, chunk // per_episode):
        ep_range = range(ep_start, min(episodes, ep_start + chunk // per_episode))
        async with transaction(sessions) as session:
            episode_ids = list(
                (
                    await session.execute(
                        insert(Episode).returning(Episode.id, sort_by_parameter_order=True),
                        [
                            dict(
                                feed_id=feed_ids[e % len(feed_ids)],
                                dedup_key=f"scale:{feed_ids[e % len(feed_ids)]}:{e}",
                                title=f"Episode {e}",
                                published_at=start + timedelta(days=e % 700),
                                transcript_status="fetched",
                                insight_status="done",
                            )
                            for e in ep_range
                        ],
                    )
                ).scalars()
            )
            values = []
            for e, episode_id in zip(ep_range, episode_ids, strict=True):
                for r in range(e * per_episode, min(len(rows), (e + 1) * per_episode)):
                    row = rows[r]
                    values.append(
                        dict(
                            episode_id=episode_id,
                            feed_id=feed_ids[e % len(feed_ids)],
                            headline=row.headline,
                            body=row.body,
                            quote=row.quote,
                            speaker="Host",
                            start_seconds=float(r % 3000),
                            topics=row.topics,
                            score=0.5,
                            extractor="offline",
                            created_at=start,
                        )
                    )
            new_ids = list(
                (
                    await session.execute(
                        insert(Insight).returning(Insight.id, sort_by_parameter_order=True), values
                    )
                ).scalars()
            )
            first = len(ids)
            ids += new_ids
            await session.execute(
                insert(InsightTopic),
                [
                    {"insight_id": i, "topic": t}
                    for i, v in zip(new_ids, values, strict=True)
                    for t in v["topics"]
                ],
            )
            await session.execute(
                insert(InsightEmbedding),
                [
                    {
                        "insight_id": i,
                        "model": model,
                        "dim": int(vectors.shape[1]),
                        "vector": vectors[first + k].tobytes(),
                    }
                    for k, i in enumerate(new_ids)
                ],
            )
    return ids
