"""Run a coroutine from a synchronous CLI command, reporting errors in plain words."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from bot.wiring import Services, open_services
from core.feeds.errors import FeedError

T = TypeVar("T")
errors = Console(stderr=True)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def with_services(work: Callable[[Services], Awaitable[T]]) -> T:
    """Open the services, run ``work``, close them; a FeedError ends the command in plain words."""

    async def _run() -> T:
        services = await open_services()
        try:
            return await work(services)
        finally:
            await services.aclose()

    try:
        return run_async(_run())
    except FeedError as exc:
        errors.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
