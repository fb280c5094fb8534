"""Show notes as a stand-in transcript when an episode announces none."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from core.domain import SegmentData
from core.transcripts.text import squash

# Fewer words than this is a placeholder ("Episode 12", a lone link), not notes worth reading.
MIN_WORDS = 8
_URL = re.compile(r"https?://\S+")
_WORD = re.compile(r"[^\W\d_]{2,}")
_BLOCKS = {"p", "div", "li", "br", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "hr"}


def shownotes_segments(description: str | None) -> list[SegmentData]:
    """One untimed segment per paragraph of the notes; empty when there is no real text."""
    if not description:
        return []
    paragraphs = [squash(p) for p in _paragraphs(description)]
    paragraphs = [p for p in paragraphs if p]
    words = sum(len(_WORD.findall(_URL.sub(" ", p))) for p in paragraphs)
    if words < MIN_WORDS:
        return []
    return [SegmentData(start=0.0, end=0.0, text=p, speaker=None) for p in paragraphs]


def _paragraphs(description: str) -> list[str]:
    reader = _Paragraphs()
    reader.feed(description)
    reader.close()
    return reader.finish()


class _Paragraphs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._done: list[str] = []
        self._current: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        elif tag in _BLOCKS:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self._break()

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        # Plain-text notes separate paragraphs with blank lines.
        chunks = re.split(r"\n[ \t]*\n", data)
        for index, chunk in enumerate(chunks):
            if index:
                self._break()
            self._current.append(chunk)

    def _break(self) -> None:
        self._done.append("".join(self._current))
        self._current = []

    def finish(self) -> list[str]:
        self._break()
        return self._done
