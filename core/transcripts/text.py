"""Text helpers every transcript format shares: decoding, clean-up, timestamps."""

from __future__ import annotations

import re

from core.transcripts.errors import TranscriptParseError

# Speech at roughly 150 words a minute is about 15 characters a second: used to guess how long
# an utterance lasts when the file gives no end time.
CHARS_PER_SECOND = 15.0

_ANNOTATION = re.compile(r"\[[^\[\]\n]{1,60}\]")
_ANNOTATION_BEFORE_PUNCTUATION = re.compile(r"\s*\[[^\[\]\n]{1,60}\](?=\s*[,.;:!?])")
_SPACES = re.compile(r"\s+")
_WORDISH = re.compile(r"\w")
_CLOCK = re.compile(r"^(?:(\d{1,3}):)?([0-5]?\d):([0-5]?\d)(?:[.,](\d{1,3}))?$")


def decode_text(data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM), UTF-16 by BOM, else Windows-1252."""
    if not data.strip():
        raise TranscriptParseError("the transcript file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _reject_binary(data.decode("utf-16"))
        except UnicodeDecodeError as exc:
            raise TranscriptParseError("the transcript is not readable UTF-16 text") from exc
    try:
        return _reject_binary(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return _reject_binary(data.decode("cp1252", errors="replace"))


def _reject_binary(text: str) -> str:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t\f")
    if "\x00" in sample or controls > len(sample) * 0.02 or sample.count("\ufffd") > 20:
        raise TranscriptParseError("the transcript is not text (it looks like binary data)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def strip_annotations(text: str) -> str:
    """Drop bracketed non-speech notes such as [laughs] or [unintelligible 00:14:47]."""
    # "know [laughs], that" -> "know, that", not "know , that".
    return _ANNOTATION.sub(" ", _ANNOTATION_BEFORE_PUNCTUATION.sub("", text))


def squash(text: str) -> str:
    """Collapse runs of whitespace into single spaces."""
    return _SPACES.sub(" ", text).strip()


def has_words(text: str) -> bool:
    return bool(_WORDISH.search(text))


def clock_to_seconds(value: str) -> float | None:
    """'MM:SS', 'HH:MM:SS' or either with a fraction ('.27' or ',500') to seconds."""
    match = _CLOCK.match(value.strip())
    if match is None:
        return None
    hours, minutes, seconds, fraction = match.groups()
    total = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    if fraction:
        total += int(fraction) / (10 ** len(fraction))
    return float(total)


def spoken_duration(text: str) -> float:
    """A guess at how long saying ``text`` takes, at least one second."""
    return max(1.0, len(text) / CHARS_PER_SECOND)
