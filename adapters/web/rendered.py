"""Insight pages kept rendered per process, with their ETags (see ``RenderedPages``)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from core.web.pages import InsightDetail

RENDERED_PAGES = 2048  # insight pages kept rendered per process (about 9 kB each)


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """An insight page as sent, with the data it was rendered from."""

    detail: InsightDetail
    body: bytes
    etag: str


class RenderedPages:
    """The most recently served insight pages, rendered (an LRU of ``RenderedPage``).

    The data is read afresh for every request and a kept page is reused only when it was
    rendered from equal data, so an edited insight, a new related list or a renamed show shows
    at once; what is saved is the rendering, most of a page's cost."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[int, RenderedPage] = OrderedDict()

    def get(self, detail: InsightDetail) -> RenderedPage | None:
        page = self._pages.get(detail.summary.id)
        if page is None or page.detail != detail:
            return None
        self._pages.move_to_end(detail.summary.id)
        return page

    def put(self, page: RenderedPage) -> None:
        self._pages[page.detail.summary.id] = page
        self._pages.move_to_end(page.detail.summary.id)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 If-None-Match: ``*`` or any listed tag, compared weakly."""
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags
