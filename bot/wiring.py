"""The one place where core is wired to adapters, from settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import typer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.http_fetch import HttpFetcher
from bot.settings import Secrets, Settings, load_settings
from core.clock import SystemClock
from core.db import create_engine, migrate, session_factory
from core.delivery.paid import PaidBroadcast, PaidBroadcastConfig
from core.delivery.ratelimit import SystemTimer
from core.feeds.store import PollPolicy
from core.ports import Clock, Embedder, InsightExtractor, VectorIndexFactory
from core.search.vectors import Progress, VectorLibrary

if TYPE_CHECKING:
    from adapters.openai_llm import OpenAILLM
    from adapters.openai_retry import RetryPolicy
    from core.chat.engine import ConversationEngine
    from core.ingest.pipeline import PipelineReport
    from core.llm.budget import LlmBudget
    from core.llm.extractor import LlmInsightExtractor
    from core.ports import Transcriber


class NotConfigured(typer.BadParameter, ValueError):
    """A setting asks for something the environment does not provide (e.g. an API key); the
    CLI prints the message as one plain error line."""


@dataclass
class Services:
    settings: Settings
    secrets: Secrets
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    # Pooled HTTP for feeds and transcripts; clients open lazily on first fetch.
    fetcher: HttpFetcher = field(default_factory=HttpFetcher)
    # Clients built on demand (the OpenAI ones) register how to close them here.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Vector indexes opened so far, by embedding model (see open_vector_library).
    vector_libraries: dict[str, VectorLibrary] = field(default_factory=dict)
    # Telegram's paid broadcasts, opt-in: one budget for the sender and the delivery pace.
    paid_broadcast: PaidBroadcast | None = None

    async def aclose(self) -> None:
        for close in self.closers:
            await close()
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
    clock = clock or SystemClock()
    return Services(
        settings=settings,
        secrets=secrets,
        engine=engine,
        sessions=session_factory(engine),
        clock=clock,
        fetcher=fetcher_from_settings(settings),
        paid_broadcast=paid_broadcast_from_settings(settings, clock),
    )


def paid_broadcast_from_settings(settings: Settings, clock: Clock) -> PaidBroadcast | None:
    if not settings.telegram_paid_broadcast:
        return None
    config = PaidBroadcastConfig(
        daily_stars=settings.telegram_paid_stars_per_day,
        paid_per_second=float(settings.telegram_paid_messages_per_second),
    )
    return PaidBroadcast(config, clock, SystemTimer())


def public_url_of(settings: Settings) -> str:
    """Where people reach the web pages, feeds and mail links, without a trailing slash."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = settings.http_host if settings.http_host not in {"", "0.0.0.0", "::"} else "127.0.0.1"
    return f"http://{host}:{settings.http_port}"


def policy_of(services: Services) -> PollPolicy:
    """When feeds are polled again, from the settings."""
    s = services.settings
    return PollPolicy(
        interval=timedelta(minutes=s.poll_interval_minutes),
        backoff_base=timedelta(minutes=s.backoff_base_minutes),
        backoff_max=timedelta(minutes=s.backoff_max_minutes),
    )


def fetcher_from_settings(settings: Settings) -> HttpFetcher:
    return HttpFetcher(
        timeout=settings.fetch_timeout_seconds,
        max_bytes=settings.max_feed_bytes,
        max_redirects=settings.max_redirects,
        max_connections=settings.fetch_concurrency,
        allowlist=settings.url_allowlist,
    )


def build_embedder(settings: Settings, services: Services | None = None) -> Embedder:
    """The embedder the settings name; "auto" is OpenAI's when OPENAI_API_KEY is set and
    ``services`` are given, else the offline WordLlama one."""
    from core.embeddings import LsaEmbedder, WordLlamaEmbedder

    if settings.embedder in {"auto", "openai"} and services is not None:
        remote = build_openai_embedder(services)
        if remote is not None:
            return remote
    if settings.embedder == "openai":
        raise NotConfigured('embedder "openai" needs OPENAI_API_KEY set in the environment')
    if settings.embedder in {"auto", "wordllama"}:
        return WordLlamaEmbedder()
    if settings.embedder == "lsa":
        # Without a corpus LSA fits on the first texts it embeds (see core/embeddings/lsa.py).
        return LsaEmbedder()
    raise NotConfigured(
        f"embedder {settings.embedder!r} is not available: use auto, wordllama, lsa or openai"
    )


def build_extractor(settings: Settings, services: Services | None = None) -> InsightExtractor:
    """The insight extractor the settings name; "auto" is the LLM one when OPENAI_API_KEY is set
    and ``services`` are given, else offline. Both go through the same insight service; the LLM
    one says ``TryLater`` when its budget is spent or its server is down."""
    from core.insights.offline import OfflineInsightExtractor

    if settings.extractor in {"auto", "llm"} and services is not None:
        llm_extractor = build_llm_extractor(services)
        if llm_extractor is not None:
            return llm_extractor
    if settings.extractor == "llm":
        raise NotConfigured('extractor "llm" needs OPENAI_API_KEY set in the environment')
    if settings.extractor in {"auto", "offline"}:
        return OfflineInsightExtractor()
    raise ValueError(f"extractor {settings.extractor!r} is not available: use offline")


def vector_index_factory(settings: Settings) -> VectorIndexFactory | None:
    """The ANN library the settings name (None: "off", linking scans the whole library)."""
    if settings.vector_index == "off":
        return None
    if settings.vector_index == "exact":
        from core.search.exact_index import ExactVectorIndexFactory

        return ExactVectorIndexFactory()
    from adapters.vectors.usearch_index import UsearchIndexFactory

    return UsearchIndexFactory()


async def open_vector_library(
    services: Services, embedder: Embedder, progress: Progress | None = None
) -> VectorLibrary | None:
    """This process's vector index for ``embedder``'s model, in data_dir/vectors (beside the
    SQLite database; beside each worker for PostgreSQL): loaded, or rebuilt from the database,
    then caught up with it. Saved again on close."""
    try:
        name = embedder.name
    except Exception:  # e.g. LSA before it has a corpus: no vector space to index yet
        return None
    if name in services.vector_libraries:
        return services.vector_libraries[name]
    factory = vector_index_factory(services.settings)
    if factory is None:
        return None
    library = VectorLibrary(
        services.sessions,
        factory,
        name,
        services.clock,
        directory=services.settings.resolved_data_dir / "vectors",
    )
    await library.open(progress)
    services.vector_libraries[name] = library
    services.closers.append(library.close)
    return library


async def run_ingest_pipeline(
    services: Services,
    embedder: Embedder | None,
    *,
    extractor: InsightExtractor | None = None,
    insights: bool = True,
    **options: Any,
) -> PipelineReport:
    """``core.ingest.pipeline.run_pipeline`` with the settings' concurrency, transcript size
    limit and poll policy, and the configured extraction (built here unless given; not at all
    when insights are skipped). ``options`` go to ``run_pipeline`` as they are."""
    from core.ingest.pipeline import run_pipeline

    settings = services.settings
    if insights and extractor is None:
        extractor = build_extractor(settings, services)
    if insights and embedder is not None and "vectors" not in options:
        options["vectors"] = await open_vector_library(services, embedder)
    return await run_pipeline(
        services.sessions,
        services.fetcher,
        extractor,
        embedder,
        services.clock,
        feed_concurrency=settings.fetch_concurrency,
        max_transcript_bytes=settings.max_transcript_bytes,
        policy=policy_of(services),
        insights=insights,
        **options,
    )


def build_engine(
    services: Services, *, embedder: Embedder | None = None, public_url: str | None = None
) -> ConversationEngine:
    """The conversation engine every chat platform (and the console) talks to; cards link to
    the insight pages under ``public_url`` (default: the setting); it searches with the vector
    index of its embedder if one was opened (open_vector_library)."""
    from core.chat.engine import ConversationEngine
    from core.llm.router import LlmAnswerer, LlmRouter

    # With a key, free text and questions also go to the model; someone is waiting for the
    # reply, so a slow or throttling server gets one quick retry, then the rules answer.
    llm = build_llm(services, chat_retry(), timeout=CHAT_TIMEOUT_SECONDS)
    budget = build_llm_budget(services)
    embedder = embedder or build_embedder(services.settings, services)
    return ConversationEngine(
        services.sessions,
        services.clock,
        embedder=embedder,
        fetcher=services.fetcher,
        router=LlmRouter(llm, budget) if llm else None,
        answerer=LlmAnswerer(llm, budget) if llm else None,
        vectors=_library_of(services, embedder),
        public_url=services.settings.public_url if public_url is None else public_url,
    )


def _library_of(services: Services, embedder: Embedder) -> VectorLibrary | None:
    try:
        return services.vector_libraries.get(embedder.name)
    except Exception:  # e.g. LSA before it has a corpus: no index was opened for it
        return None


# --- LLM (issue 4): OpenAI or any OpenAI-compatible server, when OPENAI_API_KEY is set ---------


CHAT_TIMEOUT_SECONDS = 30.0  # at most, for a chat reply's model call


def chat_retry() -> RetryPolicy:
    from adapters.openai_retry import RetryPolicy

    return RetryPolicy(attempts=2, base_delay=0.5, max_delay=1.0, max_retry_after=2.0)


def build_llm(
    services: Services, retry: RetryPolicy | None = None, *, timeout: float | None = None
) -> OpenAILLM | None:
    """The chat model client, or None when no OPENAI_API_KEY is set (offline mode)."""
    key = services.secrets.openai_api_key
    if not key:
        return None
    from adapters.openai_llm import OpenAILLM  # the openai package: a second of imports

    settings = services.settings
    llm = OpenAILLM(
        api_key=key,
        base_url=services.secrets.openai_base_url,
        model=settings.llm_model,
        timeout=min(timeout or settings.llm_timeout_seconds, settings.llm_timeout_seconds),
        concurrency=settings.llm_concurrency,
        retry=retry,
    )
    services.closers.append(llm.aclose)
    return llm


def build_llm_budget(services: Services) -> LlmBudget:
    from core.llm.budget import LlmBudget

    return LlmBudget(
        services.sessions,
        services.clock,
        daily_tokens=services.settings.llm_daily_token_budget,
        daily_cost_usd=services.settings.llm_daily_cost_budget_usd,
    )


def build_llm_extractor(services: Services) -> LlmInsightExtractor | None:
    from core.insights.offline import OfflineInsightExtractor
    from core.llm.cache import ExtractionStore
    from core.llm.extractor import LlmExtractorConfig, LlmInsightExtractor

    llm = build_llm(services)
    if llm is None:
        return None
    return LlmInsightExtractor(
        llm,
        build_llm_budget(services),
        ExtractionStore(services.sessions, services.clock),
        OfflineInsightExtractor(),
        LlmExtractorConfig(chunk_tokens=services.settings.llm_chunk_tokens),
    )


def build_openai_embedder(services: Services, retry: RetryPolicy | None = None) -> Embedder | None:
    key = services.secrets.openai_api_key
    if not key:
        return None
    from adapters.openai_embedder import OpenAIEmbedder
    from core.llm.types import Usage

    budget = build_llm_budget(services)

    async def record(model: str, usage: Usage) -> None:
        await budget.record(purpose="embed", model=model, usage=usage)

    embedder = OpenAIEmbedder(
        api_key=key,
        base_url=services.secrets.openai_base_url,
        model=services.settings.embedding_model,
        timeout=services.settings.llm_timeout_seconds,
        retry=retry,
        on_usage=record,
    )
    services.closers.append(embedder.aclose)
    return embedder


def build_transcriber(services: Services) -> Transcriber | None:
    """The API transcriber, or None unless transcription_enabled is set and a key is there."""
    key = services.secrets.openai_api_key
    if not key or not services.settings.transcription_enabled:
        return None
    from adapters.openai_transcriber import OpenAITranscriber

    transcriber = OpenAITranscriber(
        api_key=key,
        base_url=services.secrets.openai_base_url,
        model=services.settings.transcription_model,
    )
    services.closers.append(transcriber.aclose)
    return transcriber
