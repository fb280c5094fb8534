"""Hostile feed and transcript servers, over real loopback HTTP: a body that drips one byte at a
time is cut by the whole-fetch timeout, and a gzip bomb is cut at the size cap after decoding
(the inflated bytes are what count; the client gives up as soon as the cap is passed).
Hanging servers, endless bodies and redirect loops: see tests/adapters/test_http_fetch.py."""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from adapters.http_fetch import HttpFetcher
from core.domain import FetchError
from tests.http_server import serve

INFLATED = 200 * 1024 * 1024  # 200 MB of zeros ...
CAP = 1_000_000  # ... against a 1 MB cap


def _bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    chunk = bytes(1024 * 1024)
    body = b"".join(packer.compress(chunk) for _ in range(INFLATED // len(chunk)))
    return body + packer.flush()


async def _drip(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
    await response.prepare(request)
    try:
        for byte in b"<rss><channel><title>slow</title></channel></rss>" * 100:
            await response.write(bytes([byte]))
            await asyncio.sleep(0.05)  # the far side's pace: one byte every 50 ms
    except (ConnectionError, asyncio.CancelledError):
        pass  # the client gave up, as it should
    return response


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _bomb()


@pytest.fixture
async def site(bomb: bytes) -> AsyncIterator[str]:
    async def gzip_bomb(request: web.Request) -> web.Response:
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip",
                                                "Content-Type": "text/vtt"})  # fmt: skip

    app = web.Application()
    app.router.add_get("/drip.xml", _drip)
    app.router.add_get("/bomb.vtt", gzip_bomb)
    async with serve(app) as base:
        yield base


async def test_a_server_dripping_bytes_is_cut_by_the_whole_fetch_timeout(site: str) -> None:
    async with HttpFetcher(timeout=0.5) as fetcher:
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"timed out after 0.5 s"):
            await fetcher.fetch(f"{site}/drip.xml")
        assert time.monotonic() - started < 5  # each byte came in time; the total did not


async def test_a_gzip_bomb_is_cut_at_the_cap_on_the_inflated_bytes(site: str, bomb: bytes) -> None:
    assert len(bomb) < CAP  # the compressed body alone would pass the cap
    assert zlib.decompressobj(31).decompress(bomb[:4096], 4) == b"\0\0\0\0"  # really gzip
    async with HttpFetcher(timeout=30, max_bytes=CAP) as fetcher:
        with pytest.raises(FetchError, match="larger than the 1 MB limit") as refused:
            await fetcher.fetch(f"{site}/bomb.vtt")
    assert refused.value.retryable is False
