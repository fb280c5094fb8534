"""What makes an offline insight readable: headlines, bodies, tags and scores.

Crafted segment lists pin single behaviours; the bundled sample episodes and the shared real
transcripts check that they hold on whole episodes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.domain import EpisodeInfo, InsightDraft, SegmentData
from core.insights.offline import OfflineInsightExtractor
from core.insights.offline.claims import sentence_score
from core.insights.offline.headline import headline_from, stands_alone
from core.insights.offline.passages import build_sentences, build_turns
from core.insights.topic_vocabulary import PARENTS, VOCABULARY
from core.insights.topics import GENERIC_WORDS, tags_for
from core.transcripts.parse import parse_transcript
from tests.conftest import shared_data_dir

SAMPLES = Path(__file__).resolve().parents[2] / "config" / "samples" / "transcripts"
CANONICAL = set(VOCABULARY) | set(PARENTS.values())
_NUMBER_TEXT = "one two three four five six seven eight nine ten hundred thousand"
NUMBER_WORDS = set(_NUMBER_TEXT.split())
SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")
# Words a headline never ends on: it would have been cut mid-clause.
_DANGLING_TEXT = "a an the of to in on with for at by from and or but that which before"
DANGLING = set(_DANGLING_TEXT.split())

# A guest on on-call, with one good lesson among an anaphoric echo, meta-talk and chatter.
GUEST_TURNS = [
    "We run on-call for about forty engineers across three time zones. Most of them are on the "
    "platform team, and the rest work on billing.",
    "You should delete any alert that nobody acted on in the last ninety days, because noisy "
    "alerts train people to ignore the pages that matter. Keep the alert as a dashboard panel so "
    "nobody feels they lost visibility.",
    "That's the single biggest lesson we learned, and it cut our night pages by eighty percent "
    "within a quarter. Engineers told us they slept better within weeks.",
    "We heard on another podcast that teams cut their pages by ninety percent with that trick, "
    "and we should get to that later. Anyway, our numbers are smaller but real.",
    "The rotation itself has five people, and nobody carries the pager in a launch week. "
    "Smaller rotations burned people out within a year.",
    "Runbooks matter more than dashboards, because at three in the morning nobody reads a chart "
    "and everybody follows a checklist. Every page links to its runbook.",
]
HOST_TURNS = [
    "How big is the team you look after these days?",
    "Where would you start if your alerts are noisy?",
    "Wow, that is a big drop.",
    "Ha, we will see about that.",
    "And how do you staff the rotation?",
    "What helps most during an incident at night?",
]


def crafted_segments(repeat: int = 3) -> list[SegmentData]:
    """Host and guest alternating, long enough (about 800 words) to be worth extracting."""
    segments: list[SegmentData] = []
    t = 40.0
    for _ in range(repeat):
        for question, answer in zip(HOST_TURNS, GUEST_TURNS, strict=True):
            for speaker, text in (("Host", question), ("Guest", answer)):
                segments.append(SegmentData(t, t + 8.0, text, speaker))
                t += 9.0
    return segments


def info(name: str, duration: float) -> EpisodeInfo:
    return EpisodeInfo(1, 1, "show", name, None, duration, None)


def extract_file(path: Path) -> list[InsightDraft]:
    segments = parse_transcript(path.read_bytes(), url=path.name).segments
    duration = max(s.end for s in segments) if segments else 0.0
    return OfflineInsightExtractor().extract_sync(info(path.name, duration), list(segments))


@pytest.fixture(scope="module")
def all_drafts() -> list[InsightDraft]:
    paths = sorted(SAMPLES.iterdir()) + sorted((shared_data_dir() / "transcripts").iterdir())
    return [d for p in paths for d in extract_file(p)]


@pytest.mark.parametrize(
    "sentence",
    [
        "That's the single highest-impact change we made in three years, and it took two "
        "engineers a week and a half.",
        "People in that condition reported noticeably lower stress after two weeks, and their "
        "longest focus stretch roughly tripled.",
        "When the team average went above one and a half evenings, we learned that attrition "
        "followed about three months later, almost like clockwork.",
        "We heard almost exactly that on another podcast from an engineering manager, that the "
        "burnout shows up in attrition a quarter later.",
        "I'd recommend anyone with an AI product look at their cost distribution per user before "
        "they pick a pricing model.",
        "It generated more support tickets than our entire billing system.",
        "Which is actually good news, because it means we have some control over our time.",
        "Six months later, their after-hours messages had dropped by about a third.",
        "Five weeks versus nine, that's almost a month of productivity per new hire.",
        "How much deep work can a person actually do in a single working day?",
    ],
)
def test_sentences_that_lean_on_context_or_cannot_be_cut_whole_make_no_headline(
    sentence: str,
) -> None:
    assert headline_from(sentence) is None


@pytest.mark.parametrize(
    ("sentence", "headline"),
    [
        (
            "The lesson is that the defaults in Postgres are tuned for a small database, and once "
            "a table passes about a hundred million rows, you need to think about vacuum per "
            "table, not globally.",
            "The defaults in Postgres are tuned for a small database",
        ),
        (
            "Honestly, I think reviewing code has become the more important skill than writing it.",
            "Reviewing code has become the more important skill than writing it",
        ),
        (
            "The headline was we raised prices thirty percent and churn went down.",
            "We raised prices 30% and churn went down",
        ),
        (
            "And the single most effective intervention in our study was free: checking email and "
            "chat at fixed times, three or four times a day, instead of continuously.",
            "The single most effective intervention in our study was free",
        ),
        (
            "After that we set a hard rule: no rotation with fewer than five people, and nobody "
            "is on call in the same week they're shipping a major launch.",
            "No rotation with fewer than five people",
        ),
        (
            "We went from about eight hundred server connections to sixty, and our p99 query "
            "latency at peak dropped from three hundred and forty milliseconds to around ninety.",
            "We went from about 800 server connections to 60",
        ),
        (
            "So I'd say to founders, fully async sounds great, but for your early team, overlap "
            "matters more than anything else we tried.",
            "For your early team, overlap matters more than anything else we tried",
        ),
    ],
)
def test_headlines_drop_framing_and_trailing_clauses_but_keep_the_claim(
    sentence: str, headline: str
) -> None:
    assert headline_from(sentence) == headline


def test_anaphora_and_meta_talk_never_head_an_insight() -> None:
    drafts = OfflineInsightExtractor().extract_sync(info("crafted", 900), crafted_segments())
    assert drafts
    headlines = [d.headline for d in drafts]
    assert "You should delete any alert that nobody acted on in the last 90 days" in headlines
    for draft in drafts:
        assert not draft.headline.lower().startswith(("that", "we heard", "it "))
        assert "another podcast" not in draft.quote and "another podcast" not in draft.body
        assert draft.speaker == "Guest"
        assert {"on call"} <= set(draft.topics)


def test_a_number_and_a_recommendation_score_above_a_bare_statement_and_meta_talk_scores_zero() -> (
    None
):
    texts = [
        "You should cap every rotation at five people, because pages dropped by forty percent "
        "when we did.",
        "The rotation covers the platform services and the billing services for the company.",
        "We heard on another podcast that rotations with five people dropped pages by forty "
        "percent.",
        "Should every rotation have at least five people on it before it starts paging anyone?",
    ]
    segments = [SegmentData(float(i), i + 1.0, t, "Guest") for i, t in enumerate(texts)]
    sentences = build_sentences(build_turns(segments))
    weights = {"rotation": 0.5, "pages": 0.3}
    advice, plain, meta, question = (sentence_score(s, weights) for s in sentences)
    assert advice > plain > 0
    assert meta == 0 and question == 0


def test_tags_come_from_the_vocabulary_with_synonyms_mapped() -> None:
    text = (
        "We priced the new plan per seat and raised prices for existing clinics. "
        "Churned accounts were mostly the ones on the old prices, and twenty percent fewer "
        "clinics churned."
    )
    tags = tags_for(text, [], {}, headline="We raised prices by twenty percent")
    assert tags[:2] == ["pricing", "churn"]
    assert not {"percent", "clinics", "fewer", "twenty"} & set(tags)


def test_a_speaker_is_never_a_tag_and_a_name_needs_two_mentions() -> None:
    text = (
        "Lena Vogel said PgBouncer fixed it. Postgres connection counts fell, and Kafka was "
        "mentioned once by Lena Vogel."
    )
    tags = tags_for(text, [], {}, people=frozenset({"lena", "vogel"}))
    assert "postgres" in tags and "databases" in tags
    assert "lena vogel" not in tags and "kafka" not in tags


def test_every_headline_stands_alone_and_is_never_cut_mid_clause(
    all_drafts: list[InsightDraft],
) -> None:
    assert len(all_drafts) >= 40
    for draft in all_drafts:
        headline = draft.headline
        assert 0 < len(headline) <= 90 and not headline[0].islower(), headline
        assert stands_alone(headline), headline
        assert headline[-1] not in ".,;:!?", headline
        assert headline.split()[-1].lower() not in DANGLING, headline


def test_every_body_opens_with_a_sentence_that_stands_alone(
    all_drafts: list[InsightDraft],
) -> None:
    for draft in all_drafts:
        sentences = SENTENCE.split(draft.body)
        assert 2 <= len(sentences) <= 4, draft.body
        assert stands_alone(sentences[0]), draft.body


def test_tags_are_followable_topics(all_drafts: list[InsightDraft]) -> None:
    for draft in all_drafts:
        assert 1 <= len(draft.topics) <= 4, draft.topics
        outside = [t for t in draft.topics if t not in CANONICAL]
        assert len(outside) <= 1, draft.topics  # at most one name the passage is about
        for tag in draft.topics:
            assert tag not in GENERIC_WORDS and tag not in NUMBER_WORDS, draft.topics


@pytest.mark.parametrize(
    ("episode", "tag"),
    [
        ("runway-and-revenue-041.vtt", "pricing"),
        ("the-pager-diaries-088.json", "postgres"),
        ("the-pager-diaries-089.vtt", "on call"),
        ("well-rested-017.srt", "burnout"),
        ("well-rested-018.json", "caffeine"),
    ],
)
def test_sample_episodes_are_tagged_with_what_they_are_about(episode: str, tag: str) -> None:
    drafts = extract_file(SAMPLES / episode)
    assert any(tag in d.topics for d in drafts), [d.topics for d in drafts]
