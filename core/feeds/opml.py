"""OPML subscription lists: import (every outline with an xmlUrl, at any depth) and export."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import transaction
from core.feeds.errors import FeedError
from core.feeds.urls import normalise_feed_url
from core.models import Feed


@dataclass
class OpmlImport:
    added: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (url, why)


def read_opml(data: bytes | str) -> list[str]:
    """The feed URLs an OPML document lists, in order, without repeats."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise FeedError(f"this is not an OPML file: {exc}") from None
    if root.tag.lower() != "opml":
        raise FeedError(f"this is not an OPML file: its root element is <{root.tag}>")
    urls: list[str] = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url and url not in urls:
            urls.append(url)
    return urls


def _resolve_relative(url: str, base_dir: Path | None) -> str:
    """An OPML next to its feeds may list them by relative path (the demo does)."""
    if base_dir is None or urlsplit(url).scheme or Path(url).expanduser().is_absolute():
        return url
    return str(base_dir / url)


async def import_opml(
    sessions: async_sessionmaker[AsyncSession],
    data: bytes | str,
    *,
    base_dir: Path | None = None,
    untrusted: bool = False,
) -> OpmlImport:
    """Store every listed feed not stored yet (they are polled by the next ingest)."""
    report = OpmlImport()
    urls: list[str] = []
    for raw in read_opml(data):
        try:
            urls.append(normalise_feed_url(_resolve_relative(raw, base_dir), untrusted=untrusted))
        except FeedError as exc:
            report.invalid.append((raw, str(exc)))
    async with transaction(sessions) as session:
        existing = set(await session.scalars(select(Feed.url).where(Feed.url.in_(urls))))
        for url in urls:
            if url in existing:
                report.already_present.append(url)
                continue
            existing.add(url)
            session.add(Feed(url=url, untrusted=untrusted, error_count=0))
            report.added.append(url)
    return report


async def export_opml(
    sessions: async_sessionmaker[AsyncSession], *, title: str = "podbrief feeds"
) -> str:
    async with sessions() as session:
        feeds = list(await session.scalars(select(Feed).order_by(Feed.id)))
    root = ET.Element("opml", version="2.0")
    ET.SubElement(ET.SubElement(root, "head"), "title").text = title
    body = ET.SubElement(root, "body")
    for feed in feeds:
        attrs = {"type": "rss", "text": feed.title or feed.url, "xmlUrl": feed.url}
        if feed.title:
            attrs["title"] = feed.title
        if feed.link:
            attrs["htmlUrl"] = feed.link
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
