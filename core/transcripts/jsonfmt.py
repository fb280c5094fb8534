"""JSON transcripts: Podcasting 2.0 (``segments`` of ``startTime``/``body``) and podwhisperer
(``speakers`` map plus ``segments`` of ``speakerLabel``/``start``/``text``)."""

from __future__ import annotations

import json
import math
from typing import Any

from core.domain import SegmentData
from core.transcripts.errors import TranscriptParseError
from core.transcripts.text import has_words, squash

# Word-level segments are joined into phrases; a phrase ends at a sentence end, a change of
# speaker, a pause longer than this, or this many words.
_MAX_PAUSE = 1.5
_MAX_WORDS = 40
_SENTENCE_END = (".", "?", "!", "…")


def load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptParseError(
            f"the JSON transcript is not valid JSON (line {exc.lineno}: {exc.msg})"
        ) from exc
    except RecursionError:  # "[[[[…" a hundred thousand deep
        raise TranscriptParseError("the JSON transcript is nested too deeply to read") from None
    except ValueError as exc:  # a number of more than 4,300 digits
        message = f"the JSON transcript cannot be read: {str(exc)[:120]}"
        raise TranscriptParseError(message) from None


def json_flavour(document: Any) -> str | None:
    """'podwhisper', 'json' (Podcasting 2.0) or None when the layout is unknown."""
    if isinstance(document, list):
        document = {"segments": document}
    if not isinstance(document, dict) or not isinstance(document.get("segments"), list):
        return None
    first = next((s for s in document["segments"] if isinstance(s, dict)), {})
    if isinstance(document.get("speakers"), dict) or "speakerLabel" in first:
        return "podwhisper"
    if "startTime" in first or "body" in first:
        return "json"
    return None


def parse_json_document(document: Any) -> tuple[str, list[SegmentData]]:
    if isinstance(document, list):  # some publishers drop the wrapper object
        document = {"segments": document}
    flavour = json_flavour(document)
    if flavour == "podwhisper":
        return flavour, _podwhisper(document)
    if flavour == "json":
        return flavour, _podcasting20(document)
    raise TranscriptParseError(
        "the JSON transcript has an unknown layout (expected a 'segments' list with "
        "'startTime'/'body' or 'speakerLabel'/'start'/'text' entries)"
    )


def _podcasting20(document: dict[str, Any]) -> list[SegmentData]:
    pieces = [
        _segment(item, "startTime", "endTime", "body", item.get("speaker"), index)
        for index, item in enumerate(document["segments"])
    ]
    return _join_words([p for p in pieces if has_words(p.text)])


def _podwhisper(document: dict[str, Any]) -> list[SegmentData]:
    names = {str(k): str(v) for k, v in (document.get("speakers") or {}).items()}
    segments = []
    for index, item in enumerate(document["segments"]):
        label = item.get("speakerLabel") if isinstance(item, dict) else None
        speaker = names.get(str(label), str(label)) if label is not None else None
        segment = _segment(item, "start", "end", "text", speaker, index)
        if has_words(segment.text):
            segments.append(segment)
    return segments


def _segment(
    item: Any, start_key: str, end_key: str, text_key: str, speaker: Any, index: int
) -> SegmentData:
    if not isinstance(item, dict):
        raise TranscriptParseError(f"segment {index + 1} of the JSON transcript is not an object")
    start = _seconds(item.get(start_key), start_key, index)
    end = _seconds(item.get(end_key, start), end_key, index)
    text = item.get(text_key)
    if not isinstance(text, str):
        raise TranscriptParseError(f"segment {index + 1} of the JSON transcript has no text")
    name = squash(speaker) if isinstance(speaker, str) and speaker.strip() else None
    return SegmentData(start=start, end=max(end, start), text=squash(text), speaker=name)


def _seconds(value: Any, key: str, index: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TranscriptParseError(
            f"segment {index + 1} of the JSON transcript has no usable '{key}' time"
        )
    return round(float(value), 3)


def _join_words(pieces: list[SegmentData]) -> list[SegmentData]:
    """Turn word-by-word segments into phrases; segments that already hold phrases stay."""
    if not pieces or sum(" " in p.text for p in pieces) > len(pieces) / 2:
        return pieces
    phrases: list[list[SegmentData]] = []
    for piece in pieces:
        current = phrases[-1] if phrases else None
        if current is None or _phrase_ends(current, piece):
            phrases.append([piece])
        else:
            current.append(piece)
    return [
        SegmentData(
            start=words[0].start,
            end=max(w.end for w in words),
            text=" ".join(w.text for w in words),
            speaker=words[0].speaker,
        )
        for words in phrases
    ]


def _phrase_ends(current: list[SegmentData], piece: SegmentData) -> bool:
    last = current[-1]
    return (
        last.text.endswith(_SENTENCE_END)
        or piece.speaker != last.speaker
        or piece.start - last.end > _MAX_PAUSE
        or len(current) >= _MAX_WORDS
    )
