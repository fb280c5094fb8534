"""A small library of stored insights (3 shows, 4 episodes, 9 insights) for chat tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import transaction
from core.embeddings import LsaEmbedder
from core.models import Episode, Feed, Insight, InsightEmbedding, InsightTopic, RelatedEdge

# (episode key, headline, body, quote, speaker, start, topics)
INSIGHTS = [
    ("p1", "Usage-based pricing beats per-seat pricing for AI products",
     "Seats stop making sense when the software does the work. Charging per task aligns "
     "price with value delivered.", "When the agent does the work, charging per seat is absurd.",
     "Maya Chen", 754.0, ["pricing", "ai"]),
    ("p1", "Price for the value you create, not your costs",
     "Cost-plus pricing leaves money on the table. Anchor on the customer's outcome.",
     "Nobody cares what it cost you to build.", "Tom Reyes", 1322.5, ["pricing", "startups"]),
    ("p2", "Annual plans cut churn by a third",
     "Customers on annual plans churned 33% less. Offer a discount for commitment.",
     "Annual customers simply stick around longer.", "Maya Chen", 301.0, ["pricing", "saas"]),
    ("a1", "Agents need evals before they need features",
     "Teams that built evaluation suites first shipped agents that worked. Features without "
     "evals regress silently.", "If you can't measure it, your agent is guessing.",
     "Priya Nair", 95.0, ["ai", "agents"]),
    ("a1", "Small models win on latency-sensitive tasks",
     "A distilled small model answered in 80 ms where a large one took two seconds.",
     "Latency is a feature users feel.", "Priya Nair", 2011.0, ["ai"]),
    ("c1", "Stablecoins are quietly becoming payment rails",
     "Cross-border payroll now settles in stablecoins for many startups. Fees are lower.",
     "We pay our contractors in USDC now.", "Sam Okafor", 640.0, ["crypto", "payments"]),
    ("c1", "Bitcoin ETFs changed who holds the supply",
     "Institutions now hold a growing share of bitcoin through ETFs.",
     "The marginal buyer is a pension fund.", "Lena Vogt", 1500.0, ["crypto"]),
    ("a1", "Postgres is enough for most startup queues",
     "A SKIP LOCKED queue in Postgres handled 5,000 jobs a second for one team.",
     "We deleted Kafka and nobody noticed.", "Priya Nair", 2600.0, ["engineering", "databases"]),
    ("p2", "Free trials convert better with a credit card up front",
     "Asking for a card at signup halved trials but tripled conversion.",
     "Fewer trials, far more customers.", "Tom Reyes", 880.0, ["pricing", "growth"]),
]  # fmt: skip

EPISODES = {
    "p1": ("f1", "Pricing in the age of agents", "https://pricing.example/ep/41"),
    "p2": ("f1", "Churn, trials and annual plans", "https://pricing.example/ep/40"),
    "a1": ("f2", "Evals, small models and boring infra", "https://aiweekly.example/e/7"),
    "c1": ("f3", "Stablecoins at work", None),
}
FEEDS = {
    "f1": "The Pricing Pod",
    "f2": "AI Weekly",
    "f3": "Crypto Corner",
}


@dataclass
class Library:
    insight_ids: list[int]  # in INSIGHTS order
    episode_ids: dict[str, int]
    feed_ids: dict[str, int]
    embedder: LsaEmbedder

    def id_of(self, headline_start: str) -> int:
        for (_, headline, *_rest), insight_id in zip(INSIGHTS, self.insight_ids, strict=True):
            if headline.startswith(headline_start):
                return insight_id
        raise KeyError(headline_start)


async def build_library(sessions: async_sessionmaker[AsyncSession], now: datetime) -> Library:
    texts = [f"{h}. {b} {q}" for _, h, b, q, *_ in INSIGHTS]
    embedder = LsaEmbedder(corpus=texts, dim=16)
    vectors = await embedder.embed(texts)
    async with transaction(sessions) as session:
        feeds = {key: Feed(url=f"https://{key}.example/feed.xml", title=title)
                 for key, title in FEEDS.items()}  # fmt: skip
        session.add_all(feeds.values())
        await session.flush()
        episodes = {}
        for key, (feed_key, title, link) in EPISODES.items():
            episodes[key] = Episode(
                feed_id=feeds[feed_key].id, dedup_key=f"guid:{key}", title=title, link=link,
                enclosure_url=f"https://cdn.example/{key}.mp3",
                published_at=now - timedelta(days=1), transcript_status="fetched",
                insight_status="done",
            )  # fmt: skip
        session.add_all(episodes.values())
        await session.flush()
        rows = []
        for i, (ep, headline, body, quote, speaker, start, topics) in enumerate(INSIGHTS):
            rows.append(
                Insight(
                    episode_id=episodes[ep].id, feed_id=episodes[ep].feed_id, headline=headline,
                    body=body, quote=quote, speaker=speaker, start_seconds=start,
                    end_seconds=start + 20, topics=topics, score=0.9 - i * 0.05,
                    created_at=now - timedelta(hours=3 + i),
                )
            )  # fmt: skip
        session.add_all(rows)
        await session.flush()
        for row, vector in zip(rows, vectors, strict=True):
            session.add_all(InsightTopic(insight_id=row.id, topic=t) for t in row.topics)
            session.add(
                InsightEmbedding(
                    insight_id=row.id, model=embedder.name, dim=len(vector),
                    vector=vector.tobytes(),
                )
            )  # fmt: skip
        ids = [row.id for row in rows]
        # Every insight is related to the next two (ring), so each has known neighbours.
        for i, insight_id in enumerate(ids):
            for rank, step in enumerate((1, 2), start=1):
                other = ids[(i + step) % len(ids)]
                session.add(RelatedEdge(insight_id=insight_id, related_id=other, rank=rank,
                                        score=1.0 - rank / 10))  # fmt: skip
        episode_ids = {key: ep.id for key, ep in episodes.items()}
        feed_ids = {key: feed.id for key, feed in feeds.items()}
    return Library(ids, episode_ids, feed_ids, embedder)


def related_in_library(lib: Library, insight_id: int) -> list[int]:
    i = lib.insight_ids.index(insight_id)
    n = len(lib.insight_ids)
    return [lib.insight_ids[(i + 1) % n], lib.insight_ids[(i + 2) % n]]
