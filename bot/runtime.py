"""`podbrief run`: start every configured chat platform and the shared HTTP server."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any, Protocol

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from adapters.web.app import WebApp, WebComponent

log = logging.getLogger(__name__)

# After SIGTERM, in-flight requests and turns get this long to finish; then they are dropped.
# Under load a turn may wait on a slow platform API (up to its own timeouts, with retries):
# without a bound a stop could take minutes, and a supervisor would kill us mid-write anyway.
STOP_GRACE_SECONDS = 10.0


class Component(Protocol):
    """A platform side of `podbrief run` (Telegram, Slack, the scheduler)."""

    name: str

    def routes(self) -> list[BaseRoute]:
        """HTTP routes it needs on the shared server (webhooks, events); may be empty."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class HttpServerError(RuntimeError):
    """The shared HTTP server could not listen; the message says where and why."""


def listening_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """Bind and listen at once, so requests queue from now on (even before uvicorn accepts).

    ``reuse_port``: other sockets may bind the same port (SO_REUSEPORT), and the kernel then
    spreads new connections over them (see ``listening_sockets``)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise HttpServerError(f"cannot listen on {host}:{port}: {exc}") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise HttpServerError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
            "set PODBRIEF_HTTP_PORT (or PODBRIEF_HTTP_HOST) to a free one"
        ) from exc
    return sock


def freeze_start_up_objects() -> None:
    """Take what start-up made (modules, templates, wiring: some 240,000 objects in a pages
    process) out of the cyclic collector's sight for good. A full collection then scans only
    what was made since: 9 ms of CPU instead of 130 ms, all of it with the event loop stopped
    (measured in a pages process after 3,000 pages)."""
    gc.collect()
    gc.freeze()


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets listening on one port, one per worker process, where SO_REUSEPORT
    exists (Linux, BSDs); else one socket shared by all.

    One shared socket is accepted from by whichever process wakes first, and asyncio then
    accepts every waiting connection in one go: 49 of 50 keep-alive clients landed on one of
    two workers, which left the other core idle. With a socket each, the kernel spreads
    connections evenly by their addresses."""
    if count == 1 or not hasattr(socket, "SO_REUSEPORT"):
        return [listening_socket(host, port)] * count
    first = listening_socket(host, port, reuse_port=True)
    sockets = [first]
    try:
        for _ in range(count - 1):  # the same port as the first (which may have been 0)
            sockets.append(listening_socket(host, first.getsockname()[1], reuse_port=True))
    except HttpServerError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


@asynccontextmanager
async def http_server(
    routes: list[BaseRoute], host: str, port: int, front: WebApp | None = None
) -> AsyncIterator[asyncio.Task[None] | None]:
    """Serve ``routes`` (none: no server) until the block ends; yields the serving task."""
    if not routes:
        yield None
        return
    async with serving_on(routes, listening_socket(host, port), front=front) as task:
        yield task


@asynccontextmanager
async def serving_on(
    routes: list[BaseRoute], sock: socket.socket, *, front: WebApp | None = None
) -> AsyncIterator[asyncio.Task[None]]:
    """Serve ``routes`` on a listening socket until the block ends (then close it).

    With ``front`` (the public pages), every response carries the pages' security headers and
    unknown paths and methods get its HTML 404 and 405 pages, whichever component's routes
    are beside them."""
    app: ASGIApp = Starlette(
        routes=routes, exception_handlers=dict(front.error_handlers()) if front else None
    )
    config = uvicorn.Config(
        front.guard(app) if front else app,
        log_level="warning",
        access_log=False,  # a log call per request, which the warning level then drops
        lifespan="off",
        timeout_graceful_shutdown=int(STOP_GRACE_SECONDS),
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    host, port = sock.getsockname()[:2]
    log.info("serving %s on %s:%s", ", ".join(_paths(routes)), host, port)
    try:
        yield task
    finally:
        server.should_exit = True
        with suppress(Exception):
            await task
        sock.close()


def _paths(routes: list[BaseRoute]) -> list[str]:
    return [str(getattr(route, "path", route)) for route in routes]


async def run_components(
    components: list[Component],
    *,
    host: str,
    port: int,
    stop: asyncio.Event | None = None,
    stop_grace: float = STOP_GRACE_SECONDS,
) -> None:
    """Serve the components' routes on one ASGI server, then start them; stop on SIGINT/SIGTERM
    (or when ``stop`` is set). Each component gets ``stop_grace`` seconds to stop.

    The server listens before any component starts: Telegram may POST to the webhook the
    moment ``setWebhook`` returns, and Slack's first events must not meet a closed port.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    routes = [route for component in components for route in component.routes()]
    front = next((c.app for c in components if isinstance(c, WebComponent)), None)
    started: list[Component] = []
    try:
        async with http_server(routes, host, port, front) as serving:
            for component in components:
                await component.start()
                started.append(component)
                log.info("%s started", component.name)
            await _until_stopped(stop, serving)
    finally:
        for component in reversed(started):
            await _stop_within(component, stop_grace)


async def _stop_within(component: Component, grace: float) -> None:
    """Stop a component, abandoning what it still does after ``grace`` seconds."""
    try:
        async with asyncio.timeout(grace):
            await component.stop()
    except TimeoutError:
        log.warning("%s did not stop within %.0f s; dropping its unfinished work",
                    component.name, grace)  # fmt: skip


async def _until_stopped(stop: asyncio.Event, serving: asyncio.Task[None] | None) -> None:
    """Until ``stop`` is set or the server ends (uvicorn ends on SIGINT/SIGTERM too)."""
    waiting = asyncio.create_task(stop.wait())
    watched: set[asyncio.Future[Any]] = {waiting}
    if serving is not None:
        watched.add(serving)
    try:
        await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
    if serving is not None and serving.done() and not serving.cancelled():
        failure = serving.exception()
        if failure is not None:
            raise HttpServerError(f"the HTTP server stopped: {failure}") from failure
