"""Every `/podbrief` subcommand the issue lists, typed in the app's DM, over signed HTTP: each
gets its answer and changes what it should in the database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import Sessions
from core.models import Feed, ShowSubscription, TopicPreference, User
from tests.fakes.clock import FakeClock
from tests.fakes.slack_harness import USER, Stack, slack_stack

DM = "D" + USER[1:]


@pytest.fixture
async def stack(sessions: Sessions, engine: AsyncEngine, clock: FakeClock) -> AsyncIterator[Stack]:
    async with slack_stack(sessions, engine, clock) as built:
        yield built


async def answer(stack: Stack, text: str) -> str:
    """``/podbrief <text>`` in the DM; the words of every message it answered with."""
    before = len(stack.fake.messages)
    assert (await stack.slack.command(text, channel=DM)).status_code == 200
    await stack.fake.wait_for(lambda: len(stack.fake.messages) > before)
    return " ".join(m.text for m in stack.fake.messages[before:])


async def ada(sessions: Sessions) -> User:
    async with sessions() as session:
        return (await session.execute(select(User).where(User.external_id == USER))).scalar_one()


async def test_every_listed_subcommand(stack: Stack, sessions: Sessions) -> None:
    help_text = await answer(stack, "help")
    assert "What you can say" in help_text and "channel daily 09:00" in help_text
    brief = await answer(stack, "brief")
    assert all(f"#{n} " in brief for n in range(1, 6))
    assert "Related to" in await answer(stack, "related 2")
    assert "Following" in await answer(stack, "follow pricing")
    assert "crypto" in (await answer(stack, "mute crypto")).lower()
    topics = await answer(stack, "topics")
    assert "pricing" in topics and "crypto" in topics
    async with sessions() as session:
        prefs = set(await session.execute(select(TopicPreference.topic, TopicPreference.mode)))
    assert {("pricing", "follow"), ("crypto", "mute")} <= {tuple(p) for p in prefs}

    assert "07:45" in await answer(stack, "time 07:45")
    assert (await ada(sessions)).delivery_time == "07:45"
    assert "Paused" in await answer(stack, "pause")
    assert (await ada(sessions)).paused
    assert "Resumed" in await answer(stack, "resume")
    assert not (await ada(sessions)).paused

    # Slack wraps a typed URL as <url|label>; the engine gets the URL itself.
    url = "https://feeds.example.com/pod.xml"
    assert "Subscribed" in await answer(stack, f"subscribe <{url}|feeds.example.com/pod.xml>")
    async with sessions() as session:
        feed_id = await session.scalar(select(Feed.id).where(Feed.url == url))
        subscribed = set(await session.scalars(select(ShowSubscription.feed_id)))
    assert feed_id is not None and feed_id in subscribed

    asked = await answer(stack, "forget")
    assert "deletes everything" in asked
    question = stack.fake.in_channel(DM)[-1]
    yes = next(b for b in question.buttons() if str(b["value"]).startswith("confirm_forget"))
    before = len(stack.fake.messages)
    await stack.slack.press(yes, channel=DM, message_ts=question.ts)
    await stack.fake.wait_for(lambda: len(stack.fake.messages) > before)
    async with sessions() as session:
        assert (await session.execute(select(User).where(User.external_id == USER))).first() is None


async def test_an_unknown_subcommand_says_what_works(stack: Stack) -> None:
    said = await answer(stack, "frobnicate the widgets")
    assert "didn't understand" in said and "help" in said
