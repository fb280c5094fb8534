"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import alembic_config, create_engine, head_revisions, migrate
from core.migrations.external import include_name
from core.models import Base


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
