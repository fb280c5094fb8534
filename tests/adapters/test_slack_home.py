"""App Home: a person's settings as Block Kit inputs, each change saved at once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import Sessions, transaction
from core.models import Feed, ShowSubscription, TopicPreference, User
from core.people import users as people
from core.topics.normalise import normalise_topic
from tests.fakes.clock import FakeClock
from tests.fakes.slack_harness import USER, Stack, slack_stack

DM = "D" + USER[1:]


@pytest.fixture
async def stack(sessions: Sessions, engine: AsyncEngine, clock: FakeClock) -> AsyncIterator[Stack]:
    async with slack_stack(sessions, engine, clock) as built:
        yield built


async def open_home(stack: Stack) -> dict[str, Any]:
    before = len(stack.fake.views)
    event = {"type": "app_home_opened", "user": USER, "channel": DM, "tab": "home"}
    await stack.slack.event(event)
    await stack.fake.wait_for(lambda: len(stack.fake.views) > before)
    return stack.fake.views[-1]


async def change(stack: Stack, action: dict[str, Any]) -> dict[str, Any]:
    before = len(stack.fake.views)
    await stack.slack.press(action, channel=None, message_ts=None)
    await stack.fake.wait_for(lambda: len(stack.fake.views) > before)
    return stack.fake.views[-1]


def element(view: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in view["view"]["blocks"]:
        for candidate in [*block.get("elements", []), block.get("element") or {}]:
            if candidate.get("action_id") == action_id:
                return dict(candidate)
    raise KeyError(action_id)


async def ada(sessions: Sessions) -> User:
    async with sessions() as session:
        return (await session.execute(select(User).where(User.external_id == USER))).scalar_one()


async def test_home_shows_the_settings_and_saves_each_change(
    stack: Stack, sessions: Sessions
) -> None:
    home = await open_home(stack)
    assert home["user_id"] == USER and home["view"]["type"] == "home"
    assert element(home, "home:time")["initial_time"] == "08:00"
    assert element(home, "home:timezone")["initial_value"] == "Europe/Berlin"  # users.info
    assert "No brief yet" in json.dumps(home)

    view = await change(stack, {"action_id": "home:time", "type": "timepicker",
                                "selected_time": "09:30"})  # fmt: skip
    assert (await ada(sessions)).delivery_time == "09:30"
    assert element(view, "home:time")["initial_time"] == "09:30"
    assert "Delivery time saved: 09:30." in json.dumps(view)

    weekdays = {"value": "weekdays", "text": {"type": "plain_text", "text": "Weekdays only"}}
    await change(stack, {"action_id": "home:days", "type": "static_select",
                         "selected_option": weekdays})  # fmt: skip
    assert (await ada(sessions)).delivery_days == "weekdays"

    view = await change(stack, {"action_id": "home:timezone", "type": "plain_text_input",
                                "value": "Mars/Olympus_Mons"})  # fmt: skip
    assert "Not saved" in json.dumps(view)
    assert (await ada(sessions)).timezone == "Europe/Berlin"  # nothing lost
    await change(stack, {"action_id": "home:timezone", "type": "plain_text_input",
                         "value": "America/New_York"})  # fmt: skip
    assert (await ada(sessions)).timezone == "America/New_York"

    await change(stack, {"action_id": "home:pause", "type": "button", "value": "pause"})
    assert (await ada(sessions)).paused


async def test_topics_and_shows_are_multi_selects(stack: Stack, sessions: Sessions) -> None:
    home = await open_home(stack)
    topic_values = {o["value"] for o in element(home, "home:topics")["options"]}
    assert {"pricing", "ai", "crypto"} <= topic_values  # topics the library knows

    def chosen(*values: str) -> list[dict[str, Any]]:
        return [{"value": v, "text": {"type": "plain_text", "text": v}} for v in values]

    await change(stack, {"action_id": "home:topics", "type": "multi_static_select",
                         "selected_options": chosen("pricing", "ai")})  # fmt: skip
    view = await change(stack, {"action_id": "home:topics", "type": "multi_static_select",
                                "selected_options": chosen("ai")})  # fmt: skip
    async with sessions() as session:
        prefs = {(p.topic, p.mode) for p in await session.scalars(select(TopicPreference))}
    assert prefs == {("ai", "follow")}
    assert [o["value"] for o in element(view, "home:topics")["initial_options"]] == ["ai"]

    await change(stack, {"action_id": "home:add_topic", "type": "plain_text_input",
                         "value": "Databases"})  # fmt: skip
    await change(stack, {"action_id": "home:muted", "type": "multi_static_select",
                         "selected_options": chosen("crypto")})  # fmt: skip
    async with sessions() as session:
        prefs = {(p.topic, p.mode) for p in await session.scalars(select(TopicPreference))}
    assert prefs == {("ai", "follow"), (normalise_topic("Databases"), "follow"), ("crypto", "mute")}

    feed_id = stack.lib.feed_ids["f2"]
    await change(stack, {"action_id": "home:shows", "type": "multi_static_select",
                         "selected_options": chosen(str(feed_id))})  # fmt: skip
    async with sessions() as session:
        subscribed = set(await session.scalars(select(ShowSubscription.feed_id)))
    assert subscribed == {feed_id}


async def test_home_shows_the_last_brief_and_its_buttons_answer_in_the_dm(
    stack: Stack,
) -> None:
    await stack.slack.command("brief", channel=DM)
    await stack.fake.wait_for(lambda: len(stack.fake.messages) >= 1)
    home = await open_home(stack)
    text = json.dumps(home, ensure_ascii=False)
    assert "Your last brief" in text and "*#5 " in text
    related = next(
        e for b in home["view"]["blocks"] if b["type"] == "actions"
        for e in b["elements"] if (e.get("text") or {}).get("text") == "Related"
    )  # fmt: skip
    await stack.slack.press(related, channel=None, message_ts=None)
    await stack.fake.wait_for(lambda: len(stack.fake.messages) >= 2)
    assert stack.fake.messages[1].channel == DM


async def test_a_long_show_list_keeps_subscriptions_and_ignores_forged_values(
    stack: Stack, sessions: Sessions
) -> None:
    async with transaction(sessions) as session:
        extra = [Feed(url=f"https://many.example/{n}.xml", title=f"Show {n:03d}")
                 for n in range(120)]  # fmt: skip
        session.add_all(extra)
    last = extra[-1].id  # "Show 119": far beyond Slack's 100 options in title order
    await open_home(stack)
    await people.follow_show(sessions, (await ada(sessions)).id, last)
    home = await open_home(stack)
    shows = element(home, "home:shows")
    assert len(shows["options"]) == 100
    assert [o["value"] for o in shows["initial_options"]] == [str(last)]

    def chosen(*values: str) -> list[dict[str, Any]]:
        return [{"value": v, "text": {"type": "plain_text", "text": v}} for v in values]

    other = stack.lib.feed_ids["f2"]
    picked = chosen(str(last), str(other), "999999", "x")  # the last two were never offered
    await change(stack, {"action_id": "home:shows", "type": "multi_static_select",
                         "selected_options": picked})  # fmt: skip
    async with sessions() as session:
        subscribed = set(await session.scalars(select(ShowSubscription.feed_id)))
    assert subscribed == {last, other}
