"""Slack conversations: every button, thread follow-ups, mentions, commands in channels, acks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import Sessions
from core.models import Feedback, TopicPreference, User
from tests.fakes.chat_library import INSIGHTS
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import Posted
from tests.fakes.slack_harness import USER, Stack, slack_stack

DM = "D" + USER[1:]
CHANNEL = "C0GENERAL"


@pytest.fixture
async def stack(sessions: Sessions, engine: AsyncEngine, clock: FakeClock) -> AsyncIterator[Stack]:
    async with slack_stack(sessions, engine, clock) as built:
        yield built


async def brief_in_dm(stack: Stack) -> Posted:
    await stack.slack.command("brief", channel=DM)
    await stack.fake.wait_for(lambda: len(stack.fake.in_channel(DM)) >= 1)
    return stack.fake.in_channel(DM)[0]


def first(message: Posted, label: str) -> dict[str, object]:
    return next(b for b in message.buttons() if b["text"]["text"] == label)


async def test_the_ack_comes_before_the_work(stack: Stack) -> None:
    gate = stack.fake.hold("chat.postMessage")
    response = await asyncio.wait_for(stack.slack.command("brief", channel=DM), 3)
    assert response.status_code == 200  # acknowledged while the post is still held
    assert stack.fake.messages == []
    gate.set()
    await stack.fake.wait_for(lambda: len(stack.fake.messages) == 1)
    brief = stack.fake.messages[0]

    gate = stack.fake.hold("chat.postMessage")
    press = stack.slack.press(first(brief, "Related"), channel=DM, message_ts=brief.ts)
    assert (await asyncio.wait_for(press, 3)).status_code == 200  # a button, likewise
    assert len(stack.fake.messages) == 1
    gate.set()
    await stack.fake.wait_for(lambda: len(stack.fake.in_channel(DM, brief.ts)) == 1)


async def test_every_button(stack: Stack, sessions: Sessions) -> None:
    brief = await brief_in_dm(stack)
    fake, slack = stack.fake, stack.slack

    source = first(brief, "Source")
    response = await slack.press(source, channel=DM, message_ts=brief.ts)
    assert response.status_code == 200
    await fake.wait_for(lambda: len(fake.in_channel(DM, brief.ts)) >= 1)
    assert "Maya Chen" in fake.in_channel(DM, brief.ts)[0].block_text()  # the quote's speaker

    for label, kind in (("👍", "up"), ("👎", "down")):
        before = len(fake.messages) + len(fake.ephemeral)
        await slack.press(first(brief, label), channel=DM, message_ts=brief.ts)
        await fake.wait_for(lambda b=before: len(fake.messages) + len(fake.ephemeral) > b)
        async with sessions() as session:
            kinds = list(await session.scalars(select(Feedback.kind)))
        assert kind in kinds
    insight_id = int(str(source["value"]).split("|")[1])
    async with sessions() as session:
        rows = (await session.scalars(select(Feedback))).all()
    assert {row.insight_id for row in rows} == {insight_id}

    forged = {**source, "value": "drop_tables|1|"}
    before = len(fake.messages) + len(fake.ephemeral)
    await slack.press(forged, channel=DM, message_ts=brief.ts)
    await fake.wait_for(lambda: len(fake.messages) + len(fake.ephemeral) > before)
    assert any("recognise" in m.text for m in fake.messages + fake.ephemeral)


async def test_a_reply_in_the_brief_thread_is_answered_in_that_thread(stack: Stack) -> None:
    brief = await brief_in_dm(stack)
    event = {
        "type": "message", "channel": DM, "channel_type": "im", "user": USER,
        "text": "where is #2 from?", "ts": "1700000100.000001", "thread_ts": brief.ts,
    }  # fmt: skip
    await stack.slack.event(event)
    await stack.fake.wait_for(lambda: len(stack.fake.in_channel(DM, brief.ts)) >= 1)
    answer = stack.fake.in_channel(DM, brief.ts)[0]
    second = next(b["text"]["text"] for b in brief.blocks if "*#2 " in str(b.get("text")))
    headline = second.split("*")[1].removeprefix("#2 ")
    quote = next(q for _, h, _, q, *_ in INSIGHTS if h == headline)
    assert quote in answer.block_text()  # the source of the brief's #2, in the brief's thread


async def test_bot_messages_and_channel_chatter_are_ignored(stack: Stack) -> None:
    base = {"type": "message", "user": USER, "text": "brief", "ts": "1700000100.000002"}
    await stack.slack.event({**base, "channel": CHANNEL, "channel_type": "channel"})
    await stack.slack.event({**base, "channel": DM, "channel_type": "im", "bot_id": "B1"})
    await stack.slack.event({**base, "channel": DM, "channel_type": "im", "text": "help"})
    await stack.fake.wait_for(lambda: len(stack.fake.messages) >= 1)
    assert [m.channel for m in stack.fake.messages] == [DM]  # only the person's own DM
    assert "brief" in stack.fake.messages[0].block_text().lower()  # the help text


async def test_a_mention_in_a_channel_is_answered_there(stack: Stack, sessions: Sessions) -> None:
    event = {
        "type": "app_mention", "channel": CHANNEL, "user": USER,
        "text": "<@UBOT> help", "ts": "1700000200.000001",
    }  # fmt: skip
    await stack.slack.event(event)
    await stack.fake.wait_for(lambda: len(stack.fake.in_channel(CHANNEL)) >= 1)
    assert "brief" in stack.fake.in_channel(CHANNEL)[0].block_text().lower()
    async with sessions() as session:
        channel = (await session.execute(select(User).where(User.external_id == CHANNEL))).one()[0]
    # Known now, but no daily briefs until someone subscribes the channel.
    assert (channel.kind, channel.paused) == ("channel", True)


async def test_commands_in_a_channel(stack: Stack, sessions: Sessions) -> None:
    fake = stack.fake
    await stack.slack.command("brief", channel=CHANNEL)
    await fake.wait_for(lambda: len(fake.messages) >= 1 and len(fake.responses) >= 1)
    assert fake.messages[0].channel == DM  # the person's brief goes to their DM
    assert fake.responses[0]["response_type"] == "ephemeral"
    assert fake.in_channel(CHANNEL) == []

    await stack.slack.command("follow  Pricing &amp; growth", channel=CHANNEL)
    await fake.wait_for(lambda: len(fake.responses) >= 2)
    assert "Following" in fake.responses[1]["text"]
    async with sessions() as session:
        topics = set(await session.scalars(select(TopicPreference.topic)))
    assert any("growth" in topic for topic in topics)

    await stack.slack.command("", channel=CHANNEL)  # an empty command shows the help
    await fake.wait_for(lambda: len(fake.responses) >= 3)
    assert "What you can say" in fake.responses[2]["text"]

    await stack.slack.command("forget", channel=CHANNEL)  # asks first, only to the asker
    await fake.wait_for(lambda: len(fake.responses) >= 4)
    [question] = [b for b in fake.responses[3]["blocks"] if b["type"] == "actions"][:1]
    yes = next(e for e in question["elements"] if e["value"].startswith("confirm_forget"))
    await stack.slack.press(yes, channel=CHANNEL, message_ts=None, ephemeral=True)
    await fake.wait_for(lambda: len(fake.responses) >= 5)
    async with sessions() as session:
        assert (await session.execute(select(User).where(User.external_id == USER))).first() is None
    assert len(fake.in_channel(DM)) == 1 and fake.in_channel(CHANNEL) == []


async def test_a_thread_reply_refers_to_its_own_brief_not_the_latest(
    stack: Stack, clock: FakeClock
) -> None:
    old = await brief_in_dm(stack)
    clock.advance(timedelta(days=1))
    await stack.slack.command("brief", channel=DM)
    await stack.fake.wait_for(lambda: len(stack.fake.in_channel(DM)) >= 2)
    new = stack.fake.in_channel(DM)[1]
    assert quote_of(new, 2) != quote_of(old, 2)
    event = {
        "type": "message", "channel": DM, "channel_type": "im", "user": USER,
        "text": "where is #2 from?", "ts": "1700000300.000001", "thread_ts": old.ts,
    }  # fmt: skip
    await stack.slack.event(event)
    await stack.fake.wait_for(lambda: len(stack.fake.in_channel(DM, old.ts)) >= 1)
    assert quote_of(old, 2) in stack.fake.in_channel(DM, old.ts)[0].block_text()


def quote_of(brief: Posted, position: int) -> str:
    card = next(b["text"]["text"] for b in brief.blocks if f"*#{position} " in str(b.get("text")))
    headline = card.split("*")[1].removeprefix(f"#{position} ")
    return next(q for _, h, _, q, *_ in INSIGHTS if h == headline)


async def test_a_file_in_the_dm_gets_words_and_an_edit_is_ignored(stack: Stack) -> None:
    base = {"type": "message", "channel": DM, "channel_type": "im", "user": USER}
    await stack.slack.event({**base, "subtype": "message_changed", "text": "brief",
                             "ts": "1700000700.000001"})  # fmt: skip
    await stack.slack.event({**base, "subtype": "file_share", "text": "",
                             "files": [{"id": "F1"}], "ts": "1700000700.000002"})  # fmt: skip
    await stack.fake.wait_for(lambda: len(stack.fake.messages) >= 1)
    [answer] = stack.fake.messages
    assert "didn't get that" in answer.text and "help" in answer.text
