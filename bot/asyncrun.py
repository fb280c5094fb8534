"""Run a coroutine from a synchronous CLI command, reporting errors in plain words."""

from __future__ import annotations

import asyncio
import signal
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
    """``asyncio.run``, with Ctrl-C cancelling the command at once (then KeyboardInterrupt).

    asyncio.run's own SIGINT handler is a plain ``signal.signal`` one: when the kernel hands
    the signal to another thread (aiosqlite's, a ``to_thread`` worker), the handler waits for
    the event loop's next wake-up, which during a stalled fetch was its 20 s timeout, and the
    interrupt was then lost beside it (the run ended normally). The loop's own signal handling
    writes to its wake-up descriptor from whichever thread the signal lands on."""
    interrupted = False

    async def interruptible() -> T:
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        assert task is not None

        def on_sigint() -> None:
            nonlocal interrupted
            if interrupted:  # a second Ctrl-C: stop waiting for the cancellation
                raise KeyboardInterrupt
            interrupted = True
            task.cancel()

        try:
            loop.add_signal_handler(signal.SIGINT, on_sigint)
            handled = True
        except (NotImplementedError, RuntimeError, ValueError):  # no signals here: as before
            handled = False
        try:
            return await coro
        finally:
            if handled:
                loop.remove_signal_handler(signal.SIGINT)

    try:
        return asyncio.run(interruptible())
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise


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
