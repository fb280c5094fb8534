"""Bad input over HTTP: a signed body Bolt cannot parse gets a 400 saying what is wrong (Bolt
alone answers 500 with a traceback), and a button that is not ours gets a polite word."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import Sessions
from core.models import User
from tests.fakes.clock import FakeClock
from tests.fakes.slack_harness import TEAM, USER, Stack, slack_stack

JSON, FORM = "application/json", "application/x-www-form-urlencoded"
DM = "D" + USER[1:]


@pytest.fixture
async def stack(sessions: Sessions, engine: AsyncEngine, clock: FakeClock) -> AsyncIterator[Stack]:
    async with slack_stack(sessions, engine, clock) as built:
        yield built


def form_payload(payload: object) -> str:
    return urlencode({"payload": json.dumps(payload)})


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        ("not json", JSON, "the body is not JSON"),
        ("[1, 2]", JSON, "must be a JSON object"),
        ('{"type": "event_callback", "event": "x"}', JSON, "'event' must be an object"),
        ("payload=not-json", FORM, "the 'payload' field is not JSON"),
        (form_payload({"type": "block_actions", "actions": ["x"]}), FORM, "list of objects"),
        (form_payload({"type": "block_actions", "actions": [{"action_id": "podbrief:x:1"}]}),
         FORM, "needs user.id"),
        ("command=%2Fpodbrief&text=brief", FORM, "needs user_id and team_id"),
    ],
)  # fmt: skip
async def test_a_malformed_signed_body_gets_a_400_in_plain_words(
    stack: Stack, sessions: Sessions, body: str, content_type: str, says: str
) -> None:
    response = await stack.slack.send(body, content_type)
    assert response.status_code == 400
    assert says in response.text
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
    assert stack.fake.messages == [] and stack.fake.responses == []


async def test_a_button_that_is_not_ours_is_answered_politely(stack: Stack) -> None:
    stranger = {"type": "button", "action_id": "legacy_vote", "value": "1",
                "text": {"type": "plain_text", "text": "Vote"}}  # fmt: skip
    response = await stack.slack.press(stranger, channel=DM, message_ts="1700000000.000001")
    assert response.status_code == 200  # acknowledged: Slack shows no error icon
    await stack.fake.wait_for(lambda: len(stack.fake.responses) >= 1)
    assert "isn't one I recognise" in stack.fake.responses[0]["text"]
    assert stack.fake.responses[0]["response_type"] == "ephemeral"


async def test_the_bot_still_answers_after_bad_input(stack: Stack) -> None:
    await stack.slack.send("not json", JSON)
    assert (await stack.slack.command("help", channel=DM, team=TEAM)).status_code == 200
    await stack.fake.wait_for(lambda: len(stack.fake.in_channel(DM)) >= 1)
