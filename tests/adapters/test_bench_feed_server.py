"""The ingest benchmark's loopback feed server, read by the fetcher ingest uses: the feed's
bytes and ETag, a 304 for its own ETag, keep-alive, and a 404 for anything else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.http_fetch import HttpFetcher
from bench.ingest import FeedServer, feed_answers, synthetic_feed
from core.domain import FetchError


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    answers = feed_answers(3, 4)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: FeedServer(answers), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


async def test_feeds_their_etags_and_304s(base_url: str) -> None:
    async with HttpFetcher(max_connections=1) as fetcher:  # one connection: kept alive
        for n in range(3):
            full = await fetcher.fetch(f"{base_url}/feed/{n}.xml")
            assert (full.status, full.body) == (200, synthetic_feed(n, 4))
            assert full.content_type == "application/rss+xml"
            assert full.etag and full.etag.startswith('"')
            again = await fetcher.fetch(f"{base_url}/feed/{n}.xml", etag=full.etag)
            assert (again.status, again.body, again.etag) == (304, b"", full.etag)
        other = await fetcher.fetch(f"{base_url}/feed/1.xml", etag='"something else"')
        assert (other.status, other.body) == (200, synthetic_feed(1, 4))


async def test_unknown_paths_are_not_found(base_url: str) -> None:
    async with HttpFetcher() as fetcher:
        with pytest.raises(FetchError, match="404"):
            await fetcher.fetch(f"{base_url}/feed/3.xml")
        assert (await fetcher.fetch(f"{base_url}/feed/2.xml")).status == 200
