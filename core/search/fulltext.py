"""Full-text matching in the database's own index: SQLite FTS5 (bm25) or PostgreSQL tsvector
(GIN, ts_rank_cd), with the show/topic/date filters and exclusions of a parsed query.

Everything the user typed reaches the database as bound parameters; for FTS5 the MATCH string is
built here from word characters only, each token quoted, so it is always valid FTS5 syntax.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import driver_rows
from core.models.base import UTCDateTime
from core.search.fusion import FIELD_WEIGHTS, stem
from core.search.query import ParsedQuery, words_of
from core.topics.normalise import normalise_topic

# bm25 column weights: headline, body, quote, topics (FTS5 column order of migration 0008).
_BM25 = "bm25(insights_fts, 4.0, 1.0, 1.0, 3.0)"
_TS_CONFIG = "'english'::regconfig"
MATCH_WINDOW = 1000  # newest matches the engine ranks (5 times the candidates fused)
FIRST_SPAN = 20 * MATCH_WINDOW  # newest ids PostgreSQL looks among first for them
_SPAN_MARGIN = 1.25  # a span estimated to hold a window is widened by this


@dataclass
class _Sql:
    """A WHERE clause under construction with its bound parameters."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    datetimes: set[str] = field(default_factory=set)
    joins: set[str] = field(default_factory=set)  # "episode": what the filters read

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"


def fts5_phrase(words: Sequence[str]) -> str:
    """One FTS5 string token: words are \\w+ only, so no quote can be inside."""
    return '"' + " ".join(words) + '"'


def fts5_match(query: ParsedQuery) -> str | None:
    """The FTS5 MATCH expression: all positive parts (AND), then NOT each exclusion. With
    ``topic:X`` also X's words in the topics column: every insight tagged X has them there,
    so FTS5 skips the matches of other topics in its own index instead of each being probed
    for its tag (which is still checked): 18-20 against 12-13 ms of CPU for a word and a
    topic at a million insights, the same first answers."""
    terms = [fts5_phrase([t]) for t in query.terms]
    if query.any_term and len(terms) > 1:
        terms = ["(" + " OR ".join(terms) + ")"]
    positive = terms + [fts5_phrase(p) for p in query.phrases]
    if not positive:
        return None
    topic = words_of(normalise_topic(query.topic)) if query.topic else []
    if topic:
        positive.append(f"topics : {fts5_phrase(topic)}")
    expression = "(" + " ".join(positive) + ")"
    for words in query.excluded:
        expression += f" NOT {fts5_phrase(words)}"
    return expression


def _ts_positive(query: ParsedQuery, sql: _Sql) -> str | None:
    parts = []
    if query.terms and query.any_term:
        parts.append(
            "("
            + " || ".join(f"plainto_tsquery({_TS_CONFIG}, {sql.bind(t)})" for t in query.terms)
            + ")"
        )
    elif query.terms:
        parts.append(f"plainto_tsquery({_TS_CONFIG}, {sql.bind(' '.join(query.terms))})")
    parts += [f"phraseto_tsquery({_TS_CONFIG}, {sql.bind(' '.join(p))})" for p in query.phrases]
    return " && ".join(parts) if parts else None


def _with_topic(query: ParsedQuery, sql: _Sql, positive: str) -> str:
    """The words, and for ``topic:X`` the topic's own words too. The tsvector holds the
    topics' words (weighted A), so every insight tagged X has them: the GIN index can then
    intersect both and only those rows are fetched and checked against the tag. With the words
    alone a rare word's matches were all fetched (9,047 rows of a million insights, 430 ms)
    or the primary key walked backwards testing each row; with the topic's words, 1,511 rows
    and 93 ms. Not part of the rank: the order is the same."""
    if not query.topic:
        return positive
    topic = sql.bind(normalise_topic(query.topic))
    return f"({positive}) && plainto_tsquery({_TS_CONFIG}, {topic})"


async def show_feeds(session: AsyncSession, query: ParsedQuery) -> list[int] | None:
    """The ids of the shows ``show:X`` names (None without one): looked up once in the small
    feeds table, so each insight tested checks its own ``feed_id`` instead of joining its
    feed (and, on PostgreSQL, hashing every feed and episode first)."""
    if not query.show:
        return None
    like = (
        "%" + query.show.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    )
    rows = await driver_rows(
        session,
        text("SELECT id FROM feeds WHERE lower(coalesce(title, '')) LIKE :like ESCAPE '\\' "
             "ORDER BY id"),
        {"like": like},
    )  # fmt: skip
    return [int(r[0]) for r in rows]


def _filters(
    query: ParsedQuery,
    sql: _Sql,
    dialect: str,
    feeds: list[int] | None,
    *,
    few_rows: bool = False,
) -> None:
    """``feeds``: the shows ``show:X`` names (``show_feeds``). ``few_rows``: the rows tested
    are few (a window of matches, a list of ids), so each looks up its own episode's date
    (a join hashed every episode on PostgreSQL first: 100,000 at a million insights) and on
    SQLite its own topic (``IN (subquery)`` first lists every insight of the topic: 160,000
    of a million, 65 of a query's 70 ms). Both only pay when every insight is tested
    (filters alone: 241 ms listed against 538 ms probed)."""
    if feeds is not None:
        sql.clauses.append(f"i.feed_id IN ({', '.join(str(int(f)) for f in feeds) or 'NULL'})")
    if query.topic:
        topic = sql.bind(normalise_topic(query.topic))
        if few_rows and dialect == "sqlite":
            sql.clauses.append(
                "EXISTS (SELECT 1 FROM insight_topics t "
                f"WHERE t.insight_id = i.id AND t.topic = {topic})"
            )
        else:
            sql.clauses.append(
                f"i.id IN (SELECT insight_id FROM insight_topics WHERE topic = {topic})"
            )
    for value, op in ((query.after, ">="), (query.before, "<")):
        if value is not None:
            name = sql.bind(value)
            sql.datetimes.add(name[1:])
            if few_rows:  # every insight has its episode (NOT NULL): the same as the join
                published = "(SELECT e.published_at FROM episodes e WHERE e.id = i.episode_id)"
            else:
                published = "e.published_at"
                sql.joins.add("episode")
            sql.clauses.append(f"coalesce({published}, i.created_at) {op} {name}")
    for words in query.excluded:
        if dialect == "sqlite":
            sql.clauses.append(
                "NOT EXISTS (SELECT 1 FROM insights_fts WHERE insights_fts MATCH "
                f"{sql.bind(fts5_phrase(words))} AND insights_fts.rowid = i.id)"
            )
        else:
            sql.clauses.append(
                f"NOT (i.search_vector @@ phraseto_tsquery({_TS_CONFIG}, "
                f"{sql.bind(' '.join(words))}))"
            )


def _statement(sql: _Sql, select: str, tail: str) -> Any:
    """Joined with episodes only when a filter of every insight reads them: every insight
    has one (a NOT NULL foreign key), so the join changes no answer, but on PostgreSQL it
    costs a hash of every episode (a sequential scan: 48 of 55 ms of a rare word at a
    million)."""
    where = " AND ".join(sql.clauses) or "TRUE"
    joins = "JOIN episodes e ON e.id = i.episode_id " if "episode" in sql.joins else ""
    stmt = text(f"{select} {joins}WHERE {where} {tail}")
    binds = [bindparam(n, type_=UTCDateTime()) for n in sorted(sql.datetimes)]
    return stmt.bindparams(*binds) if binds else stmt


async def text_matches(
    session: AsyncSession,
    query: ParsedQuery,
    limit: int,
    window: int = MATCH_WINDOW,
    first_span: int = FIRST_SPAN,
) -> list[tuple[int, str, str, str, str]]:
    """Insights matching every positive part and filter, none of the exclusions, best first by
    the engine's rank: (id, headline, body, quote, topics as text). Only the newest ``window``
    matches are ranked: a word found in a third of a million insights would otherwise have
    every match scored (seconds), while the newest matches are found in index order.
    ``first_span``: see ``_postgres_matches``."""
    feeds = await show_feeds(session, query)
    if feeds == []:  # no show of that name
        return []
    if session.get_bind().dialect.name == "sqlite":
        return await _sqlite_matches(session, query, feeds, limit, window)
    return await _postgres_matches(session, query, feeds, limit, window, first_span)


async def _sqlite_matches(
    session: AsyncSession, query: ParsedQuery, feeds: list[int] | None, limit: int, window: int
) -> list[tuple[int, str, str, str, str]]:
    match = fts5_match(query)
    if match is None:
        return []
    if query.phrases:
        return await _sqlite_phrase_matches(session, query, match, feeds, limit, window)
    sql = _Sql()
    sql.clauses.append(f"insights_fts MATCH {sql.bind(match)}")
    # bm25 only works beside its MATCH: computed in the window, for its rows only.
    select = (
        f"SELECT i.id, i.headline, i.body, i.quote, i.topics, {_BM25} AS r "
        "FROM insights_fts JOIN insights i ON i.id = insights_fts.rowid"
    )
    # The MATCH expression already excludes the exclusions: only the filters are added.
    _filters(_without_exclusions(query), sql, "sqlite", feeds, few_rows=True)
    inner = _statement(sql, select, f"ORDER BY insights_fts.rowid DESC LIMIT {int(window)}")
    stmt = _bound(
        sql,
        f"SELECT id, headline, body, quote, topics FROM ({inner.text}) w "
        f"ORDER BY r, id DESC LIMIT {int(limit)}",
    )
    rows = await driver_rows(session, stmt, sql.params)
    return [(int(r[0]), r[1], r[2], r[3], str(r[4] or "")) for r in rows]


async def _sqlite_phrase_matches(
    session: AsyncSession,
    query: ParsedQuery,
    match: str,
    feeds: list[int] | None,
    limit: int,
    window: int,
) -> list[tuple[int, str, str, str, str]]:
    """A query with an "exact phrase": the same window of newest matches, ranked by
    ``phrase_order`` instead of ``bm25``. FTS5's ``bm25`` first counts the rows holding each
    phrase in the whole library, reading the positions of every row that has all its words:
    for a phrase of common words ("and you") that pass was 40 of 59 ms at 100,000 insights
    and most of 146 ms at a million, while the window itself is found in about a
    millisecond."""
    sql = _Sql()
    sql.clauses.append(f"insights_fts MATCH {sql.bind(match)}")
    _filters(_without_exclusions(query), sql, "sqlite", feeds, few_rows=True)
    stmt = _statement(
        sql,
        "SELECT i.id, i.headline, i.body, i.quote, i.topics "
        "FROM insights_fts JOIN insights i ON i.id = insights_fts.rowid",
        f"ORDER BY insights_fts.rowid DESC LIMIT {int(window)}",
    )
    rows = [
        (int(r[0]), r[1], r[2], r[3], str(r[4] or ""))
        for r in await driver_rows(session, stmt, sql.params)
    ]
    return phrase_order(query.phrases, rows)[:limit]


def phrase_order(
    phrases: Sequence[Sequence[str]], rows: Sequence[tuple[int, str, str, str, str]]
) -> list[tuple[int, str, str, str, str]]:
    """Matches of phrases, best first as ``bm25`` weighs its columns: by the summed weight of
    the fields (headline, body, quote, topics) holding each phrase, words in order with only
    separators between them (each word by its crude stem, for the engine's stemmed matches);
    ties newest first. Within the window every row holds every phrase, so ``bm25``'s
    library-wide counts would weigh all rows alike and need not be known."""
    parts = [_phrase_pattern([stem(w) for w in words]) for words in phrases]

    def weight(row: tuple[int, str, str, str, str]) -> float:
        total = 0.0
        for w, column in zip(FIELD_WEIGHTS, row[1:], strict=True):
            lowered = column.lower()
            for stems, pattern in parts:
                # The substring tests (in C) settle most fields before the regex runs.
                if all(s in lowered for s in stems) and pattern.search(lowered):
                    total += w
        return total

    return sorted(rows, key=lambda r: (-weight(r), -r[0]))


def _phrase_pattern(stems: list[str]) -> tuple[list[str], re.Pattern[str]]:
    """The stems of a phrase and a regex of them in order, each a whole token's start, only
    separators between. It opens with the first stem itself, then looks behind it for a
    word character: a pattern opening with the look-behind made re try every position of
    the text, one with a literal lets it scan for the literal in C (half the time of a
    window of 1,000 matches of "and that")."""
    first = re.escape(stems[0])
    rest = "".join(r"\W+" + re.escape(s) + r"\w*" for s in stems[1:])
    return stems, re.compile(first + r"(?<!\w" + first + r")\w*" + rest + r"(?!\w)")


async def _postgres_matches(
    session: AsyncSession,
    query: ParsedQuery,
    feeds: list[int] | None,
    limit: int,
    window: int,
    first_span: int,
) -> list[tuple[int, str, str, str, str]]:
    """The newest ``window`` matches are looked for among the newest ``first_span`` ids first,
    then, if fewer were there, among as many newest ids as their density there says should
    hold a window (and at last among all). Without a bound on ids the planner walked the
    primary key backwards testing every row's ``tsvector`` until it had a window: for a word
    in 0.7% of a million insights 138,000 rows (100-150 ms); within a span of ids it
    intersects the GIN index with the span instead and fetches only the matches (25 ms). The
    window is the same: the newest matches, only found with less reading. Not with a show or
    date filter, whose matches are few in any span: there the whole plan is the planner's."""
    sql = _Sql()
    positive = _ts_positive(query, sql)
    if positive is None:
        return []
    sql.clauses.append(f"i.search_vector @@ ({_with_topic(query, sql, positive)})")
    _filters(query, sql, "postgresql", feeds, few_rows=True)
    span = int(first_span)
    floor: str | None = f"(SELECT max(id) FROM insights) - {span}"
    if feeds is not None or query.after or query.before:
        floor = None  # show: or a date: within a span the planner chose worse (97 against 62 ms)
    while True:
        rows = await _ranked_window(session, sql, positive, limit, window, floor)
        found, top = (int(rows[0][5]), int(rows[0][6])) if rows else (0, 0)
        if found >= window or floor is None or (rows and top <= span):  # all were looked at
            return [(int(r[0]), r[1], r[2], r[3], str(r[4] or "")) for r in rows]
        if not found:  # too rare to say how far back a window goes: all of them
            floor = None
            continue
        span = math.ceil(span * window / found * _SPAN_MARGIN)
        floor = str(top - span) if top > span else None


async def _ranked_window(
    session: AsyncSession,
    sql: _Sql,
    positive: str,
    limit: int,
    window: int,
    floor: str | None,
) -> Sequence[Any]:
    """The best ``limit`` of the newest ``window`` matches with ids above ``floor`` (an SQL
    expression), ranked outside the window so only its rows are ranked whatever the plan; each
    row also says how many the window held and the newest id."""
    spanned = replace(sql, clauses=[*sql.clauses, f"i.id > {floor}"]) if floor else sql
    inner = _statement(
        spanned,
        "SELECT i.id, i.headline, i.body, i.quote, CAST(i.topics AS TEXT) AS topics, "
        "i.search_vector FROM insights i",
        f"ORDER BY i.id DESC LIMIT {int(window)}",
    )
    stmt = _bound(
        sql,
        "SELECT id, headline, body, quote, topics, count(*) OVER () AS n, "
        f"(SELECT max(id) FROM insights) AS top FROM ({inner.text}) w "
        f"ORDER BY ts_rank_cd(w.search_vector, ({positive})) DESC, id DESC LIMIT {int(limit)}",
    )
    return await driver_rows(session, stmt, sql.params)


def _bound(sql: _Sql, statement: str) -> Any:
    """``statement`` with its datetime parameters typed (stored as the application stores
    them)."""
    stmt = text(statement)
    binds = [bindparam(n, type_=UTCDateTime()) for n in sorted(sql.datetimes)]
    return stmt.bindparams(*binds) if binds else stmt


async def keep_matching(session: AsyncSession, query: ParsedQuery, ids: Sequence[int]) -> set[int]:
    """Those of ``ids`` that pass the query's filters and exclusions (not its words)."""
    if not ids:
        return set()
    if not (query.has_filters or query.excluded):
        return set(ids)
    feeds = await show_feeds(session, query)
    if feeds == []:
        return set()
    sql = _Sql()
    sql.clauses.append("i.id IN (" + ", ".join(str(int(i)) for i in ids) + ")")
    _filters(query, sql, session.get_bind().dialect.name, feeds, few_rows=True)
    stmt = _statement(sql, "SELECT i.id FROM insights i", "")
    return {int(r[0]) for r in await driver_rows(session, stmt, sql.params)}


async def filtered_newest(session: AsyncSession, query: ParsedQuery, limit: int) -> list[int]:
    """A query of filters only (show:X after:...): the best-scored matching insights."""
    feeds = await show_feeds(session, query)
    if feeds == []:
        return []
    sql = _Sql()
    _filters(query, sql, session.get_bind().dialect.name, feeds)
    stmt = _statement(
        sql, "SELECT i.id FROM insights i", f"ORDER BY i.score DESC, i.id DESC LIMIT {int(limit)}"
    )
    return [int(r[0]) for r in await driver_rows(session, stmt, sql.params)]


def _without_exclusions(query: ParsedQuery) -> ParsedQuery:
    return replace(query, excluded=())
