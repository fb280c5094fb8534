"""Turn-tagged transcripts, front matter, and no markup in any parsed text.

The shared data has no turn-tagged or front-matter file, so tests/data holds small files we
wrote for these formats (a research interview in <turn> tags, a Markdown episode with YAML
front matter, a 30 KB talk with no speaker labels).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.insights.quality import has_markup
from core.transcripts.errors import TranscriptParseError
from core.transcripts.frontmatter import split_front_matter
from core.transcripts.parse import parse_transcript
from tests.conftest import shared_data_dir

DATA = Path(__file__).resolve().parents[1] / "data"
OURS = ["research_interview_turns.xml", "frontmatter_episode.md", "talk_unlabeled.txt"]
SHARED = sorted(p.name for p in (shared_data_dir() / "transcripts").iterdir())


def test_turn_tags_give_speakers_times_and_plain_words() -> None:
    parsed = parse_transcript((DATA / "research_interview_turns.xml").read_bytes())
    assert parsed.format == "tagged"
    assert parsed.speakers == {"Dana Whitfield", "Waleed Ammar"}
    first, second = parsed.segments[:2]
    assert (first.start, first.speaker) == (0.0, "Dana Whitfield")
    assert first.text.startswith("Hello and welcome to Open Questions")
    assert (second.start, second.speaker) == (21.0, "Waleed Ammar")
    assert second.text == "Thanks for having me, Dana. It's great to be here."
    rollback = next(s for s in parsed.segments if s.text.startswith("Use them to find papers"))
    assert rollback.start == 7 * 60 + 24  # timestamp="07:24"
    assert all("<" not in s.text and "speaker=" not in s.text for s in parsed.segments)
    starts = [s.start for s in parsed.segments]
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    "text",
    [
        '<utterance who="Ada" start="12.5">First thing said here.</utterance>\n'
        '<utterance who="Bob" start="20">Second &amp; last thing.</utterance>',
        "<segment speaker='Ada' time='00:00:12.5'><p>First thing said <b>here</b>.</p></segment>"
        "<segment speaker='Bob' time='00:00:20'><p>Second &amp; last thing.</p></segment>",
        '<turn speaker="Ada" timestamp="0:12.5"> First thing said here. </turn>'
        '<turn speaker="Bob" timestamp="0:20"> Second &amp; last thing. </turn>',
    ],
)
def test_other_speaker_and_time_tags_read_the_same(text: str) -> None:
    parsed = parse_transcript(text.encode())
    assert parsed.format == "tagged"
    assert [(s.start, s.speaker, s.text) for s in parsed.segments] == [
        (12.5, "Ada", "First thing said here."),
        (20.0, "Bob", "Second & last thing."),
    ]


def test_yaml_front_matter_is_metadata_never_speech() -> None:
    parsed = parse_transcript((DATA / "frontmatter_episode.md").read_bytes(), url="ep.md")
    assert parsed.format == "markdown"
    assert parsed.front_matter is not None
    assert parsed.front_matter.title == (
        "Shipping small: feature flags, rollbacks and the cost of big releases"
    )
    assert parsed.front_matter.published_at == datetime(2024, 5, 2, tzinfo=UTC)
    text = " ".join(s.text for s in parsed.segments)
    assert "title:" not in text and "description" not in text and "---" not in text
    assert parsed.segments[0].text.startswith("Welcome back to Release Notes.")
    assert parsed.speakers == {"Priya Nair", "Tom Becker"}


def test_toml_front_matter_and_a_careless_yaml_block_are_cut_off() -> None:
    toml = '+++\ntitle = "Small releases"\ndate = 2024-06-01\n+++\nHost: Small releases win.\n'
    meta, rest = split_front_matter(toml)
    assert meta is not None and meta.title == "Small releases"
    assert meta.published_at == datetime(2024, 6, 1, tzinfo=UTC)
    assert rest == "Host: Small releases win.\n"
    careless = "---\ntitle: A: B: C\nguest: Ana\n---\nHost: Hello there, everyone.\n"
    meta, rest = split_front_matter(careless)
    assert meta is not None and rest == "Host: Hello there, everyone.\n"


def test_a_horizontal_rule_that_is_not_front_matter_stays_text() -> None:
    text = "---\nJust some words here, said on the show, and more of them.\n"
    meta, rest = split_front_matter(text)
    assert meta is None and rest == text


def test_a_file_that_is_only_front_matter_has_no_speech() -> None:
    with pytest.raises(TranscriptParseError, match="no spoken text"):
        parse_transcript(b"---\ntitle: Nothing said\n---\n", url="x.md")


@pytest.mark.parametrize("name", SHARED + OURS)
def test_no_markup_survives_parsing(name: str) -> None:
    folder = DATA if name in OURS else shared_data_dir() / "transcripts"
    segments = parse_transcript((folder / name).read_bytes(), url=name).segments
    marked = [s.text for s in segments if has_markup(s.text)]
    assert marked == []


def test_the_unlabeled_talk_is_30_to_45_kb_with_no_speakers() -> None:
    raw = (DATA / "talk_unlabeled.txt").read_bytes()
    assert 30_000 <= len(raw) <= 45_000
    parsed = parse_transcript(raw, url="talk.txt")
    assert parsed.speakers == set() and len(parsed.segments) > 50
