"""Insights worth reading: tidying that keeps meaning, whole-sentence quotes, the shared
quality gate, and the offline engine on real and hand-written transcripts."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from core.domain import EpisodeInfo, InsightDraft, SegmentData
from core.insights.errors import ExtractionSkipped
from core.insights.offline import OfflineInsightExtractor
from core.insights.offline.headline import headline_from
from core.insights.offline.passages import build_sentences, build_turns
from core.insights.offline.text import tidy
from core.insights.quality import (
    Gate,
    has_markup,
    headline_problem,
    is_standalone_claim,
    quote_is_sentence_bounded,
    widen_quote,
)
from core.transcripts.parse import parse_transcript
from tests.conftest import shared_data_dir

DATA = Path(__file__).resolve().parents[1] / "data"
SHARED = shared_data_dir() / "transcripts"
SEED = "A product leader with a technical background is better equipped to make credible and "
SEED += "achievable product bets"


def extract(path: Path) -> tuple[list[InsightDraft], list[SegmentData]]:
    segments = parse_transcript(path.read_bytes(), url=path.name).segments
    info = EpisodeInfo(1, 1, "show", path.name, None, max(s.end for s in segments), None)
    return OfflineInsightExtractor().extract_sync(info, segments), segments


def joined(segments: list[SegmentData]) -> str:
    return " ".join(" ".join(s.text.split()) for s in segments)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # Fillers, stutters and openers go...
        ("So, um, you know, the the cache was slow.", "The cache was slow."),
        ("Yeah, I mean, we we shipped it on Friday.", "We shipped it on Friday."),
        # ...but never a negation, an intensifier in a fixed phrase, a number or a name.
        (
            "You should be using to the very least the citation graph.",
            "You should be using to the very least the citation graph.",
        ),
        ("It is not really hard to test a rollback.", "It is not really hard to test a rollback."),
        ("It's not just the code, it's the process.", "It's not just the code, it's the process."),
        ("We never, um, saw 40% churn in 2019.", "We never saw 40% churn in 2019."),
        ("Well, Waleed Ammar said it took 18 points.", "Waleed Ammar said it took 18 points."),
        # Words that only look like fillers keep their meaning.
        ("Now is the time to fix the build.", "Now is the time to fix the build."),
        (
            "Well designed systems fail in small pieces.",
            "Well designed systems fail in small pieces.",
        ),
        ("Like most teams, we paged too often.", "Like most teams, we paged too often."),
        ("Do you know what kind of database it is?", "Do you know what kind of database it is?"),
        ("He had had enough of the pager.", "He had had enough of the pager."),
    ],
)
def test_tidying_drops_fillers_but_never_meaning(before: str, after: str) -> None:
    assert tidy(before) == after


@pytest.mark.parametrize(
    ("sentence", "headline"),
    [
        (
            "I would say you should be using, to the very least, the citation graph before you "
            "trust a result.",
            "You should be using, to the very least, the citation graph before you trust a result",
        ),
        (
            "Health checks test whether a process is alive, not whether it is doing its job.",
            "Health checks test whether a process is alive, not whether it is doing its job",
        ),
        (
            "So Fargate in that sense allows you to do a bit more, but interestingly enough Lambda "
            "allows you to get up to six CPUs if you've got a lot of concurrency going on.",
            "Lambda allows you to get up to six CPUs if you've got a lot of concurrency going on",
        ),
    ],
)
def test_headlines_keep_negations_intensifiers_and_numbers(sentence: str, headline: str) -> None:
    assert headline_from(sentence, accept=is_standalone_claim) == headline


@pytest.mark.parametrize(
    ("headline", "reason"),
    [
        # The defects named in issue 10, as headlines the gate must turn away.
        ("Maybe now we could talk about best practices relating to performance", "meta_talk"),
        ("Coming to a question, we have audio from a listener", "meta_talk"),
        ("I was a middle school science teacher for eight and a half years", "biography"),
        ("I'm very excited about what we are building at the lab", "promotion"),
        ("Cheetah was a, microprocessor, a very cruelly named microprocessor", "fragment"),
        ("It does everything unconventionally in a way people like", "leans_on_context"),
        ("They shipped it two weeks later than planned", "leans_on_context"),
        ("What should a team measure first?", "question"),
        ("Welcome back to the show, everyone", "greeting"),
        ('</turn> <turn speaker="Waleed Ammar"> Evaluation is hard', "markup"),
        ("Evaluation is where \\[research tools\\] fail", "markup"),
        ("Queries took seconds in the log platform and a minute or two there", "leans_on_context"),
        ("The ability to just stare at a genetic sequence", "fragment"),
        ("Let's help you build your business by caring for your people", "meta_talk"),
    ],
)
def test_the_gate_names_why_a_headline_is_not_a_standalone_claim(
    headline: str, reason: str
) -> None:
    assert headline_problem(headline) == reason


@pytest.mark.parametrize(
    "headline",
    [
        SEED,
        "Clean input beats clever modelling, almost every time",
        "Fixing the table parser improved extraction accuracy by 18 points",
        "You should treat a feature flag as a loan, not as a gift",
        "It is worth rehearsing a rollback on every release",
        "Most metrics are written once and never read",
    ],
)
def test_standalone_claims_pass_the_gate(headline: str) -> None:
    assert headline_problem(headline) is None


def test_a_quote_cut_inside_a_sentence_is_widened_to_the_whole_sentence() -> None:
    segments = [
        SegmentData(0.0, 5.0, "We measured it. Fixing the table parser improved", "Ada"),
        SegmentData(5.0, 9.0, "accuracy by 18 points. Then we moved on.", "Ada"),
        SegmentData(9.0, 12.0, "Bob speaks here now.", "Bob"),
    ]
    cut = InsightDraft(
        "Fixing parsers pays", "b", "table parser improved accur", "Ada", 0, 9, [], 1
    )
    whole = widen_quote(cut, segments)
    assert whole.quote == "Fixing the table parser improved accuracy by 18 points."
    assert (whole.start_seconds, whole.end_seconds) == (0.0, 9.0)
    assert quote_is_sentence_bounded(whole.quote, joined(segments))
    assert not quote_is_sentence_bounded(cut.quote, joined(segments))
    assert not quote_is_sentence_bounded("selection. He", "liability of selection. Hey there")


def test_the_gate_counts_what_it_rejects_and_keeps_the_rest() -> None:
    segments = [SegmentData(0.0, 9.0, "Small releases fail less often. I love my job.", "Ada")]
    good = InsightDraft(
        "Small releases fail less often than big ones", "b.", "Small releases fail less often.",
        "Ada", 0.0, 9.0, ["releases"], 0.8,
    )  # fmt: skip
    biography = InsightDraft("I love my job", "b.", "I love my job.", "Ada", 0.0, 9.0, [], 0.5)
    gate = Gate()
    assert gate.admit([good, biography], segments) == [good]
    assert dict(gate.rejected) == {"biography": 1} and gate.total_rejected == 1


def test_the_research_interview_in_turn_tags_reads_as_insights() -> None:
    drafts, segments = extract(DATA / "research_interview_turns.xml")
    assert drafts
    for draft in drafts:
        assert headline_problem(draft.headline) is None, draft.headline
        assert draft.speaker == "Waleed Ammar"
        assert not any(has_markup(t) for t in (draft.headline, draft.body, draft.quote))
        assert quote_is_sentence_bounded(draft.quote, joined(segments))
        assert "excited" not in draft.headline and "teacher" not in draft.headline


@pytest.mark.parametrize("name", ["talk_unlabeled.txt", "frontmatter_episode.md"])
def test_our_talk_and_markdown_episode_give_insights(name: str) -> None:
    drafts, _ = extract(DATA / name)
    assert drafts
    assert all(headline_problem(d.headline) is None for d in drafts)


@pytest.mark.parametrize("episode", ["awsbites__10", "awsbites__150"])
def test_the_same_episode_as_json_and_vtt_gives_the_same_insights(episode: str) -> None:
    with_speakers, _ = extract(SHARED / f"{episode}.json")
    captions, _ = extract(SHARED / f"{episode}.vtt")
    assert with_speakers

    def key(d: InsightDraft) -> tuple[str, str, float]:
        return d.headline, " ".join(d.quote.split()), d.start_seconds

    assert [key(d) for d in with_speakers] == [key(d) for d in captions]


SPANISH = (
    "Hola a todos y bienvenidos a otro episodio. Hoy hablamos de cómo los equipos pequeños "
    "pueden desplegar software con menos riesgo. La clave es hacer cambios pequeños, medir "
    "la tasa de fallos y ensayar la vuelta atrás en cada versión. Cuando los cambios son "
    "grandes, nadie sabe qué parte rompió el sistema y la recuperación tarda mucho más. "
)


def test_a_non_english_transcript_is_skipped_with_a_plain_reason() -> None:
    segments = [SegmentData(i * 20.0, i * 20.0 + 19, SPANISH, "Ana") for i in range(12)]
    info = EpisodeInfo(1, 1, "show", "es", None, 240.0, None)
    with pytest.raises(ExtractionSkipped, match="only reads English") as caught:
        OfflineInsightExtractor().extract_sync(info, segments)
    assert "LLM" in str(caught.value)


@pytest.mark.parametrize("name", sorted(p.name for p in SHARED.iterdir()))
def test_every_shared_transcript_gives_clean_standalone_insights(name: str) -> None:
    drafts, segments = extract(SHARED / name)
    transcript = joined(segments)
    for draft in drafts:
        assert headline_problem(draft.headline) is None, draft.headline
        assert not any(has_markup(t) for t in (draft.headline, draft.body, draft.quote))
        assert quote_is_sentence_bounded(draft.quote, transcript), draft.quote
    talk = sum(s.n_words for s in build_sentences(build_turns(segments)) if not s.noisy)
    if talk >= 1500:  # a substantial transcript always says something worth an insight
        assert drafts
    hours = max(s.end for s in segments) / 3600
    assert len(drafts) <= math.ceil(7 * hours) + 1
