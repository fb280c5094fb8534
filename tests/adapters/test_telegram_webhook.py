"""Webhook mode: Telegram POSTs updates to the shared HTTP server; the secret token is checked
on every request, and the same conversation works as with long polling."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.telegram.app import TelegramConfig, TelegramConfigError, TelegramService
from core.chat.engine import ConversationEngine
from core.db import (
    Sessions,
)
from tests.adapters.telegram_harness import (  # noqa: F401 (fixtures)
    Harness,
    library_fixture,
    running_bot,
    tg_sessions_fixture,
)
from tests.fakes.chat_library import Library
from tests.fakes.clock import FakeClock

ADA = 5001


@pytest.fixture
async def hooked(
    tg_sessions: Sessions, clock: FakeClock, library: Library
) -> AsyncIterator[Harness]:
    async with running_bot(tg_sessions, clock, library.embedder, webhook=True) as harness:
        yield harness


async def test_updates_arrive_by_webhook_with_the_secret(hooked: Harness) -> None:
    api = hooked.api
    assert api.webhook_url.endswith("/telegram/webhook")
    assert api.webhook_secret and len(api.webhook_secret) >= 32
    assert api.called("getUpdates") == []
    welcome = await hooked.say(ADA, "/start")
    assert "Welcome" in welcome[0].visible_text
    _, brief = await hooked.press(ADA, welcome[0], "Done")  # the first brief comes at once
    assert len([m for m in brief if "<blockquote>" in m.text]) == 5
    assert api.webhook_statuses and set(api.webhook_statuses) == {200}


@pytest.mark.parametrize(
    ("headers", "body", "status", "says"),
    [
        ({}, '{"update_id": 1}', 403, "secret token"),
        ({"X-Telegram-Bot-Api-Secret-Token": "guess"}, '{"update_id": 1}', 403, "secret token"),
        (None, "not json at all", 400, "not JSON"),
        (None, "\udcff", 400, "not JSON"),
        (None, "null", 400, "integer update_id"),
        (None, "[1, 2]", 400, "integer update_id"),
        (None, '{"update_id": "7"}', 400, "integer update_id"),
        (None, '{"update_id": 7, "message": {"message_id": 1}}', 400, "not a Telegram update"),
    ],
)
async def test_requests_without_the_right_secret_or_body_are_refused(
    hooked: Harness, headers: dict[str, str] | None, body: str, status: int, says: str
) -> None:
    secret = {"X-Telegram-Bot-Api-Secret-Token": hooked.api.webhook_secret or ""}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            hooked.api.webhook_url,
            headers=secret if headers is None else headers,
            data=body.encode("utf-8", "surrogateescape"),
        ) as response,
    ):
        assert response.status == status
        assert says in await response.text()
    # Nothing reached the bot: it answered nobody.
    assert hooked.api.sent == []


@pytest.mark.parametrize(
    ("configured", "path", "target"),
    [
        (
            "https://bot.example.com",
            "/telegram/webhook",
            "https://bot.example.com/telegram/webhook",
        ),
        (
            "https://bot.example.com/",
            "/telegram/webhook",
            "https://bot.example.com/telegram/webhook",
        ),
        ("https://bot.example.com/tg/hook", "/tg/hook", "https://bot.example.com/tg/hook"),
    ],
)
def test_the_webhook_url_telegram_gets_reaches_the_route_served(
    tg_sessions: Sessions, clock: FakeClock, configured: str, path: str, target: str
) -> None:
    config = TelegramConfig(token="1:TOKEN", webhook_url=configured)
    service = TelegramService(config, ConversationEngine(tg_sessions, clock), tg_sessions)
    assert service.webhook_path == path and service.webhook_target == target
    assert [getattr(route, "path", "") for route in service.routes()] == [path]


@pytest.mark.parametrize(
    "configured", ["bot.example.com/telegram", "ftp://bot.example.com/x", "https://"]
)
def test_a_webhook_url_that_is_not_a_url_is_refused_in_plain_words(
    tg_sessions: Sessions, clock: FakeClock, configured: str
) -> None:
    config = TelegramConfig(token="1:TOKEN", webhook_url=configured)
    with pytest.raises(TelegramConfigError, match="must be a full https:// URL"):
        TelegramService(config, ConversationEngine(tg_sessions, clock), tg_sessions)
