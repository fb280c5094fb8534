"""Where each public page lives, from the configured ``public_url``."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from core.chat.page_links import insight_page_url


class PublicUrlError(ValueError):
    """A ``public_url`` that is not an absolute http(s) URL without query or fragment."""


def normalise_public_url(raw: str) -> str:
    """An empty value stays empty (no pages); otherwise the URL without a trailing slash."""
    value = raw.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PublicUrlError(
            f"public_url must be an http(s) URL like https://brief.example.org, not {raw!r}"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise PublicUrlError(f"public_url must not carry a query, fragment or login: {raw!r}")
    return value.rstrip("/")


def topic_slug(topic: str) -> str:
    """Stored topics are normalised (lower case, no hyphens), so a hyphen stands for a space."""
    return topic.strip().replace(" ", "-")


def topic_from_slug(slug: str) -> str:
    return slug.strip().replace("-", " ")


class PageUrls:
    """Absolute URLs of the public pages under one base (``public_url``)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def home(self) -> str:
        return f"{self.base}/"

    def insight(self, insight_id: int) -> str:
        return insight_page_url(self.base, insight_id)

    def episode(self, episode_id: int) -> str:
        return f"{self.base}/episodes/{episode_id}"

    def show(self, feed_id: int) -> str:
        return f"{self.base}/shows/{feed_id}"

    def topic(self, topic: str) -> str:
        return f"{self.base}/topics/{quote(topic_slug(topic), safe='')}"

    def search(self, query: str = "") -> str:
        return f"{self.base}/search?q={quote(query)}" if query else f"{self.base}/search"

    def sitemap(self) -> str:
        return f"{self.base}/sitemap.xml"
