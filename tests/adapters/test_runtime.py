"""`podbrief run`'s shared HTTP server: it listens before any component starts (Telegram's
setWebhook may be answered by a POST at once), a taken port is a plain error, and components
stop in reverse order, each within a grace period."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.runtime import Component, HttpServerError, run_components
from tests.cli_process import free_port


class Probe:
    """A component that, while starting, calls its own route on the shared server."""

    def __init__(self, name: str, port: int, events: list[str], stop: asyncio.Event) -> None:
        self.name, self.port, self.events, self.stop_event = name, port, events, stop

    def routes(self) -> list[BaseRoute]:
        return [Route(f"/{self.name}", self.answer, methods=["POST"])]

    async def answer(self, request: Request) -> Response:
        return PlainTextResponse(f"{self.name} here")

    async def start(self) -> None:
        async with httpx.AsyncClient() as http:  # like Telegram right after setWebhook
            response = await http.post(f"http://127.0.0.1:{self.port}/{self.name}")
        self.events.append(f"start {self.name}: {response.status_code} {response.text}")
        if self.name == "second":
            self.stop_event.set()

    async def stop(self) -> None:
        self.events.append(f"stop {self.name}")


async def test_the_server_listens_before_the_components_start_and_they_stop_in_reverse() -> None:
    port, events, stop = free_port(), list[str](), asyncio.Event()
    components: list[Component] = [Probe(n, port, events, stop) for n in ("first", "second")]
    await run_components(components, host="127.0.0.1", port=port, stop=stop)
    assert events == [
        "start first: 200 first here",
        "start second: 200 second here",
        "stop second",
        "stop first",
    ]
    with pytest.raises(httpx.ConnectError):  # and the server is gone afterwards
        async with httpx.AsyncClient() as http:
            await http.post(f"http://127.0.0.1:{port}/first")


async def test_a_taken_port_is_a_plain_error_and_nothing_starts() -> None:
    events: list[str] = []
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = int(taken.getsockname()[1])
        probe = Probe("first", port, events, asyncio.Event())
        with pytest.raises(HttpServerError, match=f"127.0.0.1:{port}.*PODBRIEF_HTTP_PORT"):
            await run_components([probe], host="127.0.0.1", port=port)
    assert events == []


class Stuck(Probe):
    """A component whose stop never finishes (a turn waiting on a platform that hangs)."""

    async def stop(self) -> None:
        self.events.append(f"stopping {self.name}")
        await asyncio.Event().wait()


async def test_a_component_that_does_not_stop_is_abandoned_after_the_grace() -> None:
    port, events, stop = free_port(), list[str](), asyncio.Event()
    components: list[Component] = [
        Probe("first", port, events, stop),
        Stuck("second", port, events, stop),
    ]
    await run_components(components, host="127.0.0.1", port=port, stop=stop, stop_grace=0.05)
    assert events[-2:] == ["stopping second", "stop first"]
