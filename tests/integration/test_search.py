"""Search from the database's full-text index, with the query syntax, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from core.chat.search import search_insights
from core.db import Sessions, transaction
from core.models import Episode, Insight, InsightEmbedding
from core.ports import Vectors
from core.search.exact_index import ExactVectorIndexFactory
from core.search.fulltext import phrase_order, text_matches
from core.search.query import parse_query
from core.search.vectors import VectorLibrary
from tests.fakes.chat_library import Library, build_library
from tests.fakes.clock import FakeClock
from tests.fakes.concept_embedder import ConceptEmbedder

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)

HOSTILE = [
    '"unbalanced quote',
    'pricing "',
    '"""',
    "NEAR(pricing annual)",
    "pricing AND annual OR churn NOT trials",
    "pric*",
    "*",
    "^pricing",
    "headline:pricing",
    "body:churn quote:anything",
    "{headline body}: pricing",
    "'; DROP TABLE insights; --",
    "pricing') OR 1=1 --",
    "pricing\x00annual",
    "%_\\",
    "-",
    "--",
    '-""',
    "show:",
    "topic:",
    'show:"',
    "after:yesterday",
    "before:2026-02-30",
    "after:2026-01-01T00:00",
    "x" * 5000,
    "pricing " * 300,
    "ü ñ 漢字 🙂",
    ":",
    "a:b:c",
]


@pytest.fixture
async def lib(sessions: Sessions) -> Library:
    return await build_library(sessions, NOW)


async def ids(sessions: Sessions, lib: Library, query: str) -> list[int]:
    """Full-text answers only (no embedder), so what the words match is what is tested."""
    result = await search_insights(sessions, None, query, limit=10)
    assert result.problem is None, result.problem
    return result.insight_ids


async def test_words_must_all_match_and_stemming_finds_other_forms(
    sessions: Sessions, lib: Library
) -> None:
    found = await ids(sessions, lib, "pricing")
    # "Price for the value…" says "price"/"pricing"; "Annual plans" is tagged pricing.
    assert lib.id_of("Usage-based pricing") in found
    assert lib.id_of("Price for the value") in found
    assert lib.id_of("Stablecoins") not in found
    both = await ids(sessions, lib, "pricing annual")
    assert both == [lib.id_of("Annual plans")]


async def test_headline_matches_rank_above_body_matches(sessions: Sessions, lib: Library) -> None:
    found = await ids(sessions, lib, "churn")
    # "Annual plans cut churn…" has it in the headline; no other insight mentions it.
    assert found[0] == lib.id_of("Annual plans")


async def test_exact_phrase_and_exclusion(sessions: Sessions, lib: Library) -> None:
    assert await ids(sessions, lib, '"annual plans"') == [lib.id_of("Annual plans")]
    assert await ids(sessions, lib, '"plans annual"') == []
    with_exclusion = await ids(sessions, lib, "pricing -annual")
    assert lib.id_of("Annual plans") not in with_exclusion
    assert lib.id_of("Usage-based pricing") in with_exclusion
    no_phrase = await ids(sessions, lib, 'pricing -"credit card"')
    assert lib.id_of("Free trials") not in no_phrase


async def test_show_topic_and_date_filters(sessions: Sessions, lib: Library) -> None:
    assert await ids(sessions, lib, "show:weekly models") == [lib.id_of("Small models")]
    assert await ids(sessions, lib, 'show:"pricing pod" stablecoins') == []
    crypto = await ids(sessions, lib, "topic:crypto")
    assert set(crypto) == {lib.id_of("Stablecoins"), lib.id_of("Bitcoin")}
    # With words, SQLite also looks for the topic's words in the topics column.
    assert await ids(sessions, lib, "institutions topic:crypto") == [lib.id_of("Bitcoin")]
    assert await ids(sessions, lib, "institutions topic:pricing") == []
    assert await ids(sessions, lib, '"annual plans" topic:pricing') == [lib.id_of("Annual plans")]
    async with transaction(sessions) as session:
        await session.execute(
            update(Episode)
            .where(Episode.id == lib.episode_ids["c1"])
            .values(published_at=datetime(2025, 6, 1, tzinfo=UTC))
        )
    old = await ids(sessions, lib, "before:2026-01-01")
    assert set(old) == {lib.id_of("Stablecoins"), lib.id_of("Bitcoin")}
    assert await ids(sessions, lib, "stablecoins after:2026-01-01") == []


async def test_a_show_filter_checks_each_insights_own_show_and_a_date_its_episodes(
    sessions: Sessions, lib: Library
) -> None:
    """show:X is looked up in the feeds first (the ids it names), the date per insight's own
    episode: the same answers as joining both, with words, with exclusions and alone."""
    every = await ids(sessions, lib, "pricing")
    assert await ids(sessions, lib, "show:nowhere pricing") == []
    assert await ids(sessions, lib, "show:nowhere") == []
    async with transaction(sessions) as session:
        await session.execute(
            update(Episode)
            .where(Episode.id == lib.episode_ids["c1"])
            .values(published_at=datetime(2025, 6, 1, tzinfo=UTC))
        )
    dated = await ids(sessions, lib, "pricing after:2026-01-01")
    assert dated and set(dated) <= set(every)
    for query in ("show:weekly", "show:weekly models", "show:weekly -crypto after:2026-01-01"):
        async with sessions() as session:
            feed = lib.feed_ids["f2"]
            in_show = {
                r[0] for r in (await session.execute(
                    select(Insight.id).where(Insight.feed_id == feed)
                )).all()
            }  # fmt: skip
        found = await ids(sessions, lib, query)
        assert found and set(found) <= in_show, query


async def test_a_phrase_in_the_headline_is_picked_before_one_in_the_body(
    sessions: Sessions, lib: Library
) -> None:
    """Of a phrase's matches the candidates are those with it in the weightier fields, as
    the engines' ranks pick them (SQLite without bm25's library-wide count of the phrase)."""
    async with transaction(sessions) as session:
        for headline, body in (
            ("Quarterly plans and annual targets", "Annual plans are easier to sell."),
            ("Annual plans cut support load", "Fewer renewals to chase."),
            ("Plans, annual ones", "Annual reviews of plans."),
        ):
            session.add(
                Insight(
                    episode_id=lib.episode_ids["a1"], feed_id=lib.feed_ids["f2"],
                    headline=headline, body=body, quote="q", speaker="X", start_seconds=1.0,
                    topics=[], score=0.5,
                )
            )  # fmt: skip
    async with sessions() as session:
        order = [r[1] for r in await text_matches(session, parse_query('"annual plans"'), 10)]
    assert "Plans, annual ones" not in order
    assert order.index("Annual plans cut support load") < order.index(
        "Quarterly plans and annual targets"
    )


def test_phrase_order_weighs_the_fields_holding_each_phrase_then_newest() -> None:
    rows = [
        (9, "so what", "and, you know", "", ""),
        (8, "And you? Yes", "", "", ""),
        (7, "you and", "and you", "and you", ""),
        (6, "and yours", "", "", ""),
        (5, "bands you like", "", "", "and you"),
    ]
    ranked = [r[0] for r in phrase_order([("and", "you")], rows)]
    # headline 4 (8, and 6 by "you"'s stem), topics 3, body + quote 2, body 1; ties newest.
    assert ranked == [8, 6, 5, 7, 9]


async def test_hostile_queries_get_an_answer_not_a_database_error(
    sessions: Sessions, lib: Library
) -> None:
    for query in HOSTILE:  # one library for all: each would raise if the SQL or MATCH broke
        result = await search_insights(sessions, lib.embedder, query, limit=5)
        if result.problem:
            assert len(result.problem) < 200, query
        else:
            assert all(isinstance(i, int) for i in result.insight_ids), query
    # Operators are words here: "pricing AND annual" is the two words, not FTS syntax.
    assert (await ids(sessions, lib, "pricing AND annual")) == [lib.id_of("Annual plans")]
    assert (await ids(sessions, lib, "headline:churn")) == [lib.id_of("Annual plans")]


async def test_bad_dates_and_empty_queries_are_explained(sessions: Sessions, lib: Library) -> None:
    bad = await search_insights(sessions, lib.embedder, "pricing after:2026-13-01")
    assert bad.problem and "after:2026-01-01" in bad.problem
    empty = await search_insights(sessions, lib.embedder, "-pricing")
    assert empty.problem and "what to look for" in empty.problem


async def test_new_insight_is_searchable_in_the_transaction_that_stores_it(
    sessions: Sessions, lib: Library
) -> None:
    async with transaction(sessions) as session:
        row = await session.get(Insight, lib.id_of("Stablecoins"))
        assert row is not None
        row.headline = "Stablecoins settle cross-border payroll overnight"
    assert await ids(sessions, lib, "overnight payroll") == [lib.id_of("Stablecoins")]
    async with transaction(sessions) as session:
        await session.delete(await session.get(Insight, lib.id_of("Stablecoins")))
    assert await ids(sessions, lib, "payroll") == []


async def test_hybrid_search_finds_synonyms_through_embeddings(sessions: Sessions) -> None:
    lib = await build_library(sessions, NOW)
    embedder = ConceptEmbedder()
    texts = [
        ("Burnout follows founders who never rest", "Taking no break burns people out."),
        ("Exhaustion is the silent killer of small teams", "Tired teams ship less and quit."),
    ]
    async with transaction(sessions) as session:
        new = []
        for headline, body in texts:
            row = Insight(
                episode_id=lib.episode_ids["a1"], feed_id=lib.feed_ids["f2"], headline=headline,
                body=body, quote="We were exhausted.", speaker="X", start_seconds=1.0,
                topics=["health"], score=0.5,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            new.append(row.id)
        all_rows = (await session.execute(Insight.__table__.select())).all()
        vectors = await embedder.embed([f"{r.headline}. {r.body}" for r in all_rows])
        for r, v in zip(all_rows, vectors, strict=True):
            session.add(
                InsightEmbedding(insight_id=r.id, model=embedder.name, dim=6, vector=v.tobytes())
            )
    library = VectorLibrary(sessions, ExactVectorIndexFactory(), embedder.name, FakeClock())
    result = await search_insights(sessions, embedder, "burnout", limit=5, library=library)
    assert result.exact
    assert result.insight_ids[:2] == new  # the word first, then the synonym
    without = await search_insights(sessions, None, "burnout", limit=5)
    assert without.insight_ids == new[:1]


async def test_a_word_in_more_insights_than_the_window_ranks_its_newest_matches(
    sessions: Sessions, lib: Library
) -> None:
    """The engine ranks only the newest matches (bounded work for a word found everywhere)."""
    query = parse_query("pricing")
    async with sessions() as session:
        every = [r[0] for r in await text_matches(session, query, 10)]
        newest = [r[0] for r in await text_matches(session, query, 10, window=2)]
    assert len(every) >= 4
    assert sorted(newest) == sorted(every)[-2:]


async def test_the_window_holds_the_newest_matches_however_far_back_they_go(
    sessions: Sessions, lib: Library
) -> None:
    """PostgreSQL looks among the newest ids first and widens the span by the matches'
    density there: matches bunched at the newest ids, then sparse, then none, then older
    ones make every step run (a first span that holds one match, a second estimated too
    short, then all) and the window is still the newest matches."""
    async with transaction(sessions) as session:
        added = []
        for k in range(40):
            row = Insight(
                episode_id=lib.episode_ids["a1"], feed_id=lib.feed_ids["f2"],
                headline=f"Note {k}", body="zebra crossing" if k in {0, 1, 2, 30, 38} else "x",
                quote="q", speaker="X", start_seconds=1.0, topics=[], score=0.5,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            added.append(row.id)
    matches = [added[k] for k in (0, 1, 2, 30, 38)]
    query = parse_query("zebra")
    async with sessions() as session:
        for window, first_span in ((2, 3), (3, 3), (4, 3), (5, 3), (4, 12), (9, 1)):
            found = await text_matches(session, query, 10, window=window, first_span=first_span)
            assert sorted(r[0] for r in found) == matches[-window:], (window, first_span)


class PoolWatchingEmbedder(ConceptEmbedder):
    """Notes how many of the engine's pooled connections are checked out while it embeds."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.pool = engine.sync_engine.pool
        self.checked_out: list[int] = []

    async def embed(self, texts: Sequence[str]) -> Vectors:
        self.checked_out.append(self.pool.checkedout())  # type: ignore[attr-defined]
        return await super().embed(texts)


async def test_a_search_holds_no_connection_while_it_embeds_the_query(
    engine: AsyncEngine, sessions: Sessions, lib: Library
) -> None:
    """Under load a search used to wait for its embedding (a thread) and the vector index
    (its lock, its own session) inside an open transaction: connections sat idle in a
    transaction while other chat turns queued for one."""
    embedder = PoolWatchingEmbedder(engine)
    library = VectorLibrary(sessions, ExactVectorIndexFactory(), embedder.name, FakeClock())
    with_index = await search_insights(sessions, embedder, "pricing", library=library)
    without = await search_insights(sessions, embedder, "pricing -annual")
    assert embedder.checked_out == [0, 0]
    assert lib.id_of("Usage-based pricing") in with_index.insight_ids
    assert lib.id_of("Annual plans") not in without.insight_ids
