"""The search syntax people type: words, "exact phrases", -exclusions and field filters.

Only word characters ever reach the database's full-text syntax (each as a quoted token), so
FTS operators, column filters and SQL fragments in a query are plain words. A query that cannot
be understood gets a plain-words ``problem`` instead of an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

MAX_TERMS = 8
MAX_QUERY_CHARS = 500

STOP_WORDS = frozenset({
    "a", "an", "the", "and", "or", "not", "of", "on", "in", "to", "for", "about", "with", "is",
    "are", "was", "what", "who", "how", "any", "anything", "they", "said", "say", "did", "do",
    "does", "there", "it", "this", "that", "me", "you", "i", "we", "some", "thing", "things",
    "stuff", "near",
})  # fmt: skip

# A token: an optional "-", an optional "field:", then a quoted run (maybe unclosed) or a word.
_TOKEN = re.compile(r'(-?)(?:(\w+):)?(?:"([^"]*)"?|(\S+))')
_WORD = re.compile(r"\w+")
_FILTERS = ("show", "topic", "after", "before")


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    terms: tuple[str, ...] = ()  # single words, lower case, all must match
    phrases: tuple[tuple[str, ...], ...] = ()  # each phrase's words, in order
    excluded: tuple[tuple[str, ...], ...] = ()  # words or phrases that must not appear
    show: str | None = None
    topic: str | None = None
    after: datetime | None = None
    before: datetime | None = None
    problem: str | None = None  # set when the query cannot be run as typed
    any_term: bool = False  # words match if any is there (the fallback when all finds none)

    @property
    def has_text(self) -> bool:
        return bool(self.terms or self.phrases)

    @property
    def has_filters(self) -> bool:
        return any(v is not None for v in (self.show, self.topic, self.after, self.before))

    @property
    def semantic_text(self) -> str:
        """What the embedding side looks for: the positive words and phrases."""
        return " ".join([*self.terms, *(" ".join(p) for p in self.phrases)])


def words_of(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def parse_query(raw: str) -> ParsedQuery:
    text = raw.strip()[:MAX_QUERY_CHARS]
    terms: list[str] = []
    phrases: list[tuple[str, ...]] = []
    excluded: list[tuple[str, ...]] = []
    filters: dict[str, str] = {}
    for match in _TOKEN.finditer(text):
        minus, name, quoted, bare = match.groups()
        value = quoted if quoted is not None else bare
        if name and name.lower() in _FILTERS and not minus:
            filters[name.lower()] = value.strip()
            continue
        # An unknown "field:" (an FTS column name, "note:") is dropped: its value is the words.
        words = words_of(value)
        if minus and words:
            excluded.append(tuple(words))
        elif quoted is not None and len(words) > 1:
            phrases.append(tuple(words))
        else:
            terms.extend(w for w in words if w not in STOP_WORDS and len(w) > 1)
    terms = list(dict.fromkeys(terms))[:MAX_TERMS]
    return _with_filters(
        ParsedQuery(
            terms=tuple(terms),
            phrases=tuple(phrases[:MAX_TERMS]),
            excluded=tuple(excluded[:MAX_TERMS]),
        ),
        filters,
    )


def _with_filters(query: ParsedQuery, filters: dict[str, str]) -> ParsedQuery:
    show = " ".join(filters.get("show", "").split()) or None
    topic = " ".join(words_of(filters.get("topic", ""))) or None
    after, problem_after = _date(filters, "after")
    before, problem_before = _date(filters, "before")
    problem = problem_after or problem_before
    nothing_else = not (query.has_text or show or topic or after or before)
    if problem is None and nothing_else and query.excluded:  # "-crypto" alone
        problem = (
            'Tell me what to look for: a word, an "exact phrase", or show:NAME, topic:X, '
            "after:2026-01-01."
        )
    return replace(query, show=show, topic=topic, after=after, before=before, problem=problem)


def _date(filters: dict[str, str], name: str) -> tuple[datetime | None, str | None]:
    value = filters.get(name)
    if value is None:
        return None, None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None, f"{name}: needs a date like {name}:2026-01-01 (got “{value[:40]}”)."
    return datetime(day.year, day.month, day.day, tzinfo=UTC), None
