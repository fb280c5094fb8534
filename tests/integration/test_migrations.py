"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from core.migrations.external import include_name
from core.models import Base


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
    from core.db import migrate

    await migrate(engine)  # a second start applies nothing and fails on nothing
    async with engine.connect() as conn:
        assert "feeds" in await conn.run_sync(_tables)


def test_the_migrations_form_one_chain() -> None:
    from alembic.script import ScriptDirectory

    from core.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1, "two migrations share a parent: give one a new parent"
    assert [rev.revision for rev in script.walk_revisions()][-1] == "0001"
