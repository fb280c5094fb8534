"""CLI command: `podbrief web`, the public pages alone, in one or more processes.

`podbrief run` serves the pages next to the chat platforms in one process (one core). A site
with more readers runs the pages apart, on their own port: `podbrief web --workers N` binds N
sockets to the port (SO_REUSEPORT, so the kernel spreads connections over them) and forks N
processes, each accepting from its own, so the pages use every core.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
from contextlib import suppress

import typer
from rich.console import Console
from rich.markup import escape

from bot.run_web import web_app
from bot.runtime import (
    HttpServerError,
    listening_sockets,
    serving_on,
)
from bot.settings import Settings, load_settings
from bot.wiring import build_embedder, open_services

console = Console(stderr=True)
log = logging.getLogger(__name__)

WEB_HELP = (
    'Serve only the public web pages (see README "Web") on PODBRIEF_HTTP_HOST:'
    "PODBRIEF_HTTP_PORT until Ctrl-C or SIGTERM, in --workers processes (each with its own "
    "socket on the port). Needs PODBRIEF_PUBLIC_URL. Use it when `podbrief run` (which serves "
    "the pages too) should leave them to processes of their own."
)


async def _serve(settings: Settings, sock: socket.socket) -> None:
    """One process: its own database connections, the pages, until SIGINT/SIGTERM."""
    services = await open_services(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        embedder = build_embedder(services.settings, services)  # for search, as the chat's
        routes = web_app(services, embedder, settings.public_url).routes()
        async with serving_on(routes, sock) as serving:
            waiting = asyncio.create_task(stop.wait())
            await asyncio.wait({waiting, serving}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
    finally:
        await services.aclose()


def _worker(settings: Settings, sockets: list[socket.socket], index: int) -> None:
    """Serve on socket ``index``; the siblings' copies inherited by fork are closed, so when
    a worker ends its socket closes and the kernel stops sending connections there."""
    for other in sockets:
        if other is not sockets[index]:
            other.close()
    asyncio.run(_serve(settings, sockets[index]))


async def _migrate_once(settings: Settings) -> None:
    """Migrations run here, before the workers start, not in N processes at once."""
    services = await open_services(settings)
    await services.aclose()


def web(
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="Processes serving the pages (e.g. one per core)."
    ),
) -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = load_settings()
    if not settings.public_url:
        console.print("Set PODBRIEF_PUBLIC_URL (e.g. https://brief.example.org) to serve pages.")
        raise typer.Exit(2)
    asyncio.run(_migrate_once(settings))
    try:
        sockets = listening_sockets(settings.http_host, settings.http_port, workers)
    except HttpServerError as exc:
        console.print(f"Could not start the HTTP server: {escape(str(exc))}")
        raise typer.Exit(1) from None
    console.print(
        f"Serving the pages of {escape(settings.public_url)} on "
        f"{settings.http_host}:{sockets[0].getsockname()[1]} with {workers} process(es)"
    )
    if workers == 1:
        _worker(settings, sockets, 0)
        return
    # Fork (not spawn): each child inherits the listening socket as it is.
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_worker, args=(settings, sockets, index)) for index in range(workers)
    ]
    for child in children:
        child.start()
    for sock in set(sockets):
        sock.close()
    stopping: list[int] = []

    def stop_children(signum: int, _frame: object) -> None:
        stopping.append(signum)
        for child in children:
            if child.pid is not None:
                with suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop_children)
    signal.signal(signal.SIGINT, stop_children)
    for child in children:
        child.join()
    failed = [c.exitcode for c in children if c.exitcode not in (0, -signal.SIGTERM)]
    if failed and not stopping:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("web", help=WEB_HELP)(web)
