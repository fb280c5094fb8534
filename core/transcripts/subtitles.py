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


# One SRT cue's header: an optional index line, then "start --> end". Bounded repeats and a match
# anchored at a block's start keep it linear: srt.parse() runs its unanchored pattern from every
# position of the file, which takes minutes on a megabyte of spaces or digits (found by fuzzing).
_SEP = r"[,.:，．。：]"
_TS = rf"\d{{1,10}}{_SEP}\d{{1,10}}{_SEP}\d{{1,10}}{_SEP}?\d{{0,10}}"
_CUE_HEADER = re.compile(
    rf"[ \t]{{0,20}}(?:-?\d{{1,10}}(?:\.\d{{0,10}})?[ \t]{{0,20}}\r?\n)?[ \t]{{0,20}}"
    rf"({_TS}) {{0,20}}-[ -] {{0,20}}> {{0,20}}({_TS})[^\r\n]{{0,2000}}(?:\r?\n|\Z)"
)
_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")


def srt_cues(text: str) -> list[tuple[float, float, str]]:
    """(start, end, content) of every cue, as srt.parse() reads them, in linear time. A block
    that is not a cue continues the cue before it (blank lines inside a cue's text)."""
    cues: list[tuple[float, float, str]] = []
    for block in _BLANK_LINE.split(text.lstrip("\ufeff")):
        header = _CUE_HEADER.match(block)
        if header is None:
            if cues:
                start, end, content = cues[-1]
                cues[-1] = (start, end, f"{content}\n\n{block}")
            elif block.strip():
                raise TranscriptParseError(
                    f"the SRT file is malformed: no cue header in {block.strip()[:60]!r}"
                )
            continue
        try:
            start = srt.srt_timestamp_to_timedelta(header.group(1)).total_seconds()
            end = srt.srt_timestamp_to_timedelta(header.group(2)).total_seconds()
        except (ValueError, OverflowError) as exc:  # TimestampParseError is a ValueError
            raise TranscriptParseError(f"the SRT file is malformed: {_first_line(exc)}") from exc
        cues.append((start, end, block[header.end() :]))
    return cues


def parse_srt(text: str) -> list[SegmentData]:
    """Cues in file order; a ``Name:`` prefix sets the speaker until the next prefix."""
    segments: list[SegmentData] = []
    speaker: str | None = None
    for cue_start, cue_end, content in srt_cues(text):
        name, body = split_speaker_prefix(content.strip())
        speaker = name or speaker
        words = clean_cue_text(body)
        if not has_words(words):
            continue
        start = max(cue_start, 0.0)
        end = max(cue_end, start)
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
