"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.db import alembic_config, create_engine, head_revisions, migrate
from core.migrations.external import include_name
from core.models import Base
from core.models.feeds import Episode, Feed
from core.models.insights import Insight, RelatedEdge


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """Migrated by running the migrations here (elsewhere tests get a copy of a migrated
    database, see tests/conftest.py)."""
    eng = create_engine(db_url)
    await migrate(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


def _diff(conn: Connection) -> list[object]:
    opts = {"compare_type": False, "include_name": include_name}
    ctx = MigrationContext.configure(conn, opts=opts)
    return list(compare_metadata(ctx, Base.metadata))


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def test_migrations_match_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
        tables = await conn.run_sync(_tables)
    assert diff == []
    assert {"feeds", "episodes", "segments", "insights", "users", "briefs"} <= tables


async def test_migrate_is_idempotent(engine: AsyncEngine) -> None:
    await migrate(engine)  # a second start applies nothing and fails on nothing
    async with engine.connect() as conn:
        assert "feeds" in await conn.run_sync(_tables)


def _versions(conn: Connection) -> set[str]:
    return set(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())


def _upgrade_to(revision: str) -> Callable[[Connection], None]:
    return lambda conn: command.upgrade(alembic_config(conn), revision)


async def test_a_database_behind_the_head_is_brought_up_to_it(db_url: str) -> None:
    """migrate() skips alembic when the database is at the head already: one a migration
    behind must still get the last one."""
    eng = create_engine(db_url)
    try:
        async with eng.begin() as conn:
            await conn.run_sync(_upgrade_to("head-1"))
            assert await conn.run_sync(_versions) != head_revisions()
        await migrate(eng)
        async with eng.connect() as conn:
            assert await conn.run_sync(_versions) == head_revisions()
            assert await conn.run_sync(_diff) == []
    finally:
        await eng.dispose()


def test_the_heads_read_from_the_files_are_alembics() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    assert head_revisions() == frozenset(script.get_heads())


def test_the_migrations_form_one_chain() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1, "two migrations share a parent: give one a new parent"
    assert [rev.revision for rev in script.walk_revisions()][-1] == "0001"


def _seed_edges(conn: Connection) -> None:
    """Three insights of one episode, each listing the other two (the models' defaults fill
    the other columns: 0014 changes only related_edges)."""
    conn.execute(insert(Feed).values(id=1, url="https://a.example/f"))
    conn.execute(insert(Episode).values(id=1, feed_id=1, dedup_key="e1", title="One"))
    conn.execute(
        insert(Insight),
        [
            dict(id=i, episode_id=1, feed_id=1, headline=f"h{i}", body=f"b{i}", quote=f"q{i}",
                 start_seconds=0.0, topics=[], score=0.5)
            for i in (1, 2, 3)
        ],
    )  # fmt: skip
    conn.execute(
        insert(RelatedEdge),
        [
            dict(insight_id=a, related_id=b, rank=r, score=s)
            for a, b, r, s in [
                (1, 3, 0, 0.9), (1, 2, 1, 0.5), (2, 1, 0, 0.5), (2, 3, 1, 0.4),
                (3, 1, 0, 0.9), (3, 2, 1, 0.4),
            ]
        ],
    )  # fmt: skip


def _edges(conn: Connection) -> list[tuple[int, int, int, float]]:
    rows = conn.exec_driver_sql(
        "SELECT insight_id, related_id, rank, score FROM related_edges ORDER BY insight_id, rank"
    )
    return [(int(a), int(b), int(c), float(d)) for a, b, c, d in rows]


async def _edges_kept_from(
    conn: AsyncConnection, before: str, after: str
) -> list[tuple[int, int, int, float]]:
    """Seeds the edges at revision ``before``, upgrades to ``after`` and checks every edge is
    still there; returns them."""
    await conn.run_sync(_upgrade_to(before))
    await conn.run_sync(_seed_edges)
    edges = await conn.run_sync(_edges)
    await conn.run_sync(_upgrade_to(after))
    assert await conn.run_sync(_edges) == edges
    return edges


async def test_related_edges_keep_every_row_through_0014_and_back(db_url: str) -> None:
    """0014 stores each list together (SQLite: a table that is its key) and drops the (insight,
    rank) index: every edge survives the upgrade and the downgrade, and deleting an insight
    still takes the edges to and from it."""
    eng = create_engine(db_url)
    try:
        async with eng.begin() as conn:
            before = await _edges_kept_from(conn, "0013_compose", "0014_edges")
            indexes = await conn.run_sync(
                lambda c: {i["name"] for i in inspect(c).get_indexes("related_edges")}
            )
            assert "ix_related_edges_rank" not in indexes
            assert "ix_related_edges_related_id" in indexes
            if eng.dialect.name == "sqlite":
                ddl = (
                    await conn.exec_driver_sql(
                        "SELECT sql FROM sqlite_master WHERE name = 'related_edges'"
                    )
                ).scalar_one()
                assert ddl.rstrip().endswith("WITHOUT ROWID")
            await conn.exec_driver_sql("DELETE FROM insights WHERE id = 2")
            assert await conn.run_sync(_edges) == [e for e in before if 2 not in (e[0], e[1])]
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0013_compose"))
            assert await conn.run_sync(_edges) == [e for e in before if 2 not in (e[0], e[1])]
            indexes = await conn.run_sync(
                lambda c: {i["name"] for i in inspect(c).get_indexes("related_edges")}
            )
            assert "ix_related_edges_rank" in indexes
    finally:
        await eng.dispose()


def _fill_options(conn: Connection) -> list[str] | None:
    options = conn.exec_driver_sql(
        "SELECT reloptions FROM pg_class WHERE oid = 'related_edges'::regclass"
    ).scalar_one()
    return list(options) if options is not None else None


async def test_related_edges_pages_keep_room_for_re_ranks_through_0015_and_back(
    db_url: str,
) -> None:
    """0015 leaves a fifth of each page of related_edges free on PostgreSQL (a re-rank then
    stays on its page) and rewrites the table so that it applies: every edge survives both
    ways, and the downgrade takes the setting back. SQLite's table is unchanged."""
    eng = create_engine(db_url)
    try:
        async with eng.begin() as conn:
            before = await _edges_kept_from(conn, "0014_edges", "0015_edges_fill")
            if eng.dialect.name == "postgresql":
                assert await conn.run_sync(_fill_options) == ["fillfactor=80"]
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0014_edges"))
            assert await conn.run_sync(_edges) == before
            if eng.dialect.name == "postgresql":
                assert await conn.run_sync(_fill_options) is None
    finally:
        await eng.dispose()
