"""Slack over HTTP: signed requests to the served Bolt app, Web API calls to a fake Slack."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import Sessions
from core.models import User
from tests.fakes.chat_library import INSIGHTS, related_in_library
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import Posted
from tests.fakes.slack_harness import TEAM, USER, Stack, slack_stack

DM = "D" + USER[1:]  # where the fake puts messages posted to the user id


@pytest.fixture
async def stack(sessions: Sessions, engine: AsyncEngine, clock: FakeClock) -> AsyncIterator[Stack]:
    async with slack_stack(sessions, engine, clock) as built:
        yield built


def cards_in(message: Posted) -> list[str]:
    """The "#N headline" lines of a posted brief."""
    lines = []
    for block in message.blocks:
        text = (block.get("text") or {}).get("text", "")
        if block["type"] == "section" and text.startswith("*#"):
            lines.append(text.split("*")[1])
    return lines


def button(message: Posted, label: str, index: int = 0) -> dict[str, object]:
    matching = [b for b in message.buttons() if b["text"]["text"] == label]
    return matching[index]


async def test_unsigned_wrongly_signed_and_stale_requests_are_rejected(stack: Stack) -> None:
    body = stack.slack.command_body("brief")
    form = "application/x-www-form-urlencoded"
    assert (await stack.slack.send(body, form, secret=None)).status_code == 401
    assert (await stack.slack.send(body, form, secret="not-the-secret")).status_code == 401
    stale = int(time.time()) - 10 * 60
    assert (await stack.slack.send(body, form, timestamp=stale)).status_code == 401
    assert stack.fake.calls_to("chat.postMessage") == []  # nothing reached the engine
    assert (await stack.slack.send(body, form)).status_code == 200


async def test_brief_from_a_new_user_and_related_answers_in_its_thread(
    stack: Stack, sessions: Sessions
) -> None:
    response = await stack.slack.command("brief", channel=DM)
    assert response.status_code == 200
    await stack.fake.wait_for(lambda: len(stack.fake.messages) >= 1)
    brief = stack.fake.messages[0]
    assert brief.channel == DM and brief.thread_ts is None
    assert [line.split(" ")[0] for line in cards_in(brief)] == ["#1", "#2", "#3", "#4", "#5"]
    assert len(brief.blocks) <= 50 and brief.text  # within limits, with a plain-text fallback
    labels = [b["text"]["text"] for b in brief.buttons()]
    assert labels == ["Related", "Source", "👍", "👎"] * 5
    async with sessions() as session:
        ada = (await session.execute(select(User).where(User.external_id == USER))).scalar_one()
    assert (ada.workspace, ada.timezone) == (TEAM, "Europe/Berlin")  # from users.info

    # Press Related on a card whose related insights come from other episodes.
    lib = stack.lib
    episode_of = {iid: INSIGHTS[i][0] for i, iid in enumerate(lib.insight_ids)}
    headline_of = {iid: INSIGHTS[i][1] for i, iid in enumerate(lib.insight_ids)}
    shown = [int(str(b["value"]).split("|")[1]) for b in brief.buttons()[::4]]
    card = next(
        iid for iid in shown
        if all(episode_of[r] != episode_of[iid] for r in related_in_library(lib, iid))
    )  # fmt: skip
    related_button = button(brief, "Related", shown.index(card))
    await stack.slack.press(related_button, channel=DM, message_ts=brief.ts)
    await stack.fake.wait_for(lambda: len(stack.fake.in_channel(DM, brief.ts)) >= 1)
    answer = stack.fake.in_channel(DM, brief.ts)[0]
    for related_id in related_in_library(lib, card):
        assert headline_of[related_id] in answer.block_text()
        assert episode_of[related_id] != episode_of[card]


async def test_slacks_url_verification_gets_its_challenge_back(stack: Stack) -> None:
    body = '{"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}'  # noqa: E501
    response = await stack.slack.send(body, "application/json")
    assert response.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.text
    unsigned = await stack.slack.send(body, "application/json", secret=None)
    assert unsigned.status_code == 401
