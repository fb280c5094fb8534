"""The public pages served over loopback HTTP from a real database with the chat library."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.web.app import WebApp
from bot.runtime import listening_socket, serving_on
from core.web.pages import WebPages
from tests.fakes.chat_library import Library, build_library
from tests.fakes.clock import FakeClock

PUBLIC_URL = "https://brief.example.org"


@dataclass
class Site:
    client: httpx.AsyncClient
    base: str  # where the loopback server listens
    lib: Library
    sessions: async_sessionmaker[AsyncSession]
    clock: FakeClock

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path)


@pytest.fixture
async def site(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> AsyncIterator[Site]:
    lib = await build_library(sessions, clock.now())
    app = WebApp(WebPages(engine, clock, embedder=lib.embedder), PUBLIC_URL)
    sock = listening_socket("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with (
        serving_on(app.routes(), sock, front=app),
        httpx.AsyncClient(base_url=base, timeout=10) as client,
    ):
        yield Site(client, base, lib, sessions, clock)
