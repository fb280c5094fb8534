"""`podbrief run`: start every configured chat platform and the shared HTTP server."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Protocol

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot.wiring import Services

log = logging.getLogger(__name__)


class Component(Protocol):
    """A platform side of `podbrief run` (Telegram, Slack, the scheduler)."""

    name: str

    def routes(self) -> list[BaseRoute]:
        """HTTP routes it needs on the shared server (webhooks, events); may be empty."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


async def run_components(services: Services, components: list[Component]) -> None:
    """Start the components, serve their routes on one ASGI server, stop on SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    routes = [route for component in components for route in component.routes()]
    server: uvicorn.Server | None = None
    server_task: asyncio.Task[None] | None = None
    started: list[Component] = []
    try:
        for component in components:
            await component.start()
            started.append(component)
            log.info("%s started", component.name)
        if routes:
            config = uvicorn.Config(
                Starlette(routes=routes),
                host=services.settings.http_host,
                port=services.settings.http_port,
                log_level="warning",
            )
            server = uvicorn.Server(config)
            server_task = asyncio.create_task(server.serve())
        await stop.wait()
    finally:
        if server is not None and server_task is not None:
            server.should_exit = True
            await server_task
        for component in reversed(started):
            await component.stop()
