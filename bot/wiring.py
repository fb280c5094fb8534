"""The one place where core is wired to adapters, from settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Secrets, Settings, load_settings
from core.clock import SystemClock
from core.db import create_engine, migrate, session_factory
from core.ports import Clock


@dataclass
class Services:
    settings: Settings
    secrets: Secrets
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock

    async def aclose(self) -> None:
        await self.engine.dispose()


async def open_services(
    settings: Settings | None = None,
    secrets: Secrets | None = None,
    clock: Clock | None = None,
) -> Services:
    """Connect to the database and apply pending migrations (every start does)."""
    settings = settings or load_settings()
    secrets = secrets or Secrets()
    if not settings.database_url:
        settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url)
    await migrate(engine)
    return Services(
        settings=settings,
        secrets=secrets,
        engine=engine,
        sessions=session_factory(engine),
        clock=clock or SystemClock(),
    )
