"""Slack's side of the wire for tests: signed requests to our Bolt app served over HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from adapters.slack.app import SlackBot, SlackConfig, build_slack_bot
from core.chat.engine import ConversationEngine
from tests.fakes.chat_library import Library, build_library
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack
from tests.http_server import serve

SIGNING_SECRET = "test-signing-secret-0123456789"
TEAM = "T0TEAM"
USER = "U0ADA"
BOT_TOKEN = "xoxb-test-token"


class RecordingSleep:
    """Stands in for asyncio.sleep: records the wait and returns at once (no real sleeping)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@asynccontextmanager
async def serve_routes(routes: list[BaseRoute]) -> AsyncIterator[str]:
    """The routes on a real uvicorn server on 127.0.0.1, as `podbrief run` serves them."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections queue here until uvicorn accepts: no start-up race
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=routes), log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class SlackSide:
    """Sends what Slack would send to /slack/events, signed like Slack signs it."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, respond_url: str) -> None:
        self.http = http
        self.base_url = base_url
        self.respond_url = respond_url
        self._ids = 0

    async def send(
        self,
        body: str,
        content_type: str,
        *,
        secret: str | None = SIGNING_SECRET,
        timestamp: int | None = None,
    ) -> httpx.Response:
        headers = {"Content-Type": content_type}
        if secret is not None:
            ts = str(int(time.time()) if timestamp is None else timestamp)
            signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
            headers |= {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
        return await self.http.post(f"{self.base_url}/slack/events", content=body, headers=headers)

    def _next(self) -> str:
        self._ids += 1
        return str(self._ids)

    def command_body(
        self, text: str, *, user: str = USER, channel: str = "D0ADA", team: str = TEAM
    ) -> str:
        return urlencode({
            "token": "legacy", "team_id": team, "team_domain": "test", "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else "general",
            "user_id": user, "user_name": "ada", "command": "/podbrief", "text": text,
            "api_app_id": "A0PODBRIEF", "trigger_id": "trigger." + self._next(),
            "response_url": f"{self.respond_url}/respond/{self._next()}",
        })  # fmt: skip

    async def command(self, text: str, **kwargs: str) -> httpx.Response:
        body = self.command_body(text, **kwargs)
        return await self.send(body, "application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any], *, team: str = TEAM) -> httpx.Response:
        body = {
            "token": "legacy", "team_id": team, "api_app_id": "A0PODBRIEF", "event": event,
            "type": "event_callback", "event_id": "Ev" + self._next(),
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}],
        }  # fmt: skip
        return await self.send(json.dumps(body), "application/json")

    async def press(
        self,
        button: dict[str, Any],
        *,
        channel: str | None,
        message_ts: str | None,
        thread_ts: str | None = None,
        user: str = USER,
        team: str = TEAM,
        ephemeral: bool = False,
    ) -> httpx.Response:
        """Press a button from a posted message (``channel``) or the App Home (None)."""
        container: dict[str, Any] = (
            {"type": "message", "message_ts": message_ts, "channel_id": channel,
             "is_ephemeral": ephemeral}
            if channel else {"type": "view", "view_id": "V1"}
        )  # fmt: skip
        if thread_ts:
            container["thread_ts"] = thread_ts
        action = {**button, "block_id": "b1", "action_ts": f"{time.time():.6f}"}
        payload: dict[str, Any] = {
            "type": "block_actions", "team": {"id": team, "domain": "test"},
            "user": {"id": user, "team_id": team}, "api_app_id": "A0PODBRIEF",
            "container": container, "trigger_id": "trigger." + self._next(),
            "actions": [action], "response_url": f"{self.respond_url}/respond/{self._next()}",
        }  # fmt: skip
        if channel:
            payload["channel"] = {"id": channel}
        if channel and not ephemeral:  # Slack sends no message for an ephemeral one
            payload["message"] = {"ts": message_ts, "thread_ts": thread_ts, "type": "message"}
        else:
            payload["view"] = {"id": "V1", "type": "home", "team_id": team}
        body = urlencode({"payload": json.dumps(payload)})
        return await self.send(body, "application/x-www-form-urlencoded")


@dataclass
class Stack:
    """Fake Slack, our Bolt app served over HTTP, the real engine on a seeded library."""

    fake: FakeSlack
    slack: SlackSide
    bot: SlackBot
    sleep: RecordingSleep
    lib: Library
    conversation: ConversationEngine
    base_url: str


@asynccontextmanager
async def slack_stack(
    sessions: async_sessionmaker[AsyncSession],
    db_engine: AsyncEngine,
    clock: FakeClock,
    *,
    oauth: bool = False,
    socket_mode: bool = False,
    app_token: str | None = None,
) -> AsyncIterator[Stack]:
    fake = FakeSlack()
    fake.add_user(USER, tz="Europe/Berlin", name="Ada")
    if not oauth:
        fake.add_workspace(TEAM, BOT_TOKEN)
    lib = await build_library(sessions, clock.now())
    conversation = ConversationEngine(sessions, clock, embedder=lib.embedder)
    sleep = RecordingSleep()
    async with serve(fake.app()) as api_url:
        fake.base_url = api_url
        config = SlackConfig(
            bot_token=None if oauth else BOT_TOKEN,
            app_token=(app_token or fake.app_token) if socket_mode else None,
            signing_secret=None if socket_mode else SIGNING_SECRET,
            client_id=fake.client_id if oauth else None,
            client_secret=fake.client_secret if oauth else None,
            api_url=f"{api_url}/api/",
        )
        bot = build_slack_bot(config, conversation, sessions, db_engine, sleep=sleep)
        async with serve_routes(bot.routes()) as base_url, httpx.AsyncClient() as http:
            side = SlackSide(http, base_url, api_url)
            yield Stack(fake, side, bot, sleep, lib, conversation, base_url)
