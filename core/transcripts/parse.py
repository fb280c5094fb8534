"""Bytes of a transcript file in, timestamped segments out."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain import SegmentData
from core.transcripts.detect import detect_format
from core.transcripts.errors import TranscriptParseError
from core.transcripts.frontmatter import FrontMatter, split_front_matter
from core.transcripts.htmlfmt import parse_html
from core.transcripts.jsonfmt import load_json, parse_json_document
from core.transcripts.markdown import parse_markdown
from core.transcripts.plain import parse_bracketed, parse_plain_text
from core.transcripts.speakers import merge_speakers
from core.transcripts.subtitles import parse_srt, parse_vtt
from core.transcripts.tagged import parse_turn_tagged
from core.transcripts.text import decode_text

FORMAT_NAMES = {
    "srt": "SRT",
    "vtt": "WebVTT",
    "json": "Podcasting 2.0 JSON",
    "podwhisper": "podwhisperer JSON",
    "markdown": "Markdown",
    "bracketed": "'[Speaker] [MM:SS]' text",
    "html": "HTML",
    "tagged": "turn-tagged (<turn speaker=… timestamp=…>)",
    "text": "plain text",
}

_PARSERS = {
    "srt": parse_srt,
    "vtt": parse_vtt,
    "markdown": parse_markdown,
    "bracketed": parse_bracketed,
    "html": parse_html,
    "tagged": parse_turn_tagged,
    "text": parse_plain_text,
}


@dataclass(frozen=True, slots=True)
class ParsedTranscript:
    format: str  # one of FORMAT_NAMES; stored as Transcript.format
    segments: list[SegmentData]
    front_matter: FrontMatter | None = None  # the file's own title and date, if it has any

    @property
    def duration_seconds(self) -> float:
        return max(segment.end for segment in self.segments)

    @property
    def speakers(self) -> set[str]:
        return {s.speaker for s in self.segments if s.speaker}


def parse_transcript(
    data: bytes, *, mime_type: str | None = None, url: str | None = None
) -> ParsedTranscript:
    """Read any supported transcript; raises ``TranscriptParseError`` saying what is wrong."""
    front_matter, text = split_front_matter(decode_text(data))
    kind = detect_format(text, mime_type=mime_type, url=url)
    return parse_transcript_text(text, kind, front_matter=front_matter)


def parse_transcript_text(
    text: str, kind: str, *, front_matter: FrontMatter | None = None
) -> ParsedTranscript:
    """Read decoded text as the format ``kind`` (a FORMAT_NAMES key); ``TranscriptParseError``."""
    try:
        kind, segments = _parse_as(kind, text)
    except TranscriptParseError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        # A parser tripping over an odd file must not take the caller down with it.
        raise TranscriptParseError(
            f"the {FORMAT_NAMES[kind]} transcript could not be read ({type(exc).__name__}: "
            f"{str(exc)[:200]})"
        ) from exc
    if not segments:
        raise TranscriptParseError(
            f"the {FORMAT_NAMES[kind]} transcript has no spoken text with times in it"
        )
    return ParsedTranscript(
        format=kind, segments=merge_speakers(segments), front_matter=front_matter
    )


def _parse_as(kind: str, text: str) -> tuple[str, list[SegmentData]]:
    if kind == "json":
        return parse_json_document(load_json(text))
    return kind, _PARSERS[kind](text)
