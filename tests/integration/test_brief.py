"""Composing and storing briefs, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.brief.compose import brief_item, compose_brief, latest_brief, load_brief
from core.db import Sessions
from core.models import Brief, BriefItem
from core.people import users as people
from core.people.users import PeopleError
from tests.fakes.brief_rows import add_edge, add_episode, add_feed, add_insight
from tests.fakes.clock import FakeClock


async def user(sessions: Sessions, name: str = "ana", tz: str = "UTC") -> int:
    return (await people.get_or_create_user(sessions, "console", "", name, timezone=tz)).id


async def seed_episodes(
    sessions: Sessions, clock: FakeClock, episodes: int, per_episode: int, *, age_h: float = 2
) -> list[int]:
    """``episodes`` episodes of one show, each with insights scored high to low."""
    feed = await add_feed(sessions, f"Show {clock.now().isoformat()}")
    ids = []
    for e in range(episodes):
        ep = await add_episode(sessions, feed, f"Episode {e} at {clock.now().isoformat()}")
        for i in range(per_episode):
            ids.append(
                await add_insight(
                    sessions,
                    ep,
                    feed,
                    headline=f"E{e} insight {i}",
                    score=0.9 - e * 0.05 - i * 0.2,
                    created_at=clock.now() - timedelta(hours=age_h),
                    topics=(f"topic{e}",),
                )
            )
    return ids


async def test_new_user_gets_the_days_best_one_per_episode_and_can_say_number_3(
    sessions: Sessions, clock: FakeClock
) -> None:
    await seed_episodes(sessions, clock, episodes=6, per_episode=3)
    uid = await user(sessions)
    brief = await compose_brief(sessions, uid, clock, kind="daily")
    assert brief.brief_id is not None and not brief.reused and brief.kind == "daily"
    assert [item.headline for item in brief.items] == [f"E{e} insight 0" for e in range(5)]
    assert [item.position for item in brief.items] == [1, 2, 3, 4, 5]
    assert brief.new_count == 5 and brief.local_date == date(2026, 11, 24)
    third = await brief_item(sessions, brief.brief_id, 3)
    assert third is not None and third.headline == "E2 insight 0"
    assert third.show_title and third.episode_title == "Episode 2 at 2026-11-24T07:00:00+00:00"
    assert third.quote and third.start_seconds == 12.5
    assert await brief_item(sessions, brief.brief_id, 9) is None
    assert (await load_brief(sessions, brief.brief_id)) == (await latest_brief(sessions, uid))


async def test_the_same_local_day_returns_the_same_brief_without_recomputing(
    sessions: Sessions, clock: FakeClock
) -> None:
    await seed_episodes(sessions, clock, episodes=5, per_episode=1)
    uid = await user(sessions)
    first = await compose_brief(sessions, uid, clock)
    clock.advance(timedelta(hours=3))
    await seed_episodes(sessions, clock, episodes=5, per_episode=1, age_h=0)  # fresher, better
    again = await compose_brief(sessions, uid, clock, kind="daily")
    assert again.reused and again.brief_id == first.brief_id
    assert [i.insight_id for i in again.items] == [i.insight_id for i in first.items]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Brief)) == 1


async def test_next_day_has_no_repeats_and_fills_with_older_marked_as_such(
    sessions: Sessions, clock: FakeClock
) -> None:
    old = await seed_episodes(sessions, clock, episodes=8, per_episode=1)
    uid = await user(sessions)
    day1 = await compose_brief(sessions, uid, clock)
    clock.advance(timedelta(days=1))
    new = await seed_episodes(sessions, clock, episodes=2, per_episode=1, age_h=1)
    day2 = await compose_brief(sessions, uid, clock)
    assert day2.brief_id != day1.brief_id and day2.local_date == date(2026, 11, 25)
    assert [i.insight_id for i in day2.items[:2]] == new  # the new ones lead
    assert [i.is_older for i in day2.items] == [False, False, True, True, True]
    assert day2.new_count == 2 and day2.older_count == 3
    sent = {i.insight_id for i in day1.items}
    assert sent.isdisjoint(i.insight_id for i in day2.items)
    assert {i.insight_id for i in day2.items[2:]} == set(old) - sent
    clock.advance(timedelta(days=1))
    day3 = await compose_brief(sessions, uid, clock)  # everything has been sent: nothing left
    assert day3.brief_id is None and day3.items == []


async def test_the_day_is_the_users_local_day(sessions: Sessions, clock: FakeClock) -> None:
    await seed_episodes(sessions, clock, episodes=12, per_episode=1)
    tokyo = await user(sessions, "kenji", tz="Asia/Tokyo")
    london = await user(sessions, "amy", tz="Europe/London")
    clock.set(datetime(2026, 11, 24, 23, 30, tzinfo=UTC))  # Tokyo: 25 Nov 08:30
    assert (await compose_brief(sessions, tokyo, clock)).local_date == date(2026, 11, 25)
    assert (await compose_brief(sessions, london, clock)).local_date == date(2026, 11, 24)
    clock.set(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    assert (await compose_brief(sessions, tokyo, clock)).reused  # still the 25th in Tokyo
    assert not (await compose_brief(sessions, london, clock)).reused  # a new day in London


async def test_preferences_shape_the_brief(sessions: Sessions, clock: FakeClock) -> None:
    feed = await add_feed(sessions, "Practical AI")
    now = clock.now()
    ids = {}
    for n, (topics, score) in enumerate(
        [(("crypto",), 0.99), (("pricing",), 0.2), (("gardening",), 0.6), (("ai",), 0.5)]
    ):
        ep = await add_episode(sessions, feed, f"ep{n}")
        ids[topics[0]] = await add_insight(
            sessions, ep, feed, headline=topics[0], score=score, created_at=now, topics=topics
        )
    uid = await user(sessions)
    await people.follow_topic(sessions, uid, "Pricing")
    await people.mute_topic(sessions, uid, "crypto")
    await people.record_feedback(sessions, uid, "less_about", topic="gardening")
    brief = await compose_brief(sessions, uid, clock)
    assert [i.headline for i in brief.items] == ["pricing", "ai", "gardening"]


async def test_more_like_lifts_related_insights(sessions: Sessions, clock: FakeClock) -> None:
    ids = await seed_episodes(sessions, clock, episodes=8, per_episode=1)
    uid = await user(sessions)
    day1 = await compose_brief(sessions, uid, clock)
    assert [i.insight_id for i in day1.items] == ids[:5]
    await people.record_feedback(sessions, uid, "more_like", insight_id=ids[0])
    await add_edge(sessions, ids[0], ids[7], 0.95)  # the worst-scored one is like the liked one
    clock.advance(timedelta(days=1))
    day2 = await compose_brief(sessions, uid, clock)
    assert [i.insight_id for i in day2.items] == [ids[7], ids[5], ids[6]]


async def test_nothing_to_send_stores_nothing_and_a_later_brief_still_comes(
    sessions: Sessions, clock: FakeClock
) -> None:
    uid = await user(sessions)
    empty = await compose_brief(sessions, uid, clock)
    assert empty.brief_id is None and empty.items == []
    await seed_episodes(sessions, clock, episodes=2, per_episode=1)
    later = await compose_brief(sessions, uid, clock)
    assert later.brief_id is not None and len(later.items) == 2
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(BriefItem)) == 2


async def test_unknown_user_is_a_plain_error(sessions: Sessions, clock: FakeClock) -> None:
    with pytest.raises(PeopleError, match="no user 77"):
        await compose_brief(sessions, 77, clock)
    assert await load_brief(sessions, 77) is None
    assert await latest_brief(sessions, 77) is None


async def test_a_follow_matches_the_plural_tag_and_a_mute_the_singular(
    sessions: Sessions, clock: FakeClock
) -> None:
    feed = await add_feed(sessions, "Oxide and Friends")
    tagged = {}
    for n, (tag, score) in enumerate([("databases", 0.1), ("security", 0.9), ("company", 0.8)]):
        ep = await add_episode(sessions, feed, f"ep{n}")
        tagged[tag] = await add_insight(
            sessions, ep, feed, headline=tag, score=score, created_at=clock.now(), topics=(tag,)
        )
    uid = await user(sessions)
    await people.follow_topic(sessions, uid, "Database")
    await people.mute_topic(sessions, uid, "companies")
    brief = await compose_brief(sessions, uid, clock)
    assert [i.headline for i in brief.items] == ["databases", "security"]
    assert brief.items[0].topics == ["databases"]  # shown as the insight spells it


async def test_two_composes_at_once_store_one_brief(sessions: Sessions, clock: FakeClock) -> None:
    await seed_episodes(sessions, clock, episodes=6, per_episode=2)
    uid = await user(sessions)
    first, second = await asyncio.gather(
        compose_brief(sessions, uid, clock), compose_brief(sessions, uid, clock)
    )
    assert first.brief_id == second.brief_id is not None
    assert [i.insight_id for i in first.items] == [i.insight_id for i in second.items]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Brief)) == 1
        assert await session.scalar(select(func.count()).select_from(BriefItem)) == 5
