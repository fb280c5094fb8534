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


def stem(word: str) -> str:
    """A crude suffix strip for the portable score ("pricing" counts where "price" is)."""
    for suffix in ("ing", "es", "s", "ed", "e", "y"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def field_score(words: Sequence[str], fields: Sequence[str]) -> float:
    """Sum of field weights over (word, field) pairs where the field mentions the word."""
    stems = [re.compile(r"\b" + re.escape(stem(w)), re.IGNORECASE) for w in words]
    return sum(
        weight
        for pattern in stems
        for weight, text in zip(FIELD_WEIGHTS, fields, strict=True)
        if pattern.search(text)
    )


def portable_order(
    words: Sequence[str], rows: Sequence[tuple[int, str, str, str, str]]
) -> list[int]:
    """Matches best first by field score; ties by newest id."""
    scored = [(field_score(words, r[1:]), r[0]) for r in rows]
    return [i for _, i in sorted(scored, key=lambda s: (-s[0], -s[1]))]


def reciprocal_rank_fusion(*rankings: Sequence[int], k: int = RRF_K) -> list[int]:
    """Ids by the sum of 1/(k + rank) over the rankings they appear in; ties by newest id."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, insight_id in enumerate(ranking, start=1):
            scores[insight_id] = scores.get(insight_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda i: (-round(scores[i], 12), -i))
