"""HTML transcripts in the Podcasting 2.0 style: ``<cite>Name:</cite> <time>0:00</time>
<p>words</p>``; any other HTML is read as paragraphs of text (``Name:`` prefixes still count)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from core.domain import SegmentData
from core.transcripts.subtitles import split_speaker_prefix
from core.transcripts.text import clock_to_seconds, has_words, squash, strip_annotations
from core.transcripts.timing import Passage, time_passages

_BLOCKS = {
    "p", "div", "li", "br", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
    "blockquote", "dd", "dt", "hr", "body",
}  # fmt: skip
_HIDDEN = {"script", "style", "head", "title", "template", "noscript"}
# A "<" that cannot open a tag (no name after it, or no ">" before the next "<") is text.
# HTMLParser would hand it over a character at a time (a megabyte of "<": 2-3 s of CPU) or,
# for "<a<a<a...", rescan the rest of the input at each one (64 KB: 5 s); as "&lt;" it joins
# the text around it. Each scan stops at the next "<" or ">", so this pass is linear.
_LONE_LT = re.compile(r"<(?![A-Za-z/!?])|<(?=[^<>]*(?:<|\Z))")


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:2000].lower()
    return head.startswith(("<!doctype html", "<html", "<body", "<p", "<cite", "<div")) or bool(
        re.search(r"<(cite|p|br|div|time)\b[^>]*>", head)
    )


def parse_html(text: str) -> list[SegmentData]:
    reader = _TranscriptHTML()
    reader.feed(_LONE_LT.sub("&lt;", text))
    reader.close()
    return time_passages(reader.finish())


class _TranscriptHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._passages: list[Passage] = []
        self._words: list[str] = []
        self._speaker: str | None = None
        self._stamps: list[float] = []
        self._inside: str | None = None  # "cite" or "time" while collecting their text
        self._special: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden_depth += 1
        elif tag in ("cite", "time"):
            self._end_paragraph()
            self._inside, self._special = tag, []
            moment = dict(attrs).get("datetime") if tag == "time" else None
            seconds = clock_to_seconds(moment) if moment else None
            if seconds is not None:
                self._stamps.append(seconds)
                self._inside = "time-done"
        elif tag in _BLOCKS:
            self._end_paragraph()

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag == "cite" and self._inside == "cite":
            name = squash("".join(self._special)).rstrip(":").strip()
            self._speaker = name or self._speaker
            self._inside = None
        elif tag == "time" and self._inside in ("time", "time-done"):
            seconds = clock_to_seconds(squash("".join(self._special)))
            if self._inside == "time" and seconds is not None:
                self._stamps.append(seconds)
            self._inside = None
        elif tag in _BLOCKS:
            self._end_paragraph()

    def handle_data(self, data: str) -> None:
        if self._hidden_depth:
            return
        if self._inside is not None:
            self._special.append(data)
        else:
            self._words.append(data)

    def _end_paragraph(self) -> None:
        if not self._words:  # most calls (every cite, time and block tag opens one): no text
            return
        name, body = split_speaker_prefix(squash("".join(self._words)))
        self._words = []
        self._speaker = name or self._speaker
        words = squash(strip_annotations(body))
        if has_words(words):
            stamps = [(0, seconds) for seconds in self._stamps]
            self._passages.append(Passage(text=words, speaker=self._speaker, stamps=stamps))
            self._stamps = []

    def finish(self) -> list[Passage]:
        self._end_paragraph()
        return self._passages
