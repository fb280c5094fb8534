"""Onboarding in a Slack DM: welcome with topic buttons, Done brings the first brief at once,
as its own message (not hidden in the welcome's thread), its buttons answering in its thread."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import Sessions
from core.models import TopicPreference
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import Posted
from tests.fakes.slack_harness import USER, Stack, slack_stack

DM = "D" + USER[1:]


@pytest.fixture
async def stack(sessions: Sessions, engine: AsyncEngine, clock: FakeClock) -> AsyncIterator[Stack]:
    async with slack_stack(sessions, engine, clock) as built:
        yield built


def labelled(message: Posted, label: str) -> dict[str, object]:
    return next(b for b in message.buttons() if b["text"]["text"] == label)


async def test_start_topic_done_gives_the_first_brief_with_working_buttons(
    stack: Stack, sessions: Sessions
) -> None:
    fake, slack = stack.fake, stack.slack
    await slack.event(
        {"type": "message", "channel": DM, "channel_type": "im", "user": USER, "text": "start",
         "ts": "1700000500.000001"}
    )  # fmt: skip
    await fake.wait_for(lambda: len(fake.in_channel(DM)) >= 1)
    welcome = fake.in_channel(DM)[0]
    assert "Welcome to podbrief" in welcome.block_text()
    topic = labelled(welcome, "pricing")
    await slack.press(topic, channel=DM, message_ts=welcome.ts)
    await fake.wait_for(lambda: len(fake.messages) >= 2)
    async with sessions() as session:
        assert "pricing" in set(await session.scalars(select(TopicPreference.topic)))

    await slack.press(labelled(welcome, "Done"), channel=DM, message_ts=welcome.ts)
    await fake.wait_for(lambda: len(fake.in_channel(DM)) >= 2)
    brief = fake.in_channel(DM)[1]  # in the DM itself, where the person sees it
    kinds = [block["type"] for block in brief.blocks]
    assert kinds[:2] == ["section", "header"]  # the intro words, then the brief's heading
    assert "All set" in brief.blocks[0]["text"]["text"]
    assert len(brief.blocks) <= 50 and "All set" in brief.text  # the plain-text fallback too
    assert [b["text"]["text"] for b in brief.buttons()] == ["Related", "Source", "👍", "👎"] * 5

    await slack.press(labelled(brief, "Related"), channel=DM, message_ts=brief.ts)
    await fake.wait_for(lambda: len(fake.in_channel(DM, brief.ts)) >= 1)
    assert "Related to" in fake.in_channel(DM, brief.ts)[0].block_text()
    # A reply in the brief's thread refers to that brief.
    await slack.event(
        {"type": "message", "channel": DM, "channel_type": "im", "user": USER,
         "text": "source #1", "ts": "1700000500.000002", "thread_ts": brief.ts}
    )  # fmt: skip
    await fake.wait_for(lambda: len(fake.in_channel(DM, brief.ts)) >= 2)
    first_headline = brief.blocks[3]["text"]["text"].split("*")[1].removeprefix("#1 ")
    assert first_headline[:40] in fake.in_channel(DM, brief.ts)[1].block_text()
