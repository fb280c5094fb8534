"""The one place where core is wired to adapters, from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.http_fetch import HttpFetcher
from bot.settings import Secrets, Settings, load_settings
from core.clock import SystemClock
from core.db import create_engine, migrate, session_factory
from core.ports import Clock, Embedder, InsightExtractor

if TYPE_CHECKING:
    from core.chat.engine import ConversationEngine


@dataclass
class Services:
    settings: Settings
    secrets: Secrets
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    # Pooled HTTP for feeds and transcripts; clients open lazily on first fetch.
    fetcher: HttpFetcher = field(default_factory=HttpFetcher)

    async def aclose(self) -> None:
        await self.fetcher.aclose()
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
        fetcher=fetcher_from_settings(settings),
    )


def fetcher_from_settings(settings: Settings) -> HttpFetcher:
    return HttpFetcher(
        timeout=settings.fetch_timeout_seconds,
        max_bytes=settings.max_feed_bytes,
        max_redirects=settings.max_redirects,
        max_connections=settings.fetch_concurrency,
        allowlist=settings.url_allowlist,
    )


def build_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name; "auto" is the offline WordLlama one for now."""
    from core.embeddings import LsaEmbedder, WordLlamaEmbedder

    if settings.embedder in {"auto", "wordllama"}:
        return WordLlamaEmbedder()
    if settings.embedder == "lsa":
        # Without a corpus LSA fits on the first texts it embeds (see core/embeddings/lsa.py).
        return LsaEmbedder()
    raise ValueError(f"embedder {settings.embedder!r} is not available: use wordllama or lsa")


def build_extractor(settings: Settings) -> InsightExtractor:
    """The insight extractor the settings name; "auto" is the offline one for now."""
    from core.insights.offline import OfflineInsightExtractor

    if settings.extractor in {"auto", "offline"}:
        return OfflineInsightExtractor()
    raise ValueError(f"extractor {settings.extractor!r} is not available: use offline")


def build_engine(services: Services, *, embedder: Embedder | None = None) -> ConversationEngine:
    """The conversation engine every chat platform (and the console) talks to."""
    from core.chat.engine import ConversationEngine

    return ConversationEngine(
        services.sessions,
        services.clock,
        embedder=embedder or build_embedder(services.settings),
        fetcher=services.fetcher,
    )
