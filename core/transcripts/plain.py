"""Plain-text transcripts.

``bracketed``: one utterance per line, ``[Speaker] [MM:SS] text`` or ``[HH:MM:SS]`` after the
first hour (Whisper plus diarization, as the Oxide and Friends archive has them). A line ends
where the next begins; the last line lasts as long as its words take to say.

``text``: anything else. Paragraphs (or lines), an optional ``Name:`` prefix and optional
leading ``[00:01:02]`` / ``00:01:02`` stamps; times between stamps are interpolated.
"""

from __future__ import annotations

import re

from core.domain import SegmentData
from core.transcripts.errors import TranscriptParseError
from core.transcripts.subtitles import split_speaker_prefix
from core.transcripts.text import (
    clock_to_seconds,
    has_words,
    spoken_duration,
    squash,
    strip_annotations,
)
from core.transcripts.timing import Passage, time_passages

_BRACKETED = re.compile(r"^\[([^\[\]\n]{1,80})\][ \t]+\[((?:\d{1,3}:)?\d{1,2}:\d{2})\][ \t]*(.*)$")
_LEADING_STAMP = re.compile(r"^\[?((?:\d{1,3}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?)\]?[ \t]+")


def looks_bracketed(text: str) -> bool:
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    hits = sum(1 for line in lines if _BRACKETED.match(line.strip()))
    return bool(lines) and hits >= max(1, len(lines) // 2)


def parse_bracketed(text: str) -> list[SegmentData]:
    rows: list[tuple[str, float, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _BRACKETED.match(line)
        if match is None:
            if not rows:
                raise TranscriptParseError(
                    f"line {number} is not '[Speaker] [MM:SS] text': {line[:80]!r}"
                )
            speaker, start, words = rows[-1]
            rows[-1] = (speaker, start, f"{words} {line}")  # a wrapped utterance
            continue
        seconds = clock_to_seconds(match.group(2))
        if seconds is None:
            raise TranscriptParseError(f"line {number} has an unreadable time {match.group(2)!r}")
        rows.append((squash(match.group(1)), seconds, match.group(3)))
    return _bracketed_segments(rows)


def _bracketed_segments(rows: list[tuple[str, float, str]]) -> list[SegmentData]:
    segments: list[SegmentData] = []
    for index, (speaker, start, raw_words) in enumerate(rows):
        words = squash(strip_annotations(raw_words))
        if not has_words(words):
            continue
        following = rows[index + 1][1] if index + 1 < len(rows) else None
        end = following if following is not None and following >= start else None
        if end is None:
            end = start + spoken_duration(words)
        segments.append(SegmentData(start=start, end=end, text=words, speaker=speaker))
    return segments


def parse_plain_text(text: str) -> list[SegmentData]:
    return time_passages(text_passages(text))


def text_passages(text: str) -> list[Passage]:
    """Paragraphs when the text has blank lines between them, else lines."""
    blocks = re.split(r"\n[ \t]*\n", text) if re.search(r"\n[ \t]*\n", text) else text.split("\n")
    passages: list[Passage] = []
    speaker: str | None = None
    for block in blocks:
        stamps: list[tuple[int, float]] = []
        body = block.strip()
        stamp = _LEADING_STAMP.match(body)
        if stamp is not None:
            seconds = clock_to_seconds(stamp.group(1))
            stamps = [(0, seconds)] if seconds is not None else []
            body = body[stamp.end() :]
        name, body = split_speaker_prefix(body)
        speaker = name or speaker
        words = squash(strip_annotations(body))
        if has_words(words):
            passages.append(Passage(text=words, speaker=speaker, stamps=stamps))
    return passages
