"""Email storage on SQLite and PostgreSQL: subscriptions, throttling, feed tokens, the key."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from core.brief_feed.tokens import feed_token, reset_feed_token, user_for_token
from core.db import Sessions
from core.email.signup import parse_signup
from core.email.subscriptions import (
    confirm_signup,
    find_subscriber,
    record_bounce,
    record_email_feedback,
    unsubscribe,
    update_settings,
)
from core.email.throttle import Limit, allow_signup
from core.models import BriefFeed, EmailSubscription, SignupAttempt, TopicPreference
from core.people import users as people
from core.signing.keys import stored_secret
from tests.fakes.clock import FakeClock


async def test_confirm_update_unsubscribe_and_confirm_again(
    sessions: Sessions, clock: FakeClock
) -> None:
    signup = parse_signup("r@example.org", ["pricing", "ai"], "07:15", "Europe/Paris")
    user = await confirm_signup(sessions, signup, clock.now())
    assert (user.platform, user.external_id, user.onboarded, user.active) == (
        "email", "r@example.org", True, True,
    )  # fmt: skip
    await people.mute_topic(sessions, user.id, "crypto")  # a mute from elsewhere is kept
    found = await update_settings(
        sessions, "r@example.org", topics=("sleep",), delivery_time="06:00",
        timezone="Asia/Tokyo", paused=True,
    )  # fmt: skip
    assert found is not None and found.topics == ("sleep",) and not found.receiving
    async with sessions() as session:
        modes = dict(
            (await session.execute(select(TopicPreference.topic, TopicPreference.mode))).all()
        )
    assert modes == {"sleep": "follow", "crypto": "mute"}
    assert await unsubscribe(sessions, "r@example.org", clock.now())
    assert not await unsubscribe(sessions, "nobody@example.org", clock.now())
    gone = await find_subscriber(sessions, "r@example.org")
    assert gone is not None and gone.subscription.unsubscribed_at == clock.now()
    await record_bounce(sessions, "r@example.org", "hard bounce: 550", clock.now())
    clock.advance(timedelta(days=1))
    again = await confirm_signup(sessions, signup, clock.now())
    back = await find_subscriber(sessions, "r@example.org")
    assert again.id == user.id and back is not None and back.receiving
    assert back.subscription.unsubscribed_at is None and back.subscription.bounced_at is None
    assert back.topics == ("ai", "pricing")
    assert not await record_email_feedback(sessions, "x@example.org", 1, "down", clock.now())


async def test_throttle_counts_per_key_within_the_window(
    sessions: Sessions, clock: FakeClock
) -> None:
    limits = (Limit("client", 3, timedelta(hours=1)), Limit("address", 2, timedelta(hours=1)))

    async def attempt(client: str, address: str) -> bool:
        return await allow_signup(
            sessions, "k", clock.now(), client=client, address=address, limits=limits
        )

    assert [await attempt("1.2.3.4", "a@x.org") for _ in range(3)] == [True, True, False]
    assert await attempt("1.2.3.4", "b@x.org")  # the client's third
    assert not await attempt("1.2.3.4", "c@x.org")
    assert await attempt("5.6.7.8", "c@x.org")
    async with sessions() as session:
        keys = (await session.execute(select(SignupAttempt.key))).scalars().all()
    assert not any("a@x.org" in k or "1.2.3.4" in k for k in keys)  # only keyed hashes
    clock.advance(timedelta(hours=1, seconds=1))
    assert await attempt("1.2.3.4", "a@x.org")
    async with sessions() as session:  # old attempts are cleaned up as new ones come
        assert len((await session.execute(select(SignupAttempt))).scalars().all()) == 2


async def test_feed_tokens_are_stable_until_reset(sessions: Sessions, clock: FakeClock) -> None:
    user = await people.get_or_create_user(sessions, "slack", "T1", "C1")
    first = await feed_token(sessions, user.id)
    assert await feed_token(sessions, user.id) == first and len(first) >= 32
    assert (found := await user_for_token(sessions, first)) is not None and found.id == user.id
    second = await reset_feed_token(sessions, user.id)
    assert second != first and await user_for_token(sessions, first) is None
    assert await user_for_token(sessions, "") is None


async def test_the_stored_signing_key_is_made_once(sessions: Sessions) -> None:
    keys = await asyncio.gather(*(stored_secret(sessions) for _ in range(4)))
    assert len(set(keys)) == 1 and len(keys[0]) >= 40
    assert await stored_secret(sessions) == keys[0]


async def test_forget_deletes_the_feed_and_the_email_consent_too(
    sessions: Sessions, clock: FakeClock
) -> None:
    user = await confirm_signup(
        sessions, parse_signup("r@example.org", [], "07:00", "UTC"), clock.now()
    )
    other = await people.get_or_create_user(sessions, "telegram", "", "7")
    for uid in (user.id, other.id):
        await feed_token(sessions, uid)
    assert await people.forget_user(sessions, user.id)
    async with sessions() as session:
        assert (await session.scalars(select(BriefFeed.user_id))).all() == [other.id]
        assert (await session.scalars(select(EmailSubscription.user_id))).all() == []
