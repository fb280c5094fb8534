"""Reciprocal rank fusion, and the portable order of full-text matches.

The database's own rank (FTS5 bm25, PostgreSQL ts_rank_cd) picks the candidates; they are then
ordered by a score both databases compute alike (which fields mention which query words), so
the same library answers the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

RRF_K = 60  # the usual constant: rank 1 is worth 1/61, rank 10 1/70
FIELD_WEIGHTS = (4.0, 1.0, 1.0, 3.0)  # headline, body, quote, topics (as bm25 above)


_SUFFIXES = ("ies", "ing", "es", "ed", "s", "e", "y")
_WORD = re.compile(r"\w+")


def stem(word: str) -> str:
    """A crude suffix strip both databases' matches are checked with: "pricing", "prices" and
    "price" meet at "pric"; "companies" and "company" at "compan"."""
    word = word.lower()
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def field_score(
    words: Sequence[str], fields: Sequence[str], *, any_word: bool = False
) -> float | None:
    """Sum of field weights over (word, field) pairs where the field has the word's stem;
    None when a word is in no field (the engine's own stemmer was more generous) or, with
    ``any_word``, when none is. With ``any_word`` each word found also counts 100, so more
    words found always rank first."""
    field_stems = [{stem(t) for t in _WORD.findall(text)} for text in fields]
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


def portable_order(
    words: Sequence[str],
    rows: Sequence[tuple[int, str, str, str, str]],
    *,
    any_word: bool = False,
) -> list[int]:
    """Matches both databases agree on, best first by field score; ties by newest id.

    SQLite stems with Porter, PostgreSQL with Snowball: "shortly" is "short" to one and not
    to the other. Keeping only matches where every word's crude stem is present makes the two
    answer alike."""
    scored = [
        (score, r[0])
        for r in rows
        if (score := field_score(words, r[1:], any_word=any_word)) is not None
    ]
    return [i for _, i in sorted(scored, key=lambda s: (-s[0], -s[1]))]


def reciprocal_rank_fusion(*rankings: Sequence[int], k: int = RRF_K) -> list[int]:
    """Ids by the sum of 1/(k + rank) over the rankings they appear in; ties by newest id."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, insight_id in enumerate(ranking, start=1):
            scores[insight_id] = scores.get(insight_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda i: (-round(scores[i], 12), -i))
