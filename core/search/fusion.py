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


def _stem_pattern(stemmed: str) -> re.Pattern[str]:
    """A whole token of a lowered text whose stem is ``stemmed``. A stem is the lowered word
    less at most one suffix, so such a token is ``stemmed`` plus nothing or a suffix, and
    which suffixes give back ``stemmed`` is known in advance: one regex search per field
    instead of stemming every token that starts with it in Python (a fifth of a query's CPU)."""
    endings = sorted(
        (e for e in ("", *_SUFFIXES) if stem(stemmed + e) == stemmed), key=len, reverse=True
    )
    if not endings:  # no token stems to it (a stem's own word always does: never reached)
        return re.compile(r"(?!)")
    alternatives = "|".join(re.escape(e) for e in endings)
    # The stem first, then "no word character before it": opening with the look-behind, re
    # tried it at every position of the text; opening with a literal, it scans for it in C.
    literal = re.escape(stemmed)
    return re.compile(literal + r"(?<!\w" + literal + f")(?:{alternatives})" + r"(?!\w)")


def _has_stem(stemmed: str, pattern: re.Pattern[str], lowered: str) -> bool:
    # The substring test (in C) settles most fields; only candidates are searched.
    return stemmed in lowered and pattern.search(lowered) is not None


def field_score(
    words: Sequence[str], fields: Sequence[str], *, any_word: bool = False
) -> float | None:
    """Sum of field weights over (word, field) pairs where the field has the word's stem;
    None when a word is in no field (the engine's own stemmer was more generous) or, with
    ``any_word``, when none is. With ``any_word`` each word found also counts 100, so more
    words found always rank first."""
    return _score(_stems(words), fields, any_word)


def _stems(words: Sequence[str]) -> list[tuple[str, re.Pattern[str]]]:
    return [(s, _stem_pattern(s)) for s in (stem(w) for w in words)]


def _score(
    stems: Sequence[tuple[str, re.Pattern[str]]], fields: Sequence[str], any_word: bool
) -> float | None:
    lowered = [text.lower() for text in fields]
    total, found = 0.0, 0
    for stemmed, pattern in stems:
        hits = [
            w
            for w, text in zip(FIELD_WEIGHTS, lowered, strict=True)
            if _has_stem(stemmed, pattern, text)
        ]
        if not hits and not any_word:
            return None
        found += bool(hits)
        total += sum(hits)
    if not found and stems:
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
    stems = _stems(words)
    scored = [(score, r[0]) for r in rows if (score := _score(stems, r[1:], any_word)) is not None]
    return [i for _, i in sorted(scored, key=lambda s: (-s[0], -s[1]))]


def reciprocal_rank_fusion(*rankings: Sequence[int], k: int = RRF_K) -> list[int]:
    """Ids by the sum of 1/(k + rank) over the rankings they appear in; ties by newest id."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, insight_id in enumerate(ranking, start=1):
            scores[insight_id] = scores.get(insight_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda i: (-round(scores[i], 12), -i))
