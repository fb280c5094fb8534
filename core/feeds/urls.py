"""What a feed URL may be: http(s) for anyone; file:// and local paths for the operator."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from core.feeds.errors import FeedError

MAX_URL = 2048


def normalise_feed_url(url: str, *, untrusted: bool = False) -> str:
    """The URL to store, or ``FeedError``. Local paths become absolute file:// URLs."""
    text = url.strip()
    if not text:
        raise FeedError("the feed URL is empty")
    if text.lower().startswith("feed://"):
        text = "http://" + text[len("feed://") :]
    if len(text) > MAX_URL:
        raise FeedError(f"the feed URL is longer than {MAX_URL} characters")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in {"http", "https"}:
        if not parts.hostname:
            raise FeedError(f"the feed URL has no host name: {text}")
        return text
    if untrusted:
        raise FeedError("only http and https feed URLs are accepted")
    if scheme == "file":
        return _existing_file(Path(unquote(parts.path)))
    if scheme == "" or (len(scheme) == 1 and text[1:2] == ":"):  # a path (or C:\ on Windows)
        return _existing_file(Path(text).expanduser())
    raise FeedError(f"unsupported URL scheme '{scheme}': use http, https, file:// or a path")


def _existing_file(path: Path) -> str:
    resolved = path.resolve()
    if resolved.is_dir():
        raise FeedError(f"{path} is a folder, not a feed file")
    if not resolved.is_file():
        raise FeedError(f"no such file: {path}")
    return resolved.as_uri()
