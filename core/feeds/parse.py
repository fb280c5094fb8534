"""Feed bytes to plain dataclasses, leniently (feedparser), with each episode's dedup key.

Pure and picklable: ingest runs it in a process pool.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

import feedparser

from core.feeds import base_uri, podcast_namespace
from core.feeds.errors import FeedError
from core.feeds.text import html_to_text

MAX_KEY = 700
MAX_URL = 2048
AUDIO_VIDEO = ("audio/", "video/")
PERSON_FIELDS = ("name", "role", "group", "href", "img")


class NotAFeedError(FeedError):
    """The bytes are not an RSS or Atom feed a podcast app could read."""


class Compact:
    """Pickled as its class and field values, rebuilt by the constructor: the results come
    back from the parse workers pickled, and a frozen slots dataclass's own ``__setstate__``
    looks its fields up again for every object."""

    __slots__: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return type(self), tuple([getattr(self, name) for name in self.__slots__])


# A feed's episodes and links are named tuples, not dataclasses: every one is built in a parse
# worker, pickled there and unpickled in the ingest process, and a tuple does each at a third
# to a quarter of a frozen dataclass's cost (0.28 -> 0.11 ms a 50-episode feed, both sides).
class ParsedTranscriptLink(NamedTuple):
    url: str
    mime_type: str | None
    language: str | None
    rel: str | None


class ParsedEpisode(NamedTuple):
    dedup_key: str
    guid: str | None
    title: str
    published_at: datetime | None
    duration_seconds: float | None
    enclosure_url: str | None
    enclosure_type: str | None
    link: str | None
    description: str | None
    image_url: str | None
    chapters_url: str | None
    persons: list[dict[str, str]]
    transcripts: list[ParsedTranscriptLink]
    # The enclosure's URL as the feed wrote it, when that differs from ``enclosure_url`` (a
    # relative one): what episodes stored before 8 Dec 2026 were given as their enclosure,
    # so it still identifies them.
    given_enclosure: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed(Compact):
    title: str | None
    link: str | None
    description: str | None
    image_url: str | None
    language: str | None
    episodes: list[ParsedEpisode]
    warning: str | None = None  # set when the XML was broken but still readable


def parse_feed(body: bytes, *, feed_url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse one feed; raises ``NotAFeedError`` when there is nothing a podcast app would show."""
    podcast_namespace.install()
    base_uri.install()
    headers = {"content-location": feed_url}
    if content_type:
        headers["content-type"] = content_type
    # We reduce show notes to plain text ourselves, so feedparser need not sanitise HTML or
    # rewrite links inside it (that was half of its time).
    data: Any = feedparser.parse(
        body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    if not data.get("version") and not data.entries:
        problem = data.get("bozo_exception")
        detail = f" ({problem})" if problem else ""
        raise NotAFeedError(f"this is not an RSS or Atom feed{detail}")
    meta = data.feed
    return ParsedFeed(
        title=_clip(html_to_text(meta.get("title")), 500),
        link=_url(meta.get("link")),
        description=html_to_text(meta.get("subtitle") or meta.get("summary")),
        image_url=_url((meta.get("image") or {}).get("href")),
        language=_clip(meta.get("language"), 35),
        episodes=_episodes(data.entries, feed_url),
        warning=_warning(data),
    )


def _warning(data: Any) -> str | None:
    problem = data.get("bozo_exception") if data.get("bozo") else None
    # A missing or overridden content type is normal for files and sloppy servers.
    benign = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
    if problem is None or isinstance(problem, benign):
        return None
    return str(problem)


def _episodes(entries: list[Any], feed_url: str) -> list[ParsedEpisode]:
    seen = DedupIndex()
    episodes: list[ParsedEpisode] = []
    for entry in entries:
        episode = _episode(entry, feed_url)
        if episode is not None and not seen.contains(episode):
            seen.add(episode)
            episodes.append(episode)
    return episodes


class DedupIndex:
    """GUID first, then enclosure URL, then link+title: the first identity an episode has."""

    def __init__(self) -> None:
        self.guids: set[str] = set()
        self.enclosures: set[str] = set()
        self.link_titles: set[tuple[str, str]] = set()

    def add_identity(
        self, guid: str | None, enclosure: str | None, link: str | None, title: str
    ) -> None:
        if guid:
            self.guids.add(guid)
        if enclosure:
            self.enclosures.add(enclosure)
        self.link_titles.add((link or "", title))

    def add(self, episode: ParsedEpisode) -> None:
        self.add_identity(episode.guid, episode.enclosure_url, episode.link, episode.title)
        if episode.given_enclosure:
            self.enclosures.add(episode.given_enclosure)

    def contains(self, episode: ParsedEpisode) -> bool:
        if episode.guid and episode.guid in self.guids:
            return True
        # A feed that rewrote its GUIDs still carries the same audio file.
        enclosures = [u for u in (episode.enclosure_url, episode.given_enclosure) if u]
        if any(u in self.enclosures for u in enclosures):
            return True
        if episode.guid or enclosures:
            return False
        return (episode.link or "", episode.title) in self.link_titles


def dedup_key(guid: str | None, enclosure: str | None, link: str | None, title: str) -> str:
    if guid:
        return _fit_key("guid:", guid)
    if enclosure:
        return _fit_key("enclosure:", enclosure)
    return _fit_key("link-title:", f"{link or ''}\n{title}")


def _fit_key(prefix: str, value: str) -> str:
    key = prefix + value
    if len(key) <= MAX_KEY:
        return key
    return prefix + "sha256:" + hashlib.sha256(value.encode()).hexdigest()


# An entry's own keys, read as a plain dict: ``FeedParserDict.get`` first runs its aliases
# and deprecated spellings (none of the keys read here has one) at about 1 us a read, 15 reads
# an episode.
_get = dict.get


def _episode(entry: Any, feed_url: str) -> ParsedEpisode | None:
    guid = _clip((_get(entry, "id") or "").strip() or None, MAX_URL)
    enclosure_url, enclosure_type, given_enclosure = _enclosure(entry)
    link = _url(_get(entry, "link"))
    title = html_to_text(_get(entry, "title"))
    if not (guid or given_enclosure or link or title):
        return None  # nothing identifies it and nothing could be shown
    title = _clip(title, 1000) or _untitled(enclosure_url or given_enclosure)
    return ParsedEpisode(
        # Known by the enclosure as written (podcast_namespace resolves relative ones since
        # 8 Dec 2026): keys stored before must still match.
        dedup_key=dedup_key(guid, given_enclosure, link, title),
        guid=guid,
        title=title,
        published_at=_when(entry),
        duration_seconds=parse_duration(_get(entry, "itunes_duration")),
        enclosure_url=enclosure_url,
        enclosure_type=enclosure_type,
        link=link,
        description=_description(entry),
        image_url=_image(entry),
        chapters_url=_fetchable(feed_url, (_get(entry, "podcast_chapters") or {}).get("url")),
        persons=_persons(_get(entry, "podcast_persons") or []),
        transcripts=_transcripts(_get(entry, "podcast_transcripts") or [], feed_url),
        given_enclosure=given_enclosure if given_enclosure != enclosure_url else None,
    )


def _untitled(enclosure_url: str | None) -> str:
    if enclosure_url:
        name = urlsplit(enclosure_url).path.rsplit("/", 1)[-1]
        if name:
            return name[:1000]
    return "Untitled episode"


def _enclosure(entry: Any) -> tuple[str | None, str | None, str | None]:
    """(absolute URL, type, URL as written) of the item's audio or video, else its first
    enclosure (podcast_namespace resolves relative ones)."""
    # feedparser's "enclosures" is its links whose rel is "enclosure" (each copied).
    links = _get(entry, "links") or []
    enclosures = [e for e in links if _get(e, "rel") == "enclosure" and _given(e)]
    if not enclosures:
        return None, None, None
    media = [e for e in enclosures if str(_get(e, "type") or "").startswith(AUDIO_VIDEO)]
    chosen = (media or enclosures)[0]
    return _url(_get(chosen, "href")), _clip(_get(chosen, "type") or None, 200), _given(chosen)


def _given(enclosure: Any) -> str | None:
    return _url(_get(enclosure, "given_href") or _get(enclosure, "href"))


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        parsed: time.struct_time | None = _get(entry, key)
        if parsed is not None:
            try:
                when = datetime(*parsed[:6], tzinfo=UTC)
            except (ValueError, OverflowError, TypeError):
                continue
            # Year 1 or 9999 is garbage, and would overflow when shown in a local time zone.
            if EARLIEST <= when <= LATEST:
                return when
    return None


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
MAX_DURATION = 10 * 24 * 3600.0  # longer is a typo or garbage, not an episode
DURATION = re.compile(r"^\s*(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d+)?)\s*$")


def parse_duration(value: Any) -> float | None:
    """itunes:duration as seconds: "3600", "59:59", "1:02:03", "1:02:03.5"; else None."""
    if value is None:
        return None
    if isinstance(value, str) and value.isdecimal():  # plain seconds, as most feeds give
        total = float(value)  # what the pattern below makes of digits alone
        return total if 0 < total < MAX_DURATION else None
    match = DURATION.match(str(value))
    if not match:
        return None
    first, second, seconds = match.groups()
    hours, minutes = (first, second) if second is not None else (None, first)
    try:
        total = float(seconds) + 60 * int(minutes or 0) + 3600 * int(hours or 0)
    except (OverflowError, ValueError):  # int() of a 5,000-digit field: Python's digit limit
        return None
    return total if 0 < total < MAX_DURATION else None  # 400 digits of "1" parse as inf


def _description(entry: Any) -> str | None:
    content = _get(entry, "content")
    richest = max((c.get("value") or "" for c in content), key=len) if content else ""
    return html_to_text(richest or _get(entry, "summary") or _get(entry, "subtitle"))


def _image(entry: Any) -> str | None:
    image = _get(entry, "image")
    if isinstance(image, dict) and image.get("href"):
        return _url(image["href"])
    thumbnails = _get(entry, "media_thumbnail") or []
    if thumbnails and isinstance(thumbnails[0], dict):
        return _url(thumbnails[0].get("url"))
    return None


def _persons(raw: list[dict[str, Any]]) -> list[dict[str, str]]:
    persons = []
    for person in raw:
        kept = {k: str(person[k]).strip() for k in PERSON_FIELDS if person.get(k)}
        if kept.get("name") or kept.get("href"):
            persons.append(kept)
    return persons


def _transcripts(raw: list[dict[str, Any]], feed_url: str) -> list[ParsedTranscriptLink]:
    links: list[ParsedTranscriptLink] = []
    for item in raw:
        url = _fetchable(feed_url, item.get("url"))
        if url and all(link.url != url for link in links):
            links.append(
                ParsedTranscriptLink(
                    url,
                    _clip((item.get("type") or "").strip().lower() or None, 200),
                    _clip((item.get("language") or "").strip() or None, 35),
                    _clip((item.get("rel") or "").strip() or None, 50),
                )
            )
    return links


# An absolute http(s) URL that ``urljoin`` gives back unchanged (it re-assembles what
# ``urlparse`` split, which drops only empty parts: a bare "?" or "#", a ";" without
# parameters), so it need not be split at all: nearly every URL a feed announces.
PLAIN_HTTP_URL = re.compile(
    r"https?://[!$-.0-9:=A-Z_a-z~]+(?:/[!$-:=A-Z_a-z~]*)?(?:\?[!$-~]+)?(?:#[!-~]+)?"
)


def _fetchable(feed_url: str, value: Any) -> str | None:
    """A URL we may fetch later: relative ones resolved; file: only from a local feed."""
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    if PLAIN_HTTP_URL.fullmatch(value):
        return value if len(value) <= MAX_URL else None
    try:
        url = _url(urljoin(feed_url, value))
    except ValueError:  # an unparseable URL (bad IPv6 brackets, a bad port)
        return None
    if url is None:
        return None
    scheme = urlsplit(url).scheme.lower()
    if scheme in {"http", "https"} or (scheme == "file" and feed_url.startswith("file:")):
        return url
    return None


def _url(value: Any) -> str | None:
    if not value or not isinstance(value, str):
        return None
    url = value.strip()
    if not url or len(url) > MAX_URL:
        return None
    if url.isascii() and "[" not in url and "]" not in url:
        return url  # nothing urlsplit could refuse (unbalanced brackets, odd Unicode hosts)
    try:
        urlsplit(url)  # "http://[::1" would otherwise raise later, taking the whole feed with it
    except ValueError:
        return None
    return url


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else value
