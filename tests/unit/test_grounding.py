"""Grounding a model's quotes in the transcript: exact, tolerant, repaired or dropped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.domain import SegmentData
from core.llm.grounding import TranscriptIndex
from core.transcripts.parse import parse_transcript

SEGMENTS = [
    SegmentData(0.0, 4.0, "Welcome back to the show, everyone.", "Ann"),
    SegmentData(4.0, 9.0, "Pricing is the hardest problem we never talk about.", "Bob"),
    SegmentData(9.0, 14.0, "If you charge too little, customers don't value it.", "Bob"),
    SegmentData(14.0, 20.0, "That's  why we doubled   our price last year — and churn fell.", "A"),
]


def test_a_verbatim_quote_takes_speaker_and_time_from_its_segment() -> None:
    match = TranscriptIndex(SEGMENTS).ground("If you charge too little, customers don't value it.")
    assert match is not None and not match.repaired
    assert (match.speaker, match.start_seconds, match.end_seconds) == ("Bob", 9.0, 14.0)
    assert match.quote == "If you charge too little, customers don't value it."


def test_whitespace_and_punctuation_differences_are_tolerated_and_the_transcript_wins() -> None:
    quote = "Thats why we doubled our price last year... and churn fell"
    match = TranscriptIndex(SEGMENTS).ground(quote)
    assert match is not None and not match.repaired
    assert match.quote == "That's  why we doubled   our price last year — and churn fell."
    assert match.speaker == "A" and match.start_seconds == 14.0


def test_a_quote_across_segments_starts_at_the_first_and_ends_at_the_last() -> None:
    match = TranscriptIndex(SEGMENTS).ground("we never talk about. If you charge too little")
    assert match is not None
    assert match.quote == "we never talk about. If you charge too little,"
    assert (match.start_seconds, match.end_seconds, match.speaker) == (4.0, 14.0, "Bob")


def test_a_different_word_is_not_whitespace_or_punctuation() -> None:
    # Same length, one word changed: not verbatim, and too short to repair.
    index = TranscriptIndex(SEGMENTS)
    assert index.ground("If you charge too much, customers don't value it.") is None


def test_letters_must_start_and_end_on_word_boundaries() -> None:
    # "ricing is the hardest" is inside "Pricing is the hardest" but is not what was said.
    index = TranscriptIndex(SEGMENTS)
    assert index.ground("ricing is the hardest") is None
    assert index.ground("Pricing is the hardes") is None


def test_an_invented_quote_is_dropped() -> None:
    index = TranscriptIndex(SEGMENTS)
    assert index.ground("Our competitors are all going bankrupt next quarter.") is None
    assert index.ground("") is None
    assert index.ground("!!! ...") is None
    assert index.ground("Pricing") is None  # said, but a word proves nothing


def test_a_quote_with_words_added_is_repaired_to_what_was_really_said() -> None:
    quote = "Honestly, pricing is the hardest problem we never talk about enough in this industry"
    match = TranscriptIndex(SEGMENTS).ground(quote)
    assert match is not None and match.repaired
    assert match.quote == "Pricing is the hardest problem we never talk about."
    assert match.start_seconds == 4.0 and match.speaker == "Bob"


def test_a_mostly_invented_quote_with_a_few_real_words_is_not_repaired() -> None:
    quote = "Pricing is the hardest thing, said the CEO of a company that failed in many ways"
    assert TranscriptIndex(SEGMENTS).ground(quote) is None


def _transcripts(shared: Path) -> list[Path]:
    return sorted(p for p in (shared / "transcripts").iterdir() if p.is_file())


def test_every_segment_of_every_shared_transcript_grounds_back_to_its_words(
    shared_data: Path,
) -> None:
    checked = 0
    for path in _transcripts(shared_data):
        segments = parse_transcript(path.read_bytes(), url=path.name).segments
        index = TranscriptIndex(segments)
        for i in range(0, len(segments), max(1, len(segments) // 25)):
            words = re.findall(r"\w+(?:'\w+)*", segments[i].text)
            if len(words) < 4:
                continue
            quote = " ".join(words)  # punctuation stripped, as a model might
            match = index.ground(quote)
            assert match is not None, (path.name, i, quote)
            assert not match.repaired
            assert re.findall(r"\w+(?:'\w+)*", match.quote)[: len(words)] == words
            first = segments[match.first_segment]
            assert (match.start_seconds, match.speaker) == (first.start, first.speaker)
            checked += 1
    assert checked > 200


@pytest.mark.parametrize("name", ["oxide__2023_dtrace-at-20_transcript.txt"])
def test_a_paraphrase_of_real_speech_is_dropped_not_guessed(shared_data: Path, name: str) -> None:
    path = shared_data / "transcripts" / name
    index = TranscriptIndex(parse_transcript(path.read_bytes(), url=name).segments)
    assert index.ground("DTrace was designed mostly to make Oracle databases faster.") is None
