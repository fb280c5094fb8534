"""SubRip (via ``srt``) and WebVTT (via ``webvtt-py``) captions to segments."""

from __future__ import annotations

import html
import re

import srt
import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from core.domain import SegmentData
from core.transcripts.errors import TranscriptParseError
from core.transcripts.text import has_words, squash, strip_annotations

# "Bekah Hawrot Weigel: Hey" — up to four capitalised words, then a colon, at the start of a cue.
_SPEAKER_PREFIX = re.compile(r"^((?:[A-Z][\w.'’-]*)(?: [A-Z][\w.'’-]*){0,3}):(?:\s+|$)")


def split_speaker_prefix(text: str) -> tuple[str | None, str]:
    """'Dan: And I'm Dan.' -> ('Dan', "And I'm Dan."); text without a prefix is unchanged."""
    match = _SPEAKER_PREFIX.match(text)
    if match is None or _looks_like_clock(match.group(1)):
        return None, text
    return match.group(1), text[match.end() :]


def _looks_like_clock(name: str) -> bool:
    return name.replace(".", "").isdigit()


def clean_cue_text(text: str) -> str:
    return squash(strip_annotations(squash(html.unescape(text))))


def parse_srt(text: str) -> list[SegmentData]:
    """Cues in file order; a ``Name:`` prefix sets the speaker until the next prefix."""
    try:
        cues = list(srt.parse(text))
    except srt.SRTParseError as exc:
        raise TranscriptParseError(f"the SRT file is malformed: {_first_line(exc)}") from exc
    segments: list[SegmentData] = []
    speaker: str | None = None
    for cue in cues:
        name, body = split_speaker_prefix(cue.content.strip())
        speaker = name or speaker
        words = clean_cue_text(body)
        if not has_words(words):
            continue
        start = cue.start.total_seconds()
        end = max(cue.end.total_seconds(), start)
        segments.append(SegmentData(start=start, end=end, text=words, speaker=speaker))
    return segments


def parse_vtt(text: str) -> list[SegmentData]:
    """Cues in file order; the speaker comes from ``<v Name>`` or a ``Name:`` prefix."""
    try:
        captions = webvtt.from_string(text)
    except (MalformedFileError, MalformedCaptionError) as exc:
        raise TranscriptParseError(f"the WebVTT file is malformed: {_first_line(exc)}") from exc
    segments: list[SegmentData] = []
    speaker: str | None = None
    for caption in captions.captions:
        body = caption.text.strip()
        voice = caption.voice
        if voice is None:
            voice, body = split_speaker_prefix(body)
        speaker = html.unescape(voice).strip() if voice else speaker
        words = clean_cue_text(body)
        if not has_words(words):
            continue
        start = caption.start_time.in_milliseconds() / 1000
        end = max(caption.end_time.in_milliseconds() / 1000, start)
        segments.append(SegmentData(start=start, end=end, text=words, speaker=speaker))
    return segments


def _first_line(exc: Exception) -> str:
    message = str(exc).strip().splitlines()
    return message[0][:200] if message else type(exc).__name__
