"""The scheduler side of `podbrief run`, and which components each ``--role`` runs.

- all (default): the chat platforms and the scheduler (ingest + delivery) in one process.
- chat: only the chat platforms (polling, webhooks, events); no scheduled work.
- worker: the scheduler, sending through the platforms' Web/Bot APIs without receiving.
Several workers and chat processes share one PostgreSQL database safely.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from starlette.routing import BaseRoute

from bot.roles import ROLES
from bot.runtime import Component
from bot.wiring import (
    Services,
    build_extractor,
    build_llm_budget,
    build_transcriber,
    run_ingest_pipeline,
)
from core.delivery.service import deliver_due
from core.delivery.shared_pacer import delivery_limiters
from core.delivery.types import DeliveryConfig, DeliveryReport
from core.ingest.pipeline import PipelineReport
from core.llm.transcribe import transcribe_missing
from core.ports import Embedder, InsightExtractor, Messenger
from core.scheduling.scheduler import ScheduleConfig, Scheduler


def delivery_config(services: Services) -> DeliveryConfig:
    settings = services.settings
    return DeliveryConfig(
        grace=timedelta(minutes=settings.delivery_grace_minutes),
        lease=timedelta(minutes=settings.delivery_lease_minutes),
        batch_size=settings.delivery_batch_size,
        concurrency=settings.delivery_concurrency,
        max_attempts=settings.delivery_max_attempts,
        compact_above=settings.delivery_compact_above,
        public_url=settings.public_url,
    )


def messengers_of(components: Sequence[object]) -> dict[str, Messenger]:
    """The ``Messenger`` each platform component offers, by platform name."""
    found: dict[str, Messenger] = {}
    for component in components:
        messenger = getattr(component, "messenger", None)
        if messenger is not None:
            found[messenger.platform] = messenger
    return found


def scheduler_component(
    services: Services, messengers: dict[str, Messenger], embedder: Embedder
) -> Scheduler:
    settings = services.settings
    # One per process: pacing and 429 pauses outlive a tick. On PostgreSQL the overall limits
    # are kept in the database for every process; otherwise each takes its share.
    limiters = delivery_limiters(
        services.sessions, settings.delivery_processes, paid=services.paid_broadcast
    )
    config = delivery_config(services)
    extraction: list[InsightExtractor] = []  # built on first use

    async def deliver(stop: asyncio.Event) -> DeliveryReport:
        return await deliver_due(
            services.sessions,
            services.clock,
            messengers,
            config=config,
            limiters=limiters,
            stop=stop,
        )

    transcriber = build_transcriber(services)  # None unless transcription_enabled and a key

    async def ingest(stop: asyncio.Event) -> PipelineReport:
        if not extraction:  # start-up stays quick; the LLM one with a key
            extraction.append(build_extractor(settings, services))
        report = await run_ingest_pipeline(services, embedder, extractor=extraction[0])
        if transcriber is not None:  # the next tick extracts insights from what it transcribed
            await transcribe_missing(
                services.sessions,
                services.fetcher,
                transcriber,
                build_llm_budget(services),
                services.clock,
                max_minutes=settings.transcription_max_minutes,
            )
        return report

    schedule = ScheduleConfig(
        poll_interval=timedelta(minutes=settings.poll_interval_minutes),
        ingest_at_start=settings.poll_at_start,
    )
    return Scheduler(ingest=ingest, deliver=deliver if messengers else None, config=schedule)


class SendOnly:
    """A chat platform in a worker: what sending needs is started, nothing that receives."""

    def __init__(self, platform: Any) -> None:
        self.platform = platform
        self.name = f"{platform.name} (sending only)"
        self.messenger = platform.messenger
        self._application = getattr(platform, "application", None)  # Telegram's PTB app

    def routes(self) -> list[BaseRoute]:
        return []

    async def start(self) -> None:
        if self._application is not None:
            await self._application.initialize()  # the bot and its flood-aware rate limiter

    async def stop(self) -> None:
        if self._application is not None:
            await self._application.shutdown()


def role_components(
    services: Services, platforms: list[Component], role: str, embedder: Embedder
) -> list[Component]:
    """What ``podbrief run --role ROLE`` starts, given the configured chat platforms."""
    if role not in ROLES:
        raise ValueError(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "chat":
        return list(platforms)
    senders: list[Component] = (
        list(platforms) if role == "all" else [SendOnly(p) for p in platforms]
    )
    scheduler = scheduler_component(services, messengers_of(senders), embedder)
    return [*senders, scheduler]
