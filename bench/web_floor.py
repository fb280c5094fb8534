"""The web benchmark's bound: the same HTTP server doing no page work.

    python bench/web_floor.py PORT WORKERS BODY_BYTES

Serves ``/insights/{id}`` with one fixed HTML body of BODY_BYTES (the size of a real page) in
WORKERS processes, each on its own SO_REUSEPORT socket, through the very code `podbrief web`
serves with (``bot.runtime.listening_sockets`` and ``serving_on``: uvicorn with httptools,
Starlette's routing, the same settings). What a page costs beyond this is the page: its SQL,
its template, its headers. Until SIGTERM."""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from bot.runtime import listening_sockets, serving_on


async def serve(sock: socket.socket, body: bytes) -> None:
    async def page(_request: Request) -> HTMLResponse:
        return HTMLResponse(body)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with serving_on([Route("/insights/{insight_id:int}", page)], sock) as serving:
        waiting = asyncio.create_task(stop.wait())
        await asyncio.wait({waiting, serving}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()


def worker(sockets: list[socket.socket], index: int, body: bytes) -> None:
    for other in sockets:
        if other is not sockets[index]:
            other.close()
    asyncio.run(serve(sockets[index], body))


def main() -> None:
    port, workers, size = (int(arg) for arg in sys.argv[1:4])
    body = (b"<!doctype html><html><body><p>" + b"x" * size)[:size]
    sockets = listening_sockets("127.0.0.1", port, workers)
    context = multiprocessing.get_context("fork")  # as `podbrief web` starts its workers
    children = [context.Process(target=worker, args=(sockets, i, body)) for i in range(workers)]
    for child in children:
        child.start()
    for sock in set(sockets):
        sock.close()

    def stop(_signum: int, _frame: object) -> None:
        for child in children:
            child.terminate()

    signal.signal(signal.SIGTERM, stop)
    for child in children:
        child.join()


if __name__ == "__main__":
    main()
