"""The far side of the Fetcher port: a real aiohttp feed host with programmable misbehaviour."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from tests.http_server import serve

RSS = "application/rss+xml"


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = RSS
    location: str | None = None  # for 3xx
    validators: bool = True  # send ETag/Last-Modified and honour conditional GETs
    hang: bool = False  # never answer (until the site closes)
    endless: bool = False  # stream zeros for ever, no Content-Length
    declared_length: int | None = None  # a Content-Length header claiming this size


class FeedSite:
    """Routes by path; counts every request and how each was answered."""

    LAST_MODIFIED = "Tue, 24 Nov 2026 06:00:00 GMT"

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.release = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{path:.*}", self.handle)
        return app

    def put(self, path: str, route: Route) -> None:
        self.routes["/" + path.lstrip("/")] = route

    def feed(self, path: str, body: bytes, **kwargs: object) -> None:
        self.put(path, Route(body=body, **kwargs))  # type: ignore[arg-type]

    @staticmethod
    def etag_of(body: bytes) -> str:
        return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.hits[path] += 1
        route = self.routes.get(path)
        if route is None:
            return web.Response(status=404, text="not found")
        if route.hang:
            await self.release.wait()
            return web.Response(status=503)
        if route.location is not None:
            return web.Response(status=route.status, headers={"Location": route.location})
        if route.endless or route.declared_length is not None:
            return await self._huge(request, route)
        headers: dict[str, str] = {}
        if route.validators and route.status == 200:
            etag = self.etag_of(route.body)
            headers = {"ETag": etag, "Last-Modified": self.LAST_MODIFIED}
            if request.headers.get("If-None-Match") == etag:
                self.not_modified[path] += 1
                return web.Response(status=304, headers=headers)
        return web.Response(
            status=route.status, body=route.body, headers=headers, content_type=route.content_type
        )

    async def _huge(self, request: web.Request, route: Route) -> web.StreamResponse:
        response = web.StreamResponse(status=200, headers={"Content-Type": RSS})
        if route.declared_length is not None:
            response.content_length = route.declared_length
        await response.prepare(request)
        chunk = b"\0" * 65536
        sent = 0
        limit = route.declared_length or 1 << 40
        try:
            while sent < limit:
                await response.write(chunk)
                sent += len(chunk)
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client hung up, as it should
        return response


def rss(title: str, items: list[dict[str, str]], extra_ns: str = "") -> bytes:
    """A small RSS 2.0 feed; each item dict maps tag -> inner XML."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
        f'xmlns:podcast="https://podcastindex.org/namespace/1.0" {extra_ns}>',
        f"<channel><title>{title}</title><link>https://example.org/</link>",
    ]
    for item in items:
        parts.append("<item>")
        for tag, inner in item.items():
            if tag == "raw":
                parts.append(inner)
            else:
                parts.append(f"<{tag}>{inner}</{tag.split(' ')[0]}>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode()


def episode_items(count: int, *, start: int = 1, guids: bool = True) -> list[dict[str, str]]:
    items = []
    for n in range(start, start + count):
        item = {
            "title": f"Episode {n}",
            "link": f"https://example.org/ep/{n}",
            "pubDate": f"Mon, {n % 28 + 1:02d} Jun 2025 10:00:00 +0000",
            "raw": f'<enclosure url="https://cdn.example.org/ep{n}.mp3" type="audio/mpeg" '
            f'length="1000"/>',
        }
        if guids:
            item["guid"] = f"urn:example:ep:{n}"
        items.append(item)
    return items


@asynccontextmanager
async def serving(site: FeedSite) -> AsyncIterator[str]:
    """Serve ``site`` on loopback; hanging handlers are released before shutdown."""
    async with serve(site.app()) as base:
        try:
            yield base
        finally:
            site.release.set()
