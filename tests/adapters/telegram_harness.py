"""Runs the real Telegram side (PTB Application, real engine, real DB) against the emulator."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from telegram import Update
from telegram.ext import TypeHandler

from adapters.telegram.app import TelegramConfig, TelegramService
from adapters.telegram.limits import RateLimits
from core.chat.engine import ConversationEngine
from core.db import Sessions, create_engine, migrate, session_factory, transaction
from core.delivery.paid import PaidBroadcast
from core.insights.related import RelatedConfig, link_new_insights
from core.models import RelatedEdge
from core.ports import Clock, Embedder
from tests.fakes.chat_library import Library, build_library
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import Sent, TelegramApiEmulator
from tests.http_server import serve

# Telegram's real pacing (1 message a second per chat) would make every test slow; the limits
# themselves are tested with their own small numbers.
FAST = RateLimits(
    per_chat_per_second=1000, group_max=1000, group_period_seconds=1, network_backoff_seconds=0.01
)


class Harness:
    """The running bot; ``say`` and ``press`` wait until the bot has fully handled the update."""

    def __init__(
        self, api: TelegramApiEmulator, service: TelegramService, engine: ConversationEngine
    ) -> None:
        self.api, self.service, self.engine = api, service, engine
        self.processed: set[int] = set()
        self._changed = asyncio.Condition()
        # PTB runs handler groups in order: this one sees an update after ours are done with it.
        service.application.add_handler(TypeHandler(Update, self._observe), group=99)

    async def _observe(self, update: Update, context: object) -> None:
        async with self._changed:
            self.processed.add(update.update_id)
            self._changed.notify_all()

    async def handled(self, update_id: int, within: float = 15.0) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: update_id in self.processed)

    async def say(self, chat_id: int, text: str, **extra: object) -> list[Sent]:
        """Send ``text``; the messages the bot answered with."""
        before = len(self.api.messages_to(chat_id))
        await self.api.send_text(chat_id, text, **extra)  # type: ignore[arg-type]
        await self.handled(self.api.last_update_id)
        return self.api.messages_to(chat_id)[before:]

    async def press(
        self, chat_id: int, message: Sent, label: str, *, from_id: int | None = None
    ) -> tuple[dict[str, object], list[Sent]]:
        """Press the button whose label contains ``label``; the toast and new messages."""
        data = message.button(label)["callback_data"]
        return await self.press_data(chat_id, message, data, from_id=from_id)

    async def press_data(
        self, chat_id: int, message: Sent, data: str, *, from_id: int | None = None
    ) -> tuple[dict[str, object], list[Sent]]:
        before = len(self.api.messages_to(chat_id))
        query = await self.api.press(chat_id, message.message_id, data, from_id=from_id)
        await self.handled(self.api.last_update_id)
        return self.api.answers[query], self.api.messages_to(chat_id)[before:]


@asynccontextmanager
async def running_bot(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    embedder: Embedder,
    *,
    webhook: bool = False,
    limits: RateLimits = FAST,
    read_timeout: float = 10.0,
    paid: PaidBroadcast | None = None,
    api: TelegramApiEmulator | None = None,
) -> AsyncIterator[Harness]:
    api = api or TelegramApiEmulator()
    engine = ConversationEngine(sessions, clock, embedder=embedder)
    async with serve(api.app()) as url, _webhook_server(webhook) as (webhook_url, app):
        config = TelegramConfig(
            token=api.token,
            base_url=api.base_url(url),
            webhook_url=webhook_url,
            poll_timeout_seconds=5,
            read_timeout_seconds=read_timeout,
            limits=limits,
        )
        service = TelegramService(config, engine, sessions, paid)
        if app is not None:
            for route in service.routes():
                app.router.routes.append(route)
        await service.start()
        try:
            yield Harness(api, service, engine)
        finally:
            await service.stop()
            await api.close()


@asynccontextmanager
async def _webhook_server(enabled: bool) -> AsyncIterator[tuple[str, Starlette | None]]:
    """The shared ASGI server `podbrief run` would start, on a free loopback port."""
    if not enabled:
        yield "", None
        return
    app = Starlette()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections queue until uvicorn accepts them: no start-up race
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}/telegram/webhook", app
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture(name="tg_sessions")
async def tg_sessions_fixture(tmp_path: Path) -> AsyncIterator[Sessions]:
    engine = create_engine(f"sqlite:///{tmp_path / 'telegram.sqlite3'}")
    await migrate(engine)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture(name="library")
async def library_fixture(tg_sessions: Sessions, clock: FakeClock) -> Library:
    """The shared chat library, with related edges computed by the real related-insight code."""
    lib = await build_library(tg_sessions, clock.now())
    async with transaction(tg_sessions) as session:
        await session.execute(delete(RelatedEdge))
        await link_new_insights(
            session, lib.insight_ids, lib.embedder.name, RelatedConfig(min_similarity=-1.0)
        )
    return lib


@pytest.fixture(name="bot")
async def bot_fixture(
    tg_sessions: Sessions, clock: FakeClock, library: Library
) -> AsyncIterator[Harness]:
    async with running_bot(tg_sessions, clock, library.embedder) as harness:
        yield harness
