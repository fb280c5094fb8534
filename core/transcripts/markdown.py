"""Markdown transcripts (as The Changelog publishes them).

``**Name:** text`` starts a turn; later paragraphs without a label belong to the same speaker.
A few ``\\[MM:SS\\]`` or ``\\[HH:MM:SS.ff\\]`` stamps are scattered through the text; the time of
everything else is interpolated between them (see ``timing``). ``**Break:**`` marks an ad
break, not a speaker.
"""

from __future__ import annotations

import html
import re

from core.domain import SegmentData
from core.transcripts.text import clock_to_seconds, has_words, squash
from core.transcripts.timing import Passage, time_passages

_LABEL = re.compile(r"^\*\*([^*\n]{1,80}?)(?::\*\*|\*\*:)[ \t]*")
_BREAK_LABELS = {"break", "ad break", "sponsor", "intro", "outro", "music"}
_LINE_MARKUP = re.compile(r"^[ \t]*(?:>[ \t]?|#{1,6}[ \t]+|[-*+][ \t]+|\d+\.[ \t]+)", re.M)
# Bounded, and no "[" inside: "[[[[…" on one line was quadratic (found by fuzzing).
_IMAGE_OR_LINK = re.compile(
    r"!?(?<!\\)\[([^\[\]\n]{0,500}?)(?<!\\)\]\([^()\[\]\s]{0,2000}(?:\s+\"[^\"\n]{0,500}\")?\)"
)
_STRONG = re.compile(r"(?<!\\)(?:\*\*|__)")
_EMPHASIS = re.compile(r"(?<![\w\\])[*_]([^*_\n]{1,500}?)(?<!\\)[*_](?!\w)")
_STAGE_NOTE = re.compile(r"(?<![\w*])\*(?:[^\s*][^*\n]{0,30}?)\*(?![\w*])(?=\s|$|[.,!?])")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~])")
_BRACKETS = re.compile(r"\[([^\[\]\n]{1,80})\]")
_TRAILING_CLOCK = re.compile(r"(?:^|\s)((?:\d{1,3}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?)\s*$")
_STAMP_MARK = "\x01"
_NOTE_MARK = "\x02"
_NOTE_BEFORE_PUNCTUATION = re.compile(r"\s*\x02\s*(?=[,.;:!?])")


def looks_like_markdown(text: str) -> bool:
    return len(re.findall(r"^\*\*[^*\n]{1,80}?(?::\*\*|\*\*:)", text, re.M)) >= 2


def parse_markdown(text: str) -> list[SegmentData]:
    return time_passages(markdown_passages(text))


def markdown_passages(text: str) -> list[Passage]:
    passages: list[Passage] = []
    speaker: str | None = None
    carried: list[float] = []  # stamps seen on a line with no words (e.g. a break marker)
    for block in re.split(r"\n[ \t]*\n", _LINE_MARKUP.sub("", text)):
        if not block or block.isspace():
            continue
        label, block = _split_label(block.strip())
        if label is not None and label.lower() not in _BREAK_LABELS:
            speaker = label
        body, stamps = _clean(block)
        if not has_words(body):
            carried.extend(seconds for _, seconds in stamps)
            continue
        leading = [(0, seconds) for seconds in carried]
        passages.append(Passage(text=body, speaker=speaker, stamps=leading + stamps))
        carried = []
    return passages


def _split_label(block: str) -> tuple[str | None, str]:
    match = _LABEL.match(block)
    if match is None:
        return None, block
    return squash(match.group(1)), block[match.end() :]


def _clean(block: str) -> tuple[str, list[tuple[int, float]]]:
    """Markdown paragraph to plain words, and its stamps as (offset in the words, seconds)."""
    # Each pass runs only when its mark is present: most paragraphs have none of them, and a
    # megabyte of short turns paid ten regular-expression passes each (1.7 s of CPU).
    plain = _IMAGE_OR_LINK.sub(r"\1", block) if "[" in block else block
    if "*" in plain or "_" in plain:
        plain = _EMPHASIS.sub(r"\1", _STRONG.sub("", plain))
    plain = plain.replace("`", "")
    if "\\" in plain:
        plain = _ESCAPE.sub(r"\1", plain)
    if "&" in plain:
        plain = html.unescape(plain)
    if "*" in plain or "_" in plain:
        # Escaped asterisks (\*kazoo\*) survive the emphasis pass: a short one is a stage
        # note like [laughs] and goes; a longer one is emphasis and keeps its words.
        plain = _EMPHASIS.sub(r"\1", _STAGE_NOTE.sub(" ", plain))
    # The file's own control characters (or "&#1;") must not pass for our marks (an IndexError).
    plain = plain.replace(_STAMP_MARK, " ").replace(_NOTE_MARK, " ")
    seen: list[float] = []

    def bracket(match: re.Match[str]) -> str:
        # Every bracket is a stamp or a note like [laughs]; a note that ends in a time
        # ("unintelligible 00:14:47.20") still tells us when we are.
        inner = match.group(1).strip()
        clock = _TRAILING_CLOCK.search(inner)
        seconds = clock_to_seconds(clock.group(1)) if clock else None
        if seconds is None:
            return _NOTE_MARK
        seen.append(seconds)
        return f" {_STAMP_MARK} "

    marked = _BRACKETS.sub(bracket, plain) if "[" in plain else plain
    if _NOTE_MARK in marked:
        marked = _NOTE_BEFORE_PUNCTUATION.sub("", marked)
    marked = squash(marked.replace(_NOTE_MARK, " "))
    return _take_marks(marked, seen)


def _take_marks(marked: str, seconds: list[float]) -> tuple[str, list[tuple[int, float]]]:
    pieces = [squash(piece) for piece in marked.split(_STAMP_MARK)]
    words = ""
    stamps: list[tuple[int, float]] = []
    for index, piece in enumerate(pieces):
        if index > 0:
            stamps.append((len(words), seconds[index - 1]))
        if piece:
            words = f"{words} {piece}" if words else piece
    return words, stamps
