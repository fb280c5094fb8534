"""People and preferences, stored on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from core.brief.compose import compose_brief
from core.brief.profile import load_profile
from core.db import Sessions, transaction
from core.models import (
    Brief,
    BriefItem,
    ChatContext,
    Feedback,
    ShowSubscription,
    TopicPreference,
    User,
)
from core.people import users as people
from core.people.users import PeopleError
from core.topics.match import topic_key
from core.topics.normalise import normalise_topic
from tests.fakes.brief_rows import add_edge, add_episode, add_feed, add_insight
from tests.fakes.clock import FakeClock


async def new_user(sessions: Sessions, external_id: str = "42") -> int:
    return (await people.get_or_create_user(sessions, "telegram", "", external_id)).id


async def profile_of(sessions: Sessions, user_id: int) -> people.UserProfile:
    async with sessions() as session:
        return await load_profile(session, user_id)


async def test_get_or_create_returns_the_same_user_and_keeps_workspaces_apart(
    sessions: Sessions,
) -> None:
    first = await people.get_or_create_user(sessions, "slack", "T1", "U9", display_name="Ana")
    again = await people.get_or_create_user(sessions, "slack", "T1", "U9")
    other_team = await people.get_or_create_user(sessions, "slack", "T2", "U9")
    assert first.id == again.id != other_team.id
    assert again.display_name == "Ana" and again.timezone == "UTC"


async def test_concurrent_first_contacts_create_one_user(sessions: Sessions) -> None:
    users = await asyncio.gather(
        *(people.get_or_create_user(sessions, "console", "", "sam") for _ in range(5))
    )
    assert len({u.id for u in users}) == 1
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1


async def test_timezone_and_delivery_time_are_validated_and_normalised(sessions: Sessions) -> None:
    uid = await new_user(sessions)
    assert await people.set_timezone(sessions, uid, " Europe/Berlin ") == "Europe/Berlin"
    assert await people.set_delivery_time(sessions, uid, "7:05") == "07:05"
    assert await people.set_days(sessions, uid, "Weekdays") == "weekdays"
    for bad in ("Mars/Olympus", "../etc/passwd", ""):
        with pytest.raises(PeopleError, match="time zone"):
            await people.set_timezone(sessions, uid, bad)
    for bad_time in ("25:00", "noon", "7:75"):
        with pytest.raises(PeopleError, match="time of day"):
            await people.set_delivery_time(sessions, uid, bad_time)
    with pytest.raises(PeopleError, match="daily"):
        await people.set_days(sessions, uid, "sometimes")
    user = await people.get_user(sessions, uid)
    # Bad input changed nothing that was already set.
    assert (user.timezone, user.delivery_time, user.delivery_days) == (
        "Europe/Berlin",
        "07:05",
        "weekdays",
    )


async def test_pause_and_resume(sessions: Sessions) -> None:
    uid = await new_user(sessions)
    await people.pause(sessions, uid)
    assert (await people.get_user(sessions, uid)).paused
    await people.resume(sessions, uid)
    assert not (await people.get_user(sessions, uid)).paused
    with pytest.raises(PeopleError, match="no user"):
        await people.pause(sessions, 999)


def test_topics_are_normalised_like_insight_tags_and_matched_singular_ish() -> None:
    assert normalise_topic("  Large   Language Models ") == "large language models"
    assert normalise_topic("K8s") == "kubernetes"  # the insight side's aliases apply
    assert normalise_topic("?!") == ""
    assert topic_key("large language models") == "large language model"
    assert topic_key("companies") == "company"
    assert topic_key("business") == "business"
    assert topic_key("kubernetes") == "kubernetes" and topic_key("ai") == "ai"


async def test_follow_mute_and_unfollow_topics(sessions: Sessions) -> None:
    uid = await new_user(sessions)
    assert await people.follow_topic(sessions, uid, "Pricing ") == "pricing"
    assert await people.mute_topic(sessions, uid, "Cryptocurrencies") == "cryptocurrencies"
    profile = await profile_of(sessions, uid)
    assert profile.followed_topics == {"pricing"} and profile.muted_topics == {"cryptocurrency"}
    await people.follow_topic(sessions, uid, "cryptocurrencies")  # switching un-mutes
    assert (await profile_of(sessions, uid)).muted_topics == frozenset()
    assert await people.unfollow(sessions, uid, "PRICING")
    assert not await people.unfollow(sessions, uid, "pricing")
    with pytest.raises(PeopleError, match="not a topic"):
        await people.follow_topic(sessions, uid, "!!!")
    assert (await profile_of(sessions, uid)).followed_topics == {"cryptocurrency"}
    async with sessions() as session:
        stored = (await session.scalars(select(TopicPreference.topic))).all()
    assert stored == ["cryptocurrencies"]  # shown to the user as they (and insights) spell it


async def test_follow_and_unfollow_shows(sessions: Sessions) -> None:
    uid = await new_user(sessions)
    feed = await add_feed(sessions, "Oxide and Friends")
    await people.follow_show(sessions, uid, feed)
    await people.follow_show(sessions, uid, feed)  # twice is fine
    assert (await profile_of(sessions, uid)).followed_feeds == {feed}
    with pytest.raises(PeopleError, match="no show"):
        await people.follow_show(sessions, uid, feed + 100)
    assert await people.unfollow_show(sessions, uid, feed)
    assert not await people.unfollow_show(sessions, uid, feed)


async def test_feedback_shapes_the_profile(sessions: Sessions, clock: FakeClock) -> None:
    uid = await new_user(sessions)
    feed = await add_feed(sessions, "AWS Bites")
    ep = await add_episode(sessions, feed, "Lambda pricing")
    liked = await add_insight(
        sessions,
        ep,
        feed,
        headline="Cold starts",
        score=0.5,
        created_at=clock.now(),
        topics=("serverless", "pricing"),
    )
    neighbour = await add_insight(
        sessions, ep, feed, headline="Warm pools", score=0.4, created_at=clock.now()
    )
    disliked = await add_insight(
        sessions, ep, feed, headline="Hype", score=0.4, created_at=clock.now(), topics=("hype",)
    )
    await add_edge(sessions, liked, neighbour, 0.83)
    await people.record_feedback(sessions, uid, "more_like", insight_id=liked)
    await people.record_feedback(sessions, uid, "up", insight_id=liked)
    await people.record_feedback(sessions, uid, "down", insight_id=disliked)
    await people.record_feedback(sessions, uid, "less_about", topic="Kubernetes")
    profile = await profile_of(sessions, uid)
    assert profile.liked_topics == {"serverless": 2, "pricing": 2}
    assert profile.disliked_topics == {"hype": 1}
    assert profile.less_about_topics == {"kubernetes"}
    assert profile.similar_to_liked == pytest.approx({neighbour: 0.83})
    await people.follow_topic(sessions, uid, "kubernetes")  # changing one's mind clears it
    assert (await profile_of(sessions, uid)).less_about_topics == frozenset()


async def test_bad_feedback_is_refused_and_stores_nothing(sessions: Sessions) -> None:
    uid = await new_user(sessions)
    with pytest.raises(PeopleError, match="unknown feedback"):
        await people.record_feedback(sessions, uid, "meh", insight_id=1)
    with pytest.raises(PeopleError, match="needs an insight"):
        await people.record_feedback(sessions, uid, "up")
    with pytest.raises(PeopleError, match="needs a topic"):
        await people.record_feedback(sessions, uid, "less_about")
    with pytest.raises(PeopleError, match="no insight"):
        await people.record_feedback(sessions, uid, "up", insight_id=12345)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Feedback)) == 0


async def test_forget_user_deletes_everything_about_them_and_only_them(
    sessions: Sessions, clock: FakeClock
) -> None:
    uid = await new_user(sessions, "1")
    other = await new_user(sessions, "2")
    feed = await add_feed(sessions, "Changelog")
    ep = await add_episode(sessions, feed, "500")
    insight = await add_insight(
        sessions,
        ep,
        feed,
        headline="Open source",
        score=0.9,
        created_at=clock.now(),
        topics=("oss",),
    )
    for user in (uid, other):
        await people.follow_topic(sessions, user, "oss")
        await people.follow_show(sessions, user, feed)
        await people.record_feedback(sessions, user, "up", insight_id=insight)
        assert (await compose_brief(sessions, user, clock)).brief_id is not None
    async with transaction(sessions) as session:
        session.add(ChatContext(platform="telegram", chat_id="1", last_insight_id=insight))
        session.add(ChatContext(platform="telegram", chat_id="2", last_insight_id=insight))

    assert await people.forget_user(sessions, uid)
    assert not await people.forget_user(sessions, uid)
    async with sessions() as session:
        for model in (TopicPreference, ShowSubscription, Feedback, Brief, BriefItem):
            owners = (await session.scalars(select(model.user_id))).all()
            assert owners == [other], model.__name__
        chats = (await session.scalars(select(ChatContext.chat_id))).all()
        assert chats == ["2"]
        assert await session.get(User, uid) is None
