"""Teach feedparser the Podcasting 2.0 tags it does not know.

feedparser keeps an unknown namespaced element as one dict of attributes, so an item with two
``podcast:transcript`` links (say SRT and VTT) keeps only the last, and ``podcast:person`` loses
the person's name (its text). These handlers collect every transcript and person, the way
feedparser's own namespace modules (e.g. ``feedparser.namespaces.psc``) do.
"""

from __future__ import annotations

from typing import Any

import feedparser
import feedparser.api
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import make_safe_absolute_uri

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
# Feeds in the wild also use these spellings of the namespace.
PODCAST_NS_ALIASES = (
    PODCAST_NS,
    "https://podcastindex.org/namespace/1.0/",
    "http://podcastindex.org/namespace/1.0",
    "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
)


class PodcastNamespace:
    """Mixed into feedparser's parser classes: handlers named ``_start_podcast_<tag>``, and
    enclosures made absolute."""

    def _start_enclosure(self, attrs_d: dict[str, Any]) -> None:
        """feedparser keeps an enclosure's URL as written, where it resolves a link's against
        the element's base (its ``xml:base``, else the feed's own URL): "/audio/1.mp3" could
        be neither played nor shown. It is resolved the same way here; one of an unsafe
        scheme (``javascript:``) stays as written, as before (pages show only http(s) links,
        the fetcher fetches nothing else). The URL as written stays beside it, since an
        episode without a GUID is known by it (``dedup_key``: stored keys must not change)."""
        super()._start_enclosure(attrs_d)  # type: ignore[misc]
        link = self._get_context()["links"][-1]  # type: ignore[attr-defined]
        given = link.get("href")
        # Nearly every enclosure is an absolute http(s) URL: kept exactly as written, as
        # before (and no urljoin per episode on ingest's hot path).
        if given and not given.lstrip().lower().startswith(("http://", "https://")):
            link["given_href"] = given
            base = self.baseuri or ""  # type: ignore[attr-defined]
            link["href"] = make_safe_absolute_uri(base, given) or given

    def _start_podcast_transcript(self, attrs_d: dict[str, Any]) -> None:
        context = self._get_context()  # type: ignore[attr-defined]
        context.setdefault("podcast_transcripts", []).append(dict(attrs_d))

    def _start_podcast_chapters(self, attrs_d: dict[str, Any]) -> None:
        context = self._get_context()  # type: ignore[attr-defined]
        context.setdefault("podcast_chapters", dict(attrs_d))

    def _start_podcast_person(self, attrs_d: dict[str, Any]) -> None:
        context = self._get_context()  # type: ignore[attr-defined]
        context.setdefault("podcast_persons", []).append(dict(attrs_d))
        self.push("podcast_person_name", 1)  # type: ignore[attr-defined]

    def _end_podcast_person(self) -> None:
        name = self.pop("podcast_person_name")  # type: ignore[attr-defined]
        context = self._get_context()  # type: ignore[attr-defined]
        context.pop("podcast_person_name", None)
        persons = context.get("podcast_persons")
        if persons and isinstance(name, str):
            persons[-1]["name"] = name.strip()


_installed = False


def install() -> None:
    """Idempotent; called before each parse (not at import: no import-time side effects)."""
    global _installed
    if _installed:
        return
    for uri in PODCAST_NS_ALIASES:
        _FeedParserMixin.namespaces[uri] = "podcast"
        # feedparser fills this lower-cased copy once, on its first parser.
        if _FeedParserMixin._matchnamespaces:
            _FeedParserMixin._matchnamespaces[uri.lower()] = "podcast"
    api: Any = feedparser.api
    api.StrictFeedParser = type("StrictFeedParser", (PodcastNamespace, api.StrictFeedParser), {})
    api.LooseFeedParser = type("LooseFeedParser", (PodcastNamespace, api.LooseFeedParser), {})
    _installed = True
