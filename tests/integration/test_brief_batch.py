"""Batch composition (core.brief.batch) against the single compose, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from core.brief.batch import compose_briefs, prepare_briefs, rank_prepared, store_briefs
from core.brief.compose import BriefEntry, compose_brief
from core.db import Sessions
from core.feeds.service import remove_feed
from core.models import Brief, BriefItem, Insight
from core.people import users as people
from tests.fakes.brief_rows import add_edge, add_episode, add_feed, add_insight
from tests.fakes.clock import FakeClock

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
TOPICS = ["pricing", "ai", "hiring", "growth", "security"]


async def library(sessions: Sessions) -> list[int]:
    """Three shows, twelve episodes, 60 insights: a week of backlog and a day of new ones,
    varied scores, topics and one near-duplicate group."""
    ids: list[int] = []
    for show in range(3):
        feed = await add_feed(sessions, f"Show {show}")
        for ep in range(4):
            episode = await add_episode(sessions, feed, f"Show {show} ep {ep}")
            for _ in range(5):
                n = len(ids)
                ids.append(
                    await add_insight(
                        sessions,
                        episode,
                        feed,
                        headline=f"Insight {n}",
                        score=0.2 + ((n * 37) % 61) / 100,
                        created_at=NOW - timedelta(hours=2 + (n * 13) % (24 * 7)),
                        topics=(TOPICS[n % 5], TOPICS[(n % 5 + 1 + (n // 7) % 4) % 5]),
                        group_id=ids[0] if n in (7, 19) else None,
                    )
                )
    return ids


async def twin_users(sessions: Sessions, insights: list[int], clock: FakeClock) -> list[int]:
    """Pairs of users with identical profiles and history (even ids: single, odd: batch)."""
    users: list[int] = []
    for pair in range(6):
        for twin in range(2):
            uid = (await people.get_or_create_user(sessions, "console", "", f"u{pair}-{twin}")).id
            if pair == 1:
                await people.follow_topic(sessions, uid, "pricing")
            if pair == 2:
                await people.mute_topic(sessions, uid, "ai")
                await people.follow_topic(sessions, uid, "growth")
            if pair == 3:
                await people.follow_show(sessions, uid, 2)
                await people.record_feedback(sessions, uid, "up", insight_id=insights[3])
                await people.record_feedback(sessions, uid, "less_about", topic="hiring")
            users.append(uid)
    await add_edge(sessions, insights[3], insights[40], 0.9)
    clock.set(NOW - timedelta(days=2))
    for uid in users[8:]:  # pairs 4 and 5 had briefs two days ago (received some insights)
        await compose_brief(sessions, uid, clock, kind="daily")
    clock.set(NOW - timedelta(days=1, hours=3))
    for uid in users[10:]:  # pair 5 also yesterday
        await compose_brief(sessions, uid, clock, kind="daily")
    clock.set(NOW)
    return users


def picked(items: Sequence[BriefEntry]) -> list[tuple[int, bool]]:
    return [(e.insight_id, e.is_older) for e in items]


async def test_a_batch_picks_what_the_single_compose_picks(
    sessions: Sessions, clock: FakeClock
) -> None:
    insights = await library(sessions)
    users = await twin_users(sessions, insights, clock)
    singles = [await compose_brief(sessions, uid, clock, kind="daily") for uid in users[::2]]
    batch = await compose_briefs(sessions, users[1::2], clock)
    for single, uid in zip(singles, users[1::2], strict=True):
        mine = batch[uid]
        assert mine.brief_id is not None and not mine.reused and mine.kind == "daily"
        assert len(mine.items) == 5 and [e.position for e in mine.items] == [1, 2, 3, 4, 5]
        assert picked(mine.items) == picked(single.items), f"user {uid}"
    muting = batch[users[5]]
    assert all("ai" not in e.topics for e in muting.items)
    async with sessions() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(BriefItem)
            .where(BriefItem.brief_id.in_([b.brief_id for b in batch.values()]))
        )
    assert stored == 5 * 6  # every item stored, once


async def test_daily_batches_never_repeat_and_fill_with_older_marked(
    sessions: Sessions, clock: FakeClock
) -> None:
    await library(sessions)
    uid = (await people.get_or_create_user(sessions, "console", "", "daily")).id
    muter = (await people.get_or_create_user(sessions, "console", "", "muter")).id
    await people.mute_topic(sessions, muter, "pricing")
    seen: dict[int, list[int]] = {uid: [], muter: []}
    for day in range(4):
        clock.set(NOW + timedelta(days=day))
        briefs = await compose_briefs(sessions, [uid, muter, 99999], clock)
        assert 99999 not in briefs  # unknown ids are left out
        for who in seen:
            seen[who] += [e.insight_id for e in briefs[who].items]
            if day > 0:  # nothing new since yesterday's brief: all filled from the backlog
                assert all(e.is_older for e in briefs[who].items)
    for ids in seen.values():
        assert len(ids) == len(set(ids)) == 20  # never a repeat
    async with sessions() as session:
        tags = (
            await session.scalars(select(Insight.topics).where(Insight.id.in_(seen[muter])))
        ).all()
    assert all("pricing" not in t for t in tags)


async def test_an_existing_brief_of_the_day_is_reused(sessions: Sessions, clock: FakeClock) -> None:
    await library(sessions)
    asked = (await people.get_or_create_user(sessions, "console", "", "asked")).id
    other = (await people.get_or_create_user(sessions, "console", "", "other")).id
    clock.set(NOW - timedelta(hours=1))
    on_request = await compose_brief(sessions, asked, clock, kind="on_demand")
    clock.set(NOW)
    first = await compose_briefs(sessions, [asked, other], clock)
    again = await compose_briefs(sessions, [asked, other], clock)
    assert first[asked].reused and first[asked].brief_id == on_request.brief_id
    assert first[asked].kind == "on_demand"
    assert picked(first[asked].items) == picked(on_request.items)
    assert not first[other].reused and again[other].reused
    assert again[other].brief_id == first[other].brief_id
    assert picked(again[other].items) == picked(first[other].items)
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Brief))
    assert count == 2


async def test_nothing_unseen_stores_no_brief(sessions: Sessions, clock: FakeClock) -> None:
    uid = (await people.get_or_create_user(sessions, "console", "", "empty")).id
    clock.set(NOW)
    result = (await compose_briefs(sessions, [uid], clock))[uid]
    assert result.brief_id is None and result.items == []


async def dangling_items(sessions: Sessions) -> int:
    """Brief items whose insight is gone (they have no foreign key to it: migration 0013)."""
    async with sessions() as session:
        gone = ~select(Insight.id).where(Insight.id == BriefItem.insight_id).exists()
        return int(await session.scalar(select(func.count()).select_from(BriefItem).where(gone)))


async def library_and_readers(sessions: Sessions, prefix: str) -> list[int]:
    """The sample library and three console users who have seen none of it."""
    await library(sessions)
    return [
        (await people.get_or_create_user(sessions, "console", "", f"{prefix}{n}")).id
        for n in range(3)
    ]


async def test_removing_a_feed_takes_the_brief_items_of_its_insights(
    sessions: Sessions, clock: FakeClock
) -> None:
    users = await library_and_readers(sessions, "r")
    briefs = await compose_briefs(sessions, users, clock)
    shown = {e.insight_id for b in briefs.values() for e in b.items}
    async with sessions() as session:
        feeds = set(await session.scalars(select(Insight.feed_id).where(Insight.id.in_(shown))))
    assert len(feeds) > 1  # some items stay, of the other shows
    removed = min(feeds)
    assert await remove_feed(sessions, removed) is not None
    assert await dangling_items(sessions) == 0
    async with sessions() as session:
        left = await session.scalar(select(func.count()).select_from(BriefItem))
        kept = set(await session.scalars(select(Insight.id).where(Insight.id.in_(shown))))
    assert 0 < len(kept) < len(shown)
    assert left == sum(e.insight_id in kept for b in briefs.values() for e in b.items)


async def test_insights_removed_between_reading_and_storing_are_not_stored(
    sessions: Sessions, clock: FakeClock
) -> None:
    users = await library_and_readers(sessions, "s")
    prepared = await prepare_briefs(sessions, users, clock)
    picks = rank_prepared(prepared)
    first = picks[users[0]][0]
    async with sessions() as session:
        feed = await session.scalar(select(Insight.feed_id).where(Insight.id == first.id))
    assert feed is not None and await remove_feed(sessions, feed) is not None  # meanwhile
    briefs = await store_briefs(sessions, prepared, picks, clock)
    assert await dangling_items(sessions) == 0
    mine = briefs[users[0]]
    assert mine.brief_id is not None and first.id not in {e.insight_id for e in mine.items}
    async with sessions() as session:
        stored = await session.scalar(
            select(func.count()).select_from(BriefItem).where(BriefItem.brief_id == mine.brief_id)
        )
    assert stored == len(mine.items) < 5  # what was shown is what "#N" finds
