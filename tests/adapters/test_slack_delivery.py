"""Delivered briefs: to a DM and to a subscribed channel, paced, 429s retried, refusals pause."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.app import SlackComponent
from adapters.slack.delivery import RecipientUnreachable
from adapters.slack.translate import channel_chat, person_chat
from core.chat.types import Reply
from core.db import Sessions
from core.delivery.errors import RateLimited, TransientSendError
from core.models import TopicPreference, User
from core.people import users as people
from core.people.status import deactivate_recipient
from tests.fakes.clock import FakeClock
from tests.fakes.slack_harness import TEAM, USER, Stack, slack_stack

DM = "D" + USER[1:]
CHANNEL = "C0TEAMBRIEF"


@pytest.fixture
async def stack(sessions: Sessions, engine: AsyncEngine, clock: FakeClock) -> AsyncIterator[Stack]:
    async with slack_stack(sessions, engine, clock) as built:
        yield built


async def user_row(sessions: Sessions, external_id: str) -> User:
    async with sessions() as session:
        stmt = select(User).where(User.external_id == external_id)
        return (await session.execute(stmt)).scalar_one()


async def test_a_delivered_brief_lands_in_the_persons_dm(stack: Stack) -> None:
    chat = person_chat(TEAM, USER)
    reply = await stack.conversation.brief_for(chat)
    ids = await stack.bot.messenger.send(chat, reply)
    assert [m.ts for m in stack.fake.messages] == ids and len(ids) == 1
    posted = stack.fake.messages[0]
    assert posted.channel == DM
    assert len([b for b in posted.buttons() if b["text"]["text"] == "Related"]) == 5


async def test_about_one_message_a_second_per_channel(stack: Stack) -> None:
    messenger, chat = stack.bot.messenger, person_chat(TEAM, USER)
    for n in range(3):
        await messenger.send(chat, Reply.text(f"message {n}"))
    await messenger.send(channel_chat(TEAM, "C0OTHER"), Reply.text("elsewhere"))
    waits = stack.sleep.waits
    assert len(waits) == 2  # the 2nd and 3rd wait; the other channel does not
    assert 0.8 < waits[0] <= 1.0 and 1.8 < waits[1] <= 2.0


async def test_a_429_is_retried_after_retry_after(stack: Stack) -> None:
    stack.fake.rate_limit_next("chat.postMessage", retry_after=7)
    ids = await stack.bot.messenger.send(person_chat(TEAM, USER), Reply.text("hello"))
    assert len(ids) == 1 and len(stack.fake.calls_to("chat.postMessage")) == 2
    assert 7.0 in stack.sleep.waits


async def test_persistent_429s_and_5xx_are_handed_to_delivery_to_retry(stack: Stack) -> None:
    for _ in range(3):  # the first attempt and slack_sdk's two retries
        stack.fake.rate_limit_next("chat.postMessage", retry_after=30)
    with pytest.raises(RateLimited) as limited:
        await stack.bot.messenger.send(person_chat(TEAM, USER), Reply.text("hello"))
    assert limited.value.retry_after == 30.0
    assert len(stack.fake.calls_to("chat.postMessage")) == 3
    stack.fake.server_error_next("chat.postMessage")
    with pytest.raises(TransientSendError):
        await stack.bot.messenger.send(person_chat(TEAM, USER), Reply.text("hello"))


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
async def test_a_gone_chat_is_paused_with_its_reason_and_not_retried(
    stack: Stack, sessions: Sessions, error: str
) -> None:
    await people.get_or_create_user(sessions, "slack", TEAM, CHANNEL, kind="channel")
    await people.get_or_create_user(sessions, "slack", TEAM, USER)
    stack.fake.fail_next("chat.postMessage", error)
    with pytest.raises(RecipientUnreachable, match=error):
        await stack.bot.messenger.send(channel_chat(TEAM, CHANNEL), Reply.text("hi"))
    assert len(stack.fake.calls_to("chat.postMessage")) == 1
    gone = await user_row(sessions, CHANNEL)
    assert (gone.active, gone.inactive_reason) == (False, f"slack: {error}")
    assert (await user_row(sessions, USER)).active  # only that chat


@pytest.mark.parametrize("error", ["account_inactive", "invalid_auth"])
async def test_a_dead_token_stops_the_whole_workspace(
    stack: Stack, sessions: Sessions, error: str
) -> None:
    await people.get_or_create_user(sessions, "slack", TEAM, CHANNEL, kind="channel")
    await people.get_or_create_user(sessions, "slack", TEAM, USER)
    stack.fake.fail_next("chat.postMessage", error)
    with pytest.raises(RecipientUnreachable):
        await stack.bot.messenger.send(person_chat(TEAM, USER), Reply.text("hi"))
    assert len(stack.fake.calls_to("chat.postMessage")) == 1
    for external_id in (USER, CHANNEL):
        row = await user_row(sessions, external_id)
        assert not row.active and error in (row.inactive_reason or "")


async def test_channel_subscription_and_its_team_brief(stack: Stack, sessions: Sessions) -> None:
    fake = stack.fake
    await stack.slack.command("channel daily 9:00 pricing, ai", channel=CHANNEL)
    await fake.wait_for(lambda: len(fake.responses) >= 1)
    assert fake.responses[0]["text"] == (
        "This channel now gets a team brief every day at 09:00 (Europe/Berlin) about pricing, ai."
    )
    row = await user_row(sessions, CHANNEL)
    assert (row.kind, row.delivery_time, row.delivery_days) == ("channel", "09:00", "daily")
    async with sessions() as session:
        topics = set(await session.scalars(select(TopicPreference.topic)))
    assert topics == {"pricing", "ai"}

    chat = channel_chat(TEAM, CHANNEL)
    await stack.bot.messenger.send(chat, await stack.conversation.brief_for(chat))
    assert [m.channel for m in fake.messages] == [CHANNEL]

    await stack.slack.command("channel daily 25:00", channel=CHANNEL)
    await stack.slack.command("channel weekly", channel=CHANNEL)
    await stack.slack.command("channel daily 09:00", channel=DM)
    await fake.wait_for(lambda: len(fake.responses) >= 4)
    answers = sorted(r["text"] for r in fake.responses[1:])
    assert any("not a time of day" in a for a in answers)
    assert any(a.startswith("Use it in a channel") for a in answers)  # how to use it
    assert any(a.startswith("That only works in a channel") for a in answers)
    assert (await user_row(sessions, CHANNEL)).delivery_time == "09:00"  # nothing lost
    async with sessions() as session:
        assert set(await session.scalars(select(TopicPreference.topic))) == {"pricing", "ai"}

    await stack.slack.command("channel stop", channel=CHANNEL)
    await fake.wait_for(lambda: len(fake.responses) >= 5)
    assert (await user_row(sessions, CHANNEL)).paused


async def test_a_paused_chat_is_reachable_again_once_someone_writes_from_it(
    stack: Stack, sessions: Sessions
) -> None:
    await stack.slack.command("channel daily 9:00", channel=CHANNEL)
    await stack.fake.wait_for(lambda: len(stack.fake.responses) >= 1)
    stack.fake.fail_next("chat.postMessage", "not_in_channel")
    with pytest.raises(RecipientUnreachable):
        await stack.bot.messenger.send(channel_chat(TEAM, CHANNEL), Reply.text("hi"))
    assert not (await user_row(sessions, CHANNEL)).active
    # The bot is invited back and someone @mentions it there.
    mention = {"type": "app_mention", "channel": CHANNEL, "user": USER,
               "text": "<@UBOT> help", "ts": "1700000600.000001"}  # fmt: skip
    await stack.slack.event(mention)
    await stack.fake.wait_for(lambda: len(stack.fake.in_channel(CHANNEL)) >= 1)
    row = await user_row(sessions, CHANNEL)
    assert (row.active, row.inactive_reason, row.paused) == (True, None, False)


async def test_a_workspace_stopped_by_a_dead_token_resumes_when_a_good_token_starts(
    stack: Stack, sessions: Sessions
) -> None:
    await people.get_or_create_user(sessions, "slack", TEAM, USER)
    await people.get_or_create_user(sessions, "slack", TEAM, CHANNEL, kind="channel")
    await deactivate_recipient(sessions, "slack", TEAM, CHANNEL, "slack: channel_not_found")
    stack.fake.fail_next("chat.postMessage", "invalid_auth")
    with pytest.raises(RecipientUnreachable):
        await stack.bot.messenger.send(person_chat(TEAM, USER), Reply.text("hi"))
    assert not (await user_row(sessions, USER)).active
    await SlackComponent(stack.bot, sessions).start()  # `podbrief run` with a working token
    assert (await user_row(sessions, USER)).active
    # A chat that left for its own reason stays off.
    gone = await user_row(sessions, CHANNEL)
    assert (gone.active, gone.inactive_reason) == (False, "slack: channel_not_found")
