"""Full-text matching in the database's own index: SQLite FTS5 (bm25) or PostgreSQL tsvector
(GIN, ts_rank_cd), with the show/topic/date filters and exclusions of a parsed query.

Everything the user typed reaches the database as bound parameters; for FTS5 the MATCH string is
built here from word characters only, each token quoted, so it is always valid FTS5 syntax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.models.base import UTCDateTime
from core.search.query import ParsedQuery
from core.topics.normalise import normalise_topic

# bm25 column weights: headline, body, quote, topics (FTS5 column order of migration 0008).
_BM25 = "bm25(insights_fts, 4.0, 1.0, 1.0, 3.0)"
_TS_CONFIG = "'english'::regconfig"
MATCH_WINDOW = 1000  # newest matches the engine ranks (5 times the candidates fused)


@dataclass
class _Sql:
    """A WHERE clause under construction with its bound parameters."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    datetimes: set[str] = field(default_factory=set)

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"


def fts5_phrase(words: Sequence[str]) -> str:
    """One FTS5 string token: words are \\w+ only, so no quote can be inside."""
    return '"' + " ".join(words) + '"'


def fts5_match(query: ParsedQuery) -> str | None:
    """The FTS5 MATCH expression: all positive parts (AND), then NOT each exclusion."""
    terms = [fts5_phrase([t]) for t in query.terms]
    if query.any_term and len(terms) > 1:
        terms = ["(" + " OR ".join(terms) + ")"]
    positive = terms + [fts5_phrase(p) for p in query.phrases]
    if not positive:
        return None
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


def _filters(query: ParsedQuery, sql: _Sql, dialect: str, *, few_rows: bool = False) -> None:
    """``few_rows``: the rows tested are few (a window of matches, a list of ids), so on SQLite
    the topic is probed per row; as ``IN (subquery)`` SQLite first lists every insight of the
    topic (160,000 of a million: 65 of a query's 70 ms), which only pays when every insight is
    tested (filters alone: 241 ms listed against 538 ms probed)."""
    if query.show:
        like = (
            "%"
            + query.show.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        sql.clauses.append(f"lower(coalesce(fd.title, '')) LIKE {sql.bind(like)} ESCAPE '\\'")
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
            sql.clauses.append(f"coalesce(e.published_at, i.created_at) {op} {name}")
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
    where = " AND ".join(sql.clauses) or "TRUE"
    stmt = text(
        f"{select} JOIN episodes e ON e.id = i.episode_id JOIN feeds fd ON fd.id = i.feed_id "
        f"WHERE {where} {tail}"
    )
    binds = [bindparam(n, type_=UTCDateTime()) for n in sorted(sql.datetimes)]
    return stmt.bindparams(*binds) if binds else stmt


async def text_matches(
    session: AsyncSession, query: ParsedQuery, limit: int, window: int = MATCH_WINDOW
) -> list[tuple[int, str, str, str, str]]:
    """Insights matching every positive part and filter, none of the exclusions, best first by
    the engine's rank: (id, headline, body, quote, topics as text). Only the newest ``window``
    matches are ranked: a word found in a third of a million insights would otherwise have
    every match scored (seconds), while the newest matches are found in index order."""
    dialect = session.get_bind().dialect.name
    sql = _Sql()
    if dialect == "sqlite":
        match = fts5_match(query)
        if match is None:
            return []
        sql.clauses.append(f"insights_fts MATCH {sql.bind(match)}")
        # bm25 only works beside its MATCH: computed in the window, for its rows only.
        select = (
            f"SELECT i.id, i.headline, i.body, i.quote, i.topics, {_BM25} AS r "
            "FROM insights_fts JOIN insights i ON i.id = insights_fts.rowid"
        )
        outer = "SELECT id, headline, body, quote, topics FROM ({window}) w ORDER BY r, id DESC"
        order = "ORDER BY insights_fts.rowid DESC"
        query = _without_exclusions(query)  # the MATCH expression already excludes them
    else:
        positive = _ts_positive(query, sql)
        if positive is None:
            return []
        sql.clauses.append(f"i.search_vector @@ ({_with_topic(query, sql, positive)})")
        select = (
            "SELECT i.id, i.headline, i.body, i.quote, CAST(i.topics AS TEXT) AS topics, "
            "i.search_vector FROM insights i"
        )
        # Ranked outside the window, so only its rows are ranked whatever the plan.
        outer = (
            "SELECT id, headline, body, quote, topics FROM ({window}) w "
            f"ORDER BY ts_rank_cd(w.search_vector, ({positive})) DESC, id DESC"
        )
        order = "ORDER BY i.id DESC"
    _filters(query, sql, dialect, few_rows=True)
    inner = _statement(sql, select, f"{order} LIMIT {int(window)}")
    stmt = text(outer.format(window=inner.text) + f" LIMIT {int(limit)}")
    binds = [bindparam(n, type_=UTCDateTime()) for n in sorted(sql.datetimes)]
    stmt = stmt.bindparams(*binds) if binds else stmt
    rows = (await session.execute(stmt, sql.params)).all()
    return [(int(r[0]), r[1], r[2], r[3], str(r[4] or "")) for r in rows]


async def keep_matching(session: AsyncSession, query: ParsedQuery, ids: Sequence[int]) -> set[int]:
    """Those of ``ids`` that pass the query's filters and exclusions (not its words)."""
    if not ids:
        return set()
    if not (query.has_filters or query.excluded):
        return set(ids)
    sql = _Sql()
    sql.clauses.append("i.id IN (" + ", ".join(str(int(i)) for i in ids) + ")")
    _filters(query, sql, session.get_bind().dialect.name, few_rows=True)
    stmt = _statement(sql, "SELECT i.id FROM insights i", "")
    return {int(r[0]) for r in (await session.execute(stmt, sql.params)).all()}


async def filtered_newest(session: AsyncSession, query: ParsedQuery, limit: int) -> list[int]:
    """A query of filters only (show:X after:...): the best-scored matching insights."""
    sql = _Sql()
    _filters(query, sql, session.get_bind().dialect.name)
    stmt = _statement(
        sql, "SELECT i.id FROM insights i", f"ORDER BY i.score DESC, i.id DESC LIMIT {int(limit)}"
    )
    return [int(r[0]) for r in (await session.execute(stmt, sql.params)).all()]


def _without_exclusions(query: ParsedQuery) -> ParsedQuery:
    return replace(query, excluded=())
