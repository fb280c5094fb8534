"""Every transcript in ../shared/data/transcripts parses into the segments the file holds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

from core.domain import SegmentData
from core.transcripts.errors import TranscriptParseError
from core.transcripts.parse import ParsedTranscript, parse_transcript


@dataclass(frozen=True)
class Expected:
    format: str
    count: int
    first: tuple[float, float, str | None, str]  # start, end, speaker, text
    last: tuple[float, float, str | None, str]
    speakers: frozenset[str]
    line: tuple[float, str | None, str]  # a known line further in: start, speaker, text


def S(*names: str) -> frozenset[str]:
    return frozenset(names)


EXPECTED = {
    "podcastindex__example.srt": Expected(
        "srt", 222,
        (0.179, 2.399, "Travis", "When you first get started in podcasting, it's"),
        (752.671, 754.769, "Travis", "best thing to do is to batch your episodes."),
        S("Travis", "Sarah", "Gilon"),
        (219.36, "Gilon", "So is there an ideal podcast length, short answer?"),
    ),
    "podcastindex__example.vtt": Expected(
        "vtt", 7,
        (0.0, 2.76, "Sarah", "In today's episode, you'll learn whether or not you"),
        (21.45, 25.35, "Gillian", "careers podcast. My question is, do we need a podcast trailer?"),
        S("Sarah", "Gillian"),
        (6.09, "Sarah", "include in one? Welcome to Podcasting Q&A, where you learn"),
    ),
    "podcastindex__example.json": Expected(
        "json", 2,
        (0.5, 2.5, "Darth Vader", "I am your father."),
        (2.75, 3.0, "Luke", "Nooooo"),
        S("Darth Vader", "Luke"),
        (2.75, "Luke", "Nooooo"),
    ),
    "virtualcoffee__1_0.srt": Expected(
        "srt", 54,
        (3.45, 4.41, "Bekah Hawrot Weigel", "Hey, I'm Bekah."),
        (140.189, 144.81, "Dan Ott", "on Twitter @VirtualCoffeeIO and we will talk to you soon!"),
        S("Bekah Hawrot Weigel", "Dan Ott", "Nick Taylor", "Marie Antons", "Tori Crawford",
          "Kirk Shillingford"),
        (47.869, "Nick Taylor", "This, this is kind of where my journey of"),
    ),
    "virtualcoffee__3_3.srt": Expected(
        "srt", 906,  # 907 cues; one holds only "[laughs]."
        (5.953, 9.103, "Bekah Hawrot Weigel", "Hello, and welcome to Season 3, Episode 3"),
        (2990.422, 2993.603, "Dan Ott",
         "a review. Thanks for listening, and we'll see you next week!"),
        S("Bekah Hawrot Weigel", "Dan Ott", "Ayu Adiati"),
        (129.841, "Dan Ott", "Okay."),  # "Dan: [Laughs] Okay."
    ),
    "virtualcoffee__7_4.srt": Expected(
        "srt", 844,
        (7.001, 11.861, "Bekah", "Hello, and welcome to Season seven, episode four of"),
        (2693.117, 2694.978, "Dan", "we'll see you next week!"),
        S("Bekah", "Dan", "Aishwarya"),
        (330.694, "Aishwarya", "hello. So my name is Aishwarya"),
    ),
    "awsbites__10.json": Expected(
        "podwhisper", 96,
        (0.0, 9.8, "Eoin",
         "Hello and welcome to AWS Bites, the weekly show where we answer questions about AWS in"),
        (441.96, 454.36, "Eoin", "for the next episode next week."),
        S("Eoin", "Luciano"),
        (10.8, "Eoin", "My name is Eoin and again, I'm joined by Luciano."),
    ),
    "awsbites__10.vtt": Expected(
        "vtt", 96,
        (0.0, 9.8, None,
         "Hello and welcome to AWS Bites, the weekly show where we answer questions about AWS in"),
        (441.96, 454.36, None, "for the next episode next week."),
        S(),
        (10.8, None, "My name is Eoin and again, I'm joined by Luciano."),
    ),
    "awsbites__150.json": Expected(
        "podwhisper", 340,
        (0.0, 4.62, "Eoin",
         "Regular listeners know that we are big fans of Fargate for running containers on AWS."),
        (1610.42, 1611.44, "Eoin", "We'll see you in the next one."),
        S("Eoin", "Luciano"),
        (129.48, "Luciano", "And that means thinking about CPU, memory, networking, storage,"),
    ),
    "awsbites__150.vtt": Expected(
        "vtt", 340,
        (0.0, 4.62, None,
         "Regular listeners know that we are big fans of Fargate for running containers on AWS."),
        (1610.42, 1611.44, None, "We'll see you in the next one."),
        S(),
        (129.48, None, "And that means thinking about CPU, memory, networking, storage,"),
    ),
    "changelog__practical-ai-300.md": Expected(
        "markdown", 101,
        (0.0, 21.862, "Daniel Whitenack", "Welcome to another episode of the Practical AI"),
        (3236.723, 3238.326, "Jeff Smith", "I appreciate you both."),
        S("Daniel Whitenack", "Chris Benson", "Jeff Smith"),
        (1458.0, "Daniel Whitenack", "What's like an outcome?"),  # "\[24:18\] What's like…"
    ),
    "changelog__the-changelog-500.md": Expected(
        "markdown", 449,
        (0.0, 5.627, "Jerod Santo", "Chris, welcome on the Changelog, man."),
        (5619.261, 5622.356, "Chris Coyier", "Yeah. Take care, fellas. We'll talk soon. See ya."),
        S("Jerod Santo", "Chris Coyier", "Adam Stacoviak"),
        (273.0, "Jerod Santo", "You tend to keep things going."),  # "\[04:33\] You tend…"
    ),
    "changelog__changelog-news-100.md": Expected(
        "markdown", 47,
        (0.0, 6.2, "Jerod Santo", "What up, nerds? I'm Jerod and this is Changelog News"),
        # Stage notes such as \*kazoo\* are not speech: times after them are ~2 s earlier.
        (464.467, 470.8, "Jerod Santo", "Have a great week, leave us a 5-star review"),
        S("Jerod Santo"),
        (38.867, "Jerod Santo", "llama.ttf is a font file which is also an LLM"),  # a link's text
    ),
    "oxide__2021_coders-block_transcript.txt": Expected(
        "bracketed", 387,
        (0.0, 17.0, "Speaker 1", "Alright. Tweet was sent. It's 5 o'clock Pacific."),
        (4847.0, 4848.0, "Speaker 7", "Bye. Bye. Bye."),
        S(*(f"Speaker {n}" for n in range(1, 15))),
        (24.0, "Speaker 2", "I did. It didn't need any edits. So, Brian, it's excellent writing."),
    ),
    "oxide__2023_dtrace-at-20_transcript.txt": Expected(
        "bracketed", 665,
        (0.0, 5.0, "Bryan Cantrill", "Okay. Let's write down how the other sounds"),
        (7444.0, 7445.0, "Adam Leventhal", "Thanks."),
        S("Bryan Cantrill", "Adam Leventhal", "Josh Clulow"),
        (3605.0, "Bryan Cantrill", "Like, you there's a huge search for mister Sparkle"),
    ),
    "oxide__2025_predictions-2025_transcript.txt": Expected(
        "bracketed", 636,
        (0.0, 1.0, "Simon Willison", "Bryan. Hey, Adam."),
        (7315.0, 7317.2, "Bryan Cantrill", "Thanks, everyone. Happy New Year."),
        S("Simon Willison", "Bryan Cantrill", "Steve Klabnik", "Adam Leventhal", "Steve Tuck",
          "Ian Grunert", "Mike Cafarella"),
        (3600.0, "Bryan Cantrill", "Yeah. Long Fox."),  # the first [HH:MM:SS] stamp, [01:00:00]
    ),
}  # fmt: skip


def transcript_dir(shared_data: Path) -> Path:
    return shared_data / "transcripts"


def test_every_shared_transcript_has_expectations(shared_data: Path) -> None:
    on_disk = {p.name for p in transcript_dir(shared_data).iterdir() if p.is_file()}
    assert on_disk == set(EXPECTED)


def _parse(shared_data: Path, name: str, **hints: str) -> ParsedTranscript:
    return parse_transcript((transcript_dir(shared_data) / name).read_bytes(), **hints)


def _assert_segment(segment: SegmentData, expected: tuple[float, float, str | None, str]) -> None:
    start, end, speaker, text = expected
    assert segment.start == pytest.approx(start, abs=0.001)
    assert segment.end == pytest.approx(end, abs=0.001)
    assert segment.speaker == speaker
    assert segment.text.startswith(text)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parses_shared_transcript(shared_data: Path, name: str) -> None:
    expected = EXPECTED[name]
    parsed = _parse(shared_data, name)

    assert parsed.format == expected.format
    assert len(parsed.segments) == expected.count
    _assert_segment(parsed.segments[0], expected.first)
    _assert_segment(parsed.segments[-1], expected.last)
    assert parsed.speakers == expected.speakers
    start, speaker, text = expected.line
    matches = [s for s in parsed.segments if s.text.startswith(text)]
    assert matches, f"no segment starts with {text!r}"
    assert matches[0].start == pytest.approx(start, abs=0.001)
    assert matches[0].speaker == speaker
    assert all(s.end >= s.start >= 0 and s.text.strip() for s in parsed.segments)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("mime", ["application/octet-stream", "text/plain"])
def test_format_comes_from_content_when_the_type_is_generic(
    shared_data: Path, name: str, mime: str
) -> None:
    parsed = _parse(shared_data, name, mime_type=mime, url="https://example.com/transcript")
    assert parsed.format == EXPECTED[name].format
    assert len(parsed.segments) == EXPECTED[name].count


def test_content_wins_over_a_lying_type_and_extension(shared_data: Path) -> None:
    parsed = _parse(
        shared_data, "podcastindex__example.vtt", mime_type="application/srt", url="https://x/t.srt"
    )
    assert parsed.format == "vtt"
    assert parsed.segments[0].speaker == "Sarah"


def test_srt_keeps_non_monotonic_cues_in_file_order(shared_data: Path) -> None:
    segments = _parse(shared_data, "virtualcoffee__7_4.srt").segments
    # Cue 3 starts (00:00:15,808) before cue 2 ends (00:00:18,838).
    assert (segments[1].end, segments[2].start) == (18.838, 15.808)
    assert segments[2].text == "that features members of the Virtual Coffee community."
    assert sum(1 for a, b in pairwise(segments) if b.start < a.end) == 326


def test_srt_speaker_carries_forward_and_short_names_join_full_names(shared_data: Path) -> None:
    segments = _parse(shared_data, "virtualcoffee__1_0.srt").segments
    # "Bekah: And this is the Virtual Coffee Podcast," then an unprefixed cue.
    assert [(s.speaker, s.text) for s in segments[2:4]] == [
        ("Bekah Hawrot Weigel", "And this is the Virtual Coffee Podcast,"),
        ("Bekah Hawrot Weigel", "where we interview members of the community to learn more"),
    ]


def test_annotations_are_dropped_from_text(shared_data: Path) -> None:
    segments = _parse(shared_data, "virtualcoffee__3_3.srt").segments
    assert not any("[" in s.text for s in segments)
    # "-as we all know [Bekah and Ayu\nlaugh], that" (the note spans two lines of the cue)
    assert any(s.text == "-as we all know, that" for s in segments)


def test_markdown_break_is_not_a_speaker_and_its_stamp_times_the_next_turn(
    shared_data: Path,
) -> None:
    segments = _parse(shared_data, "changelog__the-changelog-500.md").segments
    after_break = next(s for s in segments if s.text.startswith("What exactly is CodePen though?"))
    assert (after_break.start, after_break.speaker) == (3982.12, "Adam Stacoviak")  # 01:06:22.12
    assert "Break" not in {s.speaker for s in segments}
    starts = [s.start for s in segments]
    assert starts == sorted(starts)


def test_markdown_note_with_a_time_anchors_the_middle_of_a_paragraph(shared_data: Path) -> None:
    segments = _parse(shared_data, "changelog__practical-ai-300.md").segments
    # "...a use case \[unintelligible 00:14:47.20\] technique..." lies around 887.2 s.
    passage = next(s for s in segments if "technique that taps into" in s.text)
    assert passage.start < 887.2 < passage.end
    assert "unintelligible" not in passage.text


def test_podcasting20_word_segments_become_phrases(shared_data: Path) -> None:
    raw = json.loads((transcript_dir(shared_data) / "podcastindex__example.json").read_bytes())
    assert [s["body"] for s in raw["segments"]][:4] == ["I", "am", "your", "father."]
    first = _parse(shared_data, "podcastindex__example.json").segments[0]
    assert (first.start, first.end, first.text) == (0.5, 2.5, "I am your father.")


def test_json_list_of_segments_without_the_wrapper_object() -> None:
    data = b'[{"speaker": "Ann", "startTime": 1.5, "endTime": 4, "body": "Welcome back."}]'
    parsed = parse_transcript(data, mime_type="application/octet-stream")
    assert parsed.format == "json"
    assert parsed.segments == [SegmentData(start=1.5, end=4.0, text="Welcome back.", speaker="Ann")]


def test_html_transcript_with_cite_and_time() -> None:
    html = (
        b"<cite>Kevin:</cite><time>0:00</time><p>Hello, this is Kevin &amp; friends.</p>"
        b"<cite>Tom:</cite><time>0:07</time><p>Hi Kevin.</p><p>Nice to be here.</p>"
    )
    parsed = parse_transcript(html, mime_type="text/html")
    assert parsed.format == "html"
    assert [(s.start, s.speaker, s.text) for s in parsed.segments] == [
        (0.0, "Kevin", "Hello, this is Kevin & friends."),
        (7.0, "Tom", "Hi Kevin."),
        (pytest.approx(9.19, abs=0.01), "Tom", "Nice to be here."),  # at the pace so far
    ]


def test_plain_text_with_speaker_prefixes() -> None:
    text = b"Ann: Welcome to the show.\n\nBob: Thanks for having me.\n\nGlad to be here."
    parsed = parse_transcript(text, mime_type="text/plain")
    assert parsed.format == "text"
    assert [s.speaker for s in parsed.segments] == ["Ann", "Bob", "Bob"]
    assert parsed.segments[0].start == 0.0
    # No stamps: a typical pace of 15 characters a second, from zero.
    assert parsed.segments[0].end == pytest.approx(len("Welcome to the show.") / 15, abs=0.001)


@pytest.mark.parametrize(
    ("data", "hints", "message"),
    [
        (b"", {}, "empty"),
        (b"\x00\x01\x02\x03PK\x03\x04" * 50, {}, "not text"),
        (b'{"segments": [', {"mime_type": "application/json"}, "not valid JSON"),
        (b'{"words": []}', {"mime_type": "application/json"}, "unknown layout"),
        (b'{"segments": [{"startTime": "soon", "body": "x"}]}', {}, "'startTime'"),
        (b"1\n00:00:01,000 --> garbage\nHello\n", {"mime_type": "application/srt"}, "SRT"),
        (b"hello there", {"mime_type": "text/vtt"}, "WebVTT"),
        (b"[Speaker 1] [00:01] hi\n", {}, None),
        (b"   \n[laughs]\n", {"mime_type": "text/plain"}, "no spoken text"),
    ],
)
def test_unreadable_transcripts_raise_a_plain_error(
    data: bytes, hints: dict[str, str], message: str | None
) -> None:
    if message is None:  # the control case: a valid file really parses
        assert parse_transcript(data, **hints).segments[0].text == "hi"
        return
    with pytest.raises(TranscriptParseError, match=message):
        parse_transcript(data, **hints)
