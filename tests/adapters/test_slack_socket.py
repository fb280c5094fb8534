"""Socket Mode: the app connects out over a WebSocket and acknowledges each envelope."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.app import SlackComponent, SlackConfigError
from core.db import Sessions
from tests.fakes.clock import FakeClock
from tests.fakes.slack_harness import TEAM, USER, slack_stack

DM = "D" + USER[1:]


async def test_socket_mode_answers_the_slash_command_and_dms(
    sessions: Sessions, engine: AsyncEngine, clock: FakeClock
) -> None:
    async with slack_stack(sessions, engine, clock, socket_mode=True) as stack:
        assert stack.bot.routes() == []  # nothing to serve: Slack is reached over the socket
        component = SlackComponent(stack.bot, sessions)
        await component.start()
        try:
            fake = stack.fake
            await fake.wait_for(lambda: fake.socket_connected)
            command = dict(parse_qsl(stack.slack.command_body("brief", channel=DM)))
            envelope = await fake.send_envelope("slash_commands", command)
            await fake.wait_for(lambda: any(a["envelope_id"] == envelope for a in fake.socket_acks))
            await fake.wait_for(lambda: len(fake.in_channel(DM)) >= 1)
            brief = fake.in_channel(DM)[0]
            assert len([b for b in brief.buttons() if b["text"]["text"] == "Related"]) == 5

            event = {
                "type": "message", "channel": DM, "channel_type": "im", "user": USER,
                "text": "source 1", "ts": "1700000400.000001", "thread_ts": brief.ts,
            }  # fmt: skip
            callback = {"type": "event_callback", "team_id": TEAM, "event": event,
                        "event_id": "Ev1", "api_app_id": "A0PODBRIEF"}  # fmt: skip
            await fake.send_envelope("events_api", callback)
            await fake.wait_for(lambda: len(fake.in_channel(DM, brief.ts)) >= 1)
        finally:
            await component.stop()
        await fake.wait_for(lambda: not fake.socket_connected)


async def test_a_refused_app_token_stops_the_start(
    sessions: Sessions, engine: AsyncEngine, clock: FakeClock
) -> None:
    async with slack_stack(
        sessions, engine, clock, socket_mode=True, app_token="xapp-wrong"
    ) as stack:
        with pytest.raises(SlackConfigError, match=r"SLACK_APP_TOKEN \(invalid_auth\)"):
            await SlackComponent(stack.bot, sessions).start()
