"""The offline extractor over every real transcript in ../shared/data/transcripts."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from core.domain import EpisodeInfo, InsightDraft, SegmentData
from core.insights.offline import OfflineInsightExtractor
from core.topics.normalise import normalise_topic
from core.transcripts.parse import parse_transcript
from tests.conftest import shared_data_dir

TRANSCRIPTS = sorted(p.name for p in (shared_data_dir() / "transcripts").iterdir())
# Written independently of the extractor's own filters: what an ad read or intro says.
AD_OR_INTRO = re.compile(
    r"sponsor|brought to you by|promo code|percent off|free trial|welcome (?:back )?to|"
    r"my name is|subscribe|thanks for listening|show notes|patreon|joined by|this episode",
    re.IGNORECASE,
)
SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")


def squash(text: str) -> str:
    return " ".join(text.split())


def episode_info(name: str, duration: float, *, fallback: bool = False) -> EpisodeInfo:
    return EpisodeInfo(
        episode_id=1,
        feed_id=1,
        show_title=name.split("__")[0],
        episode_title=name,
        published_at=None,
        duration_seconds=duration,
        description=None,
        is_fallback=fallback,
    )


def load(path: Path) -> list[SegmentData]:
    return parse_transcript(path.read_bytes(), url=path.name).segments


def quote_found_in_run(draft: InsightDraft, segments: list[SegmentData]) -> bool:
    """The quote lies in one segment, or a same-speaker run, that starts at the quoted time."""
    for k, segment in enumerate(segments):
        if segment.start != draft.start_seconds or segment.speaker != draft.speaker:
            continue
        run = [segment.text]
        for later in segments[k + 1 :]:
            if later.speaker != segment.speaker:
                break
            run.append(later.text)
        joined = squash(" ".join(run))
        where = joined.find(squash(draft.quote))
        if 0 <= where < len(squash(segment.text)):
            return True
    return False


@pytest.mark.parametrize("name", TRANSCRIPTS)
async def test_insights_are_grounded_in_the_transcript(shared_data: Path, name: str) -> None:
    segments = load(shared_data / "transcripts" / name)
    duration = max(s.end for s in segments)
    drafts = await OfflineInsightExtractor().extract(episode_info(name, duration), segments)
    names_speakers = any(s.speaker for s in segments)
    for draft in drafts:
        assert quote_found_in_run(draft, segments), draft.quote
        assert 0 <= draft.start_seconds <= duration
        assert draft.end_seconds is not None and draft.start_seconds <= draft.end_seconds
        if names_speakers:
            assert draft.speaker, f"no speaker for {draft.quote!r}"
        assert not AD_OR_INTRO.search(draft.quote), draft.quote
        assert not AD_OR_INTRO.search(draft.headline), draft.headline
        assert 0 < len(draft.headline) <= 90
        assert 2 <= len(SENTENCE.split(draft.body)) <= 4, draft.body
        assert draft.topics and all(t == normalise_topic(t) for t in draft.topics)
        assert 0 < draft.score <= 1


@pytest.mark.parametrize("name", TRANSCRIPTS)
async def test_insight_count_follows_the_length_of_the_episode(
    shared_data: Path, name: str
) -> None:
    segments = load(shared_data / "transcripts" / name)
    hours = max(s.end for s in segments) / 3600
    drafts = await OfflineInsightExtractor().extract(episode_info(name, hours * 3600), segments)
    assert len(drafts) <= math.ceil(8 * hours) + 1
    if hours >= 0.3:  # a real episode, not a trailer or an example file
        assert len(drafts) >= max(1, math.floor(3 * hours) - 1)
    if sum(len(s.text.split()) for s in segments) < 300:
        assert drafts == []


async def test_same_input_gives_the_same_insights(shared_data: Path) -> None:
    path = shared_data / "transcripts" / "oxide__2023_dtrace-at-20_transcript.txt"
    segments = load(path)
    info = episode_info(path.name, max(s.end for s in segments))
    first = await OfflineInsightExtractor().extract(info, segments)
    second = await OfflineInsightExtractor().extract(info, list(segments))
    assert first and first == second


async def test_show_notes_fallback_gives_nothing_unless_substantial(shared_data: Path) -> None:
    segments = load(shared_data / "transcripts" / "awsbites__150.json")
    notes = [SegmentData(0.0, 0.0, squash(" ".join(s.text for s in segments[:12])), None)]
    extractor = OfflineInsightExtractor()
    assert await extractor.extract(episode_info("notes", 1600, fallback=True), notes) == []
    long_notes = [SegmentData(0.0, 0.0, s.text, None) for s in segments]
    drafts = await extractor.extract(episode_info("notes", 1600, fallback=True), long_notes)
    assert 1 <= len(drafts) <= 2


async def test_a_sponsor_read_full_of_claims_is_never_quoted(shared_data: Path) -> None:
    segments = load(shared_data / "transcripts" / "awsbites__150.json")
    middle = segments[len(segments) // 2].start
    read = [
        "This episode is brought to you by Acme Cloud, the fastest way to deploy containers.",
        "Teams that switched cut their hosting bill by 40% in three months, guaranteed.",
        "You should always start with a free trial, so head to acme.dev/bites today.",
        "Use the code BITES for 20 percent off your first year of the managed plan.",
    ]
    ad = [SegmentData(middle, middle + 5, text, "Announcer") for text in read]
    spliced = sorted([*segments, *ad], key=lambda s: s.start)
    drafts = await OfflineInsightExtractor().extract(episode_info("ad", 1611), spliced)
    assert drafts
    assert all(d.speaker != "Announcer" for d in drafts)
    assert not any("Acme" in d.quote or "Acme" in d.body for d in drafts)


def test_topics_are_normalised() -> None:
    assert normalise_topic("  Open-Source ") == "open source"
    assert normalise_topic("K8s") == "kubernetes"
    assert normalise_topic("Café  Culture!") == "cafe culture"


async def test_unpunctuated_captions_still_give_grounded_insights(shared_data: Path) -> None:
    # Auto captions often come without punctuation or case: the quote must still be verbatim.
    segments = load(shared_data / "transcripts" / "awsbites__150.vtt")
    bare = [
        SegmentData(s.start, s.end, re.sub(r"[.,!?;:]", "", s.text).lower(), s.speaker)
        for s in segments
    ]
    drafts = await OfflineInsightExtractor().extract(episode_info("bare", 1611), bare)
    assert drafts
    for draft in drafts:
        assert quote_found_in_run(draft, bare)
        assert len(draft.headline) <= 90


async def test_empty_and_blank_transcripts_give_nothing() -> None:
    extractor = OfflineInsightExtractor()
    assert await extractor.extract(episode_info("empty", 0), []) == []
    blank = [SegmentData(float(i), i + 1.0, "  ", None) for i in range(50)]
    assert await extractor.extract(episode_info("blank", 50), blank) == []
