"""Related-insight edges on SQLite and PostgreSQL: order, grouping and incremental updates."""

from __future__ import annotations

import math

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import Sessions, transaction
from core.insights.related import RelatedConfig, link_new_insights
from core.insights.service import related_ids, related_insights
from core.models.feeds import Episode, Feed
from core.models.insights import Insight, InsightEmbedding, RelatedEdge

MODEL = "test-model"
DIM = 16


def vector(sim_to_anchor: float, axis: int) -> np.ndarray:
    """A unit vector whose cosine with the anchor (axis 0) is ``sim_to_anchor``."""
    v = np.zeros(DIM, dtype=np.float32)
    v[0] = sim_to_anchor
    v[axis] = math.sqrt(max(0.0, 1 - sim_to_anchor**2))
    return v


def anchor() -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[0] = 1.0
    return v


async def make_episode(sessions: Sessions, show: str, title: str) -> tuple[int, int]:
    async with transaction(sessions) as session:
        feed = (await session.execute(select(Feed).where(Feed.url == show))).scalar_one_or_none()
        if feed is None:
            feed = Feed(url=show, title=show)
            session.add(feed)
            await session.flush()
        episode = Episode(feed_id=feed.id, dedup_key=f"guid:{title}", title=title)
        session.add(episode)
        await session.flush()
        return feed.id, episode.id


async def add_insights(
    sessions: Sessions,
    where: tuple[int, int],
    vectors: list[np.ndarray],
    config: RelatedConfig | None = None,
) -> list[int]:
    feed_id, episode_id = where
    async with transaction(sessions) as session:
        rows = [
            Insight(
                episode_id=episode_id,
                feed_id=feed_id,
                headline=f"h{i}",
                body="b",
                quote="q",
                start_seconds=0.0,
                end_seconds=1.0,
                topics=[],
            )
            for i in range(len(vectors))
        ]
        session.add_all(rows)
        await session.flush()
        session.add_all(
            InsightEmbedding(insight_id=r.id, model=MODEL, dim=DIM, vector=v.tobytes())
            for r, v in zip(rows, vectors, strict=True)
        )
        await session.flush()
        ids = [r.id for r in rows]
        await link_new_insights(session, ids, MODEL, config)
        return ids


async def edges_of(sessions: Sessions, insight_id: int) -> list[tuple[int, float]]:
    async with sessions() as session:
        rows = await session.execute(
            select(RelatedEdge.related_id, RelatedEdge.score)
            .where(RelatedEdge.insight_id == insight_id)
            .order_by(RelatedEdge.rank)
        )
        return [(r, round(s, 3)) for r, s in rows]


async def group_of(sessions: Sessions, insight_id: int) -> int | None:
    async with sessions() as session:
        return (await session.get(Insight, insight_id)).group_id  # type: ignore[union-attr]


async def test_other_shows_come_first_then_other_episodes(sessions: Sessions) -> None:
    a1 = await make_episode(sessions, "show-a", "a1")
    a2 = await make_episode(sessions, "show-a", "a2")
    b1 = await make_episode(sessions, "show-b", "b1")
    [same_episode, unrelated] = await add_insights(sessions, a1, [vector(0.7, 1), vector(0.0, 2)])
    [other_episode] = await add_insights(sessions, a2, [vector(0.6, 3)])
    [other_show] = await add_insights(sessions, b1, [vector(0.4, 4)])
    [query] = await add_insights(sessions, a1, [anchor()])

    assert await edges_of(sessions, query) == [
        (other_show, 0.4),
        (other_episode, 0.6),
        (same_episode, 0.7),
    ]
    related = await related_insights(sessions, query, limit=2)
    assert [r.id for r in related] == [other_show, other_episode]
    # Below the relevance floor nothing is linked, even in a small library.
    assert all(r != unrelated for r, _ in await edges_of(sessions, query))
    # Every existing insight's list was updated when the query arrived.
    assert (query, 1.0) not in await edges_of(sessions, unrelated)
    assert (await edges_of(sessions, other_show))[0] == (query, 0.4)


async def test_near_duplicates_share_a_group_and_are_listed_once(sessions: Sessions) -> None:
    a = await make_episode(sessions, "show-a", "a1")
    b = await make_episode(sessions, "show-b", "b1")
    c = await make_episode(sessions, "show-c", "c1")
    [original] = await add_insights(sessions, a, [anchor()])
    [twin] = await add_insights(sessions, b, [vector(0.97, 1)])
    [other] = await add_insights(sessions, c, [vector(0.5, 2)])

    assert await group_of(sessions, original) == original
    assert await group_of(sessions, twin) == original
    assert await group_of(sessions, other) == other
    # The twin is the same idea: not "related" to its original, and listed once elsewhere.
    assert all(r != twin for r, _ in await edges_of(sessions, original))
    assert [r for r, _ in await edges_of(sessions, other)] == [original]


async def test_a_new_insight_enters_existing_lists_only_when_it_beats_the_last(
    sessions: Sessions,
) -> None:
    config = RelatedConfig(top_k=3)
    home = await make_episode(sessions, "show-a", "a1")
    [owner] = await add_insights(sessions, home, [anchor()], config)
    olds = []
    for k, sim in enumerate([0.6, 0.5, 0.4, 0.3]):
        where = await make_episode(sessions, f"show-{k}", f"e{k}")
        olds += await add_insights(sessions, where, [vector(sim, k + 1)], config)
    assert [r for r, _ in await edges_of(sessions, owner)] == olds[:3]

    weak_home = await make_episode(sessions, "show-weak", "w")
    [weak] = await add_insights(sessions, weak_home, [vector(0.35, 8)], config)
    assert weak not in [r for r, _ in await edges_of(sessions, owner)]

    strong_home = await make_episode(sessions, "show-strong", "s")
    [strong] = await add_insights(sessions, strong_home, [vector(0.55, 9)], config)
    assert await edges_of(sessions, owner) == [(olds[0], 0.6), (strong, 0.55), (olds[1], 0.5)]


async def test_the_chats_id_read_matches_the_stored_order_and_sees_each_commit(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    """``related_ids`` (on SQLite a plain connection kept for reads, on PostgreSQL the
    engine's) lists what ``related_insights`` lists, sees later commits, and works again
    after the engine is disposed."""
    a1 = await make_episode(sessions, "show-a", "a1")
    b1 = await make_episode(sessions, "show-b", "b1")
    [near, far] = await add_insights(sessions, b1, [vector(0.7, 1), vector(0.4, 2)])
    [query] = await add_insights(sessions, a1, [anchor()])
    assert await related_ids(sessions, query, limit=5) == [near, far]
    assert await related_ids(sessions, query, limit=1) == [near]
    assert await related_ids(sessions, far + 1000, limit=5) == []

    c1 = await make_episode(sessions, "show-c", "c1")
    [closer] = await add_insights(sessions, c1, [vector(0.6, 3)])  # committed after a read
    expected = [r.id for r in await related_insights(sessions, query, limit=5)]
    assert expected == [near, closer, far]
    assert await related_ids(sessions, query, limit=5) == expected

    await engine.dispose()
    assert await related_ids(sessions, query, limit=5) == expected
    async with transaction(sessions) as session:
        await session.execute(delete(Insight).where(Insight.id == closer))
    assert closer not in await related_ids(sessions, query, limit=5)
