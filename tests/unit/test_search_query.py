"""The search syntax: words, phrases, exclusions, filters, and whatever else people type."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from core.search.exact_index import ExactVectorIndex
from core.search.fulltext import fts5_match, phrase_order
from core.search.fusion import (
    FIELD_WEIGHTS,
    field_score,
    portable_order,
    reciprocal_rank_fusion,
    stem,
)
from core.search.query import parse_query


def test_words_phrases_exclusions_and_filters() -> None:
    q = parse_query('pricing "per seat" -crypto -"free trial" show:"Lenny\'s Podcast" topic:AI '
                    "after:2026-01-01 before:2026-02-01")  # fmt: skip
    assert q.terms == ("pricing",)
    assert q.phrases == (("per", "seat"),)
    assert q.excluded == (("crypto",), ("free", "trial"))
    assert q.show == "Lenny's Podcast"
    assert q.topic == "ai"
    assert q.after == datetime(2026, 1, 1, tzinfo=UTC)
    assert q.before == datetime(2026, 2, 1, tzinfo=UTC)
    assert q.problem is None


def test_fts5_expression_is_quoted_words_only() -> None:
    q = parse_query('NEAR(pricing annual) AND "churn* OR"  -{headline}: col:x ^y')
    # Operators, stars, braces and column filters are words (or dropped), never FTS5 syntax.
    assert fts5_match(q) == '("pricing" "annual" "churn or") NOT "headline"'


def test_a_topic_narrows_the_fts5_expression_to_its_words_in_the_topics_column() -> None:
    # The tag itself is checked in SQL too; this lets FTS5 skip other topics' matches.
    assert fts5_match(parse_query("churn topic:Open-Source")) == (
        '("churn" topics : "open source")'
    )
    assert fts5_match(parse_query('topic:"c++" "per seat" -x')) == (
        '("per seat" topics : "c") NOT "x"'
    )
    assert fts5_match(parse_query("topic:ML")) is None  # no words: filters alone, no MATCH


def test_unbalanced_quotes_and_empty_queries() -> None:
    assert parse_query('"annual plans').phrases == (("annual", "plans"),)
    assert not parse_query('"').has_text and parse_query('"').problem is None
    assert not parse_query("the and of").has_text
    assert parse_query("-pricing").problem is not None  # only an exclusion: say what works
    assert parse_query("topic:crypto").problem is None


def test_bad_dates_are_explained() -> None:
    assert "after:2026-01-01" in (parse_query("after:2026-13-01 pricing").problem or "")
    assert "before:" in (parse_query("x before:soon").problem or "")


def test_stems_meet_across_forms() -> None:
    assert stem("pricing") == stem("prices") == stem("price") == stem("priced")
    assert stem("companies") == stem("company")
    assert stem("shortly") != stem("short")  # one database's stemmer agrees, the other not


def test_portable_order_prefers_headlines_and_drops_stemmer_only_matches() -> None:
    rows = [
        (1, "Other", "pricing in the body", "", ""),
        (2, "Pricing wins", "", "", ""),
        (3, "Shortly", "", "", ""),
    ]
    assert portable_order(["pricing"], rows) == [2, 1]
    assert portable_order(["short"], rows) == []


def test_reciprocal_rank_fusion_rewards_both_lists() -> None:
    # 3 is in both; 2 and 4 tie (second in one list each): the newer id first.
    assert reciprocal_rank_fusion([1, 2, 3], [3, 4]) == [3, 1, 4, 2]


def test_exact_index_replaces_and_ranks() -> None:
    index = ExactVectorIndex(2)
    index.add(np.array([1, 2]), np.array([[1, 0], [0, 1]], dtype=np.float32))
    index.add(np.array([1]), np.array([[0.6, 0.8]], dtype=np.float32))  # replaced
    ids, sims = index.search(np.array([[0, 1]], dtype=np.float32), 3)
    assert ids.tolist() == [[2, 1, -1]]
    assert round(float(sims[0, 1]), 3) == 0.8
    assert len(index) == 2


_TEXT = st.text(alphabet="abcdeinprsy ÉéüPRIC-'.,", max_size=40)


@given(words=st.lists(st.text(alphabet="abceinprsyÉ", min_size=1, max_size=8), max_size=3),
       fields=st.lists(_TEXT, min_size=4, max_size=4), any_word=st.booleans())  # fmt: skip
def test_field_score_looks_only_at_tokens_that_can_have_the_stem(
    words: list[str], fields: list[str], any_word: bool
) -> None:
    """The fast score (substring test, then only tokens starting with the stem) is the plain
    definition: every token of every field stemmed."""

    def plain() -> float | None:
        field_stems = [{stem(t) for t in re.findall(r"\w+", text)} for text in fields]
        total, found = 0.0, 0
        for word in words:
            hits = [w for w, f in zip(FIELD_WEIGHTS, field_stems, strict=True) if stem(word) in f]
            if not hits and not any_word:
                return None
            found += bool(hits)
            total += sum(hits)
        if not found and words:
            return None
        return total + (100.0 * found if any_word else 0.0)

    assert field_score(words, fields, any_word=any_word) == plain()


@given(phrases=st.lists(st.lists(st.text(alphabet="abceinprsy", min_size=1, max_size=5),
                                 min_size=1, max_size=3), min_size=1, max_size=2),
       rows=st.lists(st.lists(_TEXT, min_size=4, max_size=4), max_size=6))  # fmt: skip
def test_phrase_order_is_its_plain_definition(
    phrases: list[list[str]], rows: list[list[str]]
) -> None:
    """The fast order (substring tests, a pattern opening with its literal) ranks as the
    plain definition: a field holds a phrase when some token starts with the first word's
    stem, is followed by separators and a token starting with the next stem, and so on."""
    table = [(len(rows) - k, a, b, c, d) for k, (a, b, c, d) in enumerate(rows)]

    def holds(words: list[str], text: str) -> bool:
        tokens = re.findall(r"\w+", text.lower())
        stems = [stem(w) for w in words]
        for first in range(len(tokens) - len(stems) + 1):
            run = tokens[first : first + len(stems)]
            # Consecutive tokens have only separators between them.
            if all(tok.startswith(s) for tok, s in zip(run, stems, strict=True)):
                return True
        return False

    def weight(row: tuple[int, str, str, str, str]) -> float:
        return sum(
            w
            for words in phrases
            for w, text in zip(FIELD_WEIGHTS, row[1:], strict=True)
            if holds(words, text)
        )

    plain = sorted(table, key=lambda r: (-weight(r), -r[0]))
    assert phrase_order(phrases, table) == plain
