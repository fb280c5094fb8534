"""Which transcript format a file is in.

The content decides first, because feeds often announce a generic or wrong type
(text/plain, application/octet-stream, an .srt URL serving WebVTT). The announced type only
settles what the content alone cannot tell apart.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from core.transcripts.htmlfmt import looks_like_html
from core.transcripts.markdown import looks_like_markdown
from core.transcripts.plain import looks_bracketed
from core.transcripts.tagged import looks_turn_tagged

_MIME_FORMATS = {
    "application/json": "json",
    "text/json": "json",
    "application/x-json": "json",
    "text/vtt": "vtt",
    "application/srt": "srt",
    "application/x-subrip": "srt",
    "application/x-srt": "srt",
    "text/srt": "srt",
    "text/x-srt": "srt",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/plain": "text",
}
_EXTENSION_FORMATS = {
    ".json": "json",
    ".vtt": "vtt",
    ".webvtt": "vtt",
    ".srt": "srt",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
}
_SRT_START = re.compile(r"^(?:\d+[ \t]*\n)?[ \t]*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}[ \t]*-->")


def format_from_mime(mime_type: str | None) -> str | None:
    if not mime_type:
        return None
    essence = mime_type.split(";", 1)[0].strip().lower()
    if essence.endswith("+json"):
        return "json"
    return _MIME_FORMATS.get(essence)


def format_from_url(url: str | None) -> str | None:
    if not url:
        return None
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    return _EXTENSION_FORMATS.get(suffix)


def announced_format(mime_type: str | None, url: str | None) -> str | None:
    """The feed's claim: a specific MIME type, else the URL's extension, else a generic type."""
    by_mime = format_from_mime(mime_type)
    if by_mime not in (None, "text"):
        return by_mime
    return format_from_url(url) or by_mime


def sniff_format(text: str) -> str | None:
    """A format the content proves on its own, or None."""
    head = text.lstrip()
    if head.startswith("WEBVTT"):
        return "vtt"
    if head[:1] == "{" and head.rstrip().endswith("}"):
        return "json"
    if head[:1] == "[" and head[1:].lstrip()[:1] in ("{", "]"):
        return "json"  # a bare list of segments
    if _SRT_START.match(head):
        return "srt"
    if looks_bracketed(head):
        return "bracketed"
    if looks_turn_tagged(head):
        return "tagged"
    return None


def detect_format(text: str, *, mime_type: str | None = None, url: str | None = None) -> str:
    sniffed = sniff_format(text)
    if sniffed is not None:
        return sniffed
    claimed = announced_format(mime_type, url)
    if claimed in ("json", "vtt", "srt", "html", "markdown"):
        return claimed
    if looks_like_html(text):
        return "html"
    if looks_like_markdown(text):
        return "markdown"
    return "text"
