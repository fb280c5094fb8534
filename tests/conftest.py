"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, the shared real data."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import create_engine, migrate, session_factory
from tests.fakes.clock import FakeClock

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("PODBRIEF_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def shared_data_dir() -> Path:
    path = Path(os.environ.get("PODBRIEF_SHARED_DATA", ROOT.parent / "shared" / "data"))
    if not path.is_dir():
        pytest.fail(f"the shared real data is missing: expected it at {path}")
    return path.resolve()  # file:// URLs of feeds are stored resolved (shared/ may be a link)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return shared_data_dir()


def _postgres_unreachable() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {PG_URL}: {exc}".strip()


@pytest.fixture(scope="session")
def postgres_reason() -> str | None:
    return _postgres_unreachable()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Vacuum the system catalogs the run's made and dropped schemas churned: on a server whose
    autovacuum is off (CI's) their dead rows pile up run after run (pg_attribute held 600,000
    beside 5,600 live ones) and every query's planning reads them. Once, by the controller."""
    if hasattr(session.config, "workerinput") or _postgres_unreachable():
        return
    try:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            tables = conn.execute(
                "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'pg_catalog'"
            ).fetchall()
            for (table,) in tables:
                conn.execute(f"VACUUM pg_catalog.{table}")
    except psycopg.Error as exc:  # not allowed, or the server went away: the tests stand
        print(f"\nthe catalogs were not vacuumed: {exc}")


@contextmanager
def _schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        sep = "&" if "?" in PG_URL else "?"
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def postgres_schema_url(postgres_reason: str | None) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    if postgres_reason:
        pytest.skip(postgres_reason)
    with _schema() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


# A test's database starts migrated. The migrations run for real once per test process
# (tests/integration/test_migrations.py runs them for every test of its own), and each test
# gets a copy of the result: on SQLite the migrated file, on PostgreSQL the statements the
# migration sent to the server, replayed into the test's fresh schema. Alembic's own Python
# for every one of several hundred tests was a tenth of a second of CPU each.
Statement = tuple[str, Any, bool]  # SQL text, its parameters, whether executemany


async def _migrated_sqlite_file(path: Path) -> None:
    eng = create_engine(f"sqlite:///{path}")
    try:
        await migrate(eng)
        async with eng.connect() as conn:  # everything into the main file: one file to copy
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await eng.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file the migrations have been run on."""
    path = tmp_path_factory.mktemp("template") / "migrated.sqlite3"
    asyncio.run(_migrated_sqlite_file(path))
    return path


async def _record_migration(url: str) -> list[Statement]:
    eng = create_engine(url)
    sent: list[Statement] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        sent.append((sql, params, many))

    event.listen(eng.sync_engine, "before_cursor_execute", record)
    try:
        await migrate(eng)
    finally:
        await eng.dispose()
    return sent


@pytest.fixture(scope="session")
def postgres_migration(postgres_reason: str | None) -> list[Statement]:
    """What migrating an empty PostgreSQL schema sends to the server, in order."""
    if postgres_reason:
        pytest.skip(postgres_reason)
    with _schema() as url:
        return asyncio.run(_record_migration(url))


def _replay(url: str, statements: list[Statement]) -> None:
    """Send ``statements`` in one transaction; runs of them without parameters as one
    round trip (psycopg runs several statements in one string when none has parameters)."""
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        plain: list[str] = []
        for sql, params, many in statements:
            if not params:
                plain.append(sql)
                continue
            if plain:
                cur.execute(";\n".join(plain).encode())
                plain = []
            if many:
                cur.executemany(sql.encode(), params)
            else:
                cur.execute(sql.encode(), params)
        if plain:
            cur.execute(";\n".join(plain).encode())


@pytest.fixture
def migrated_db_url(db_url: str, request: pytest.FixtureRequest) -> str:
    """``db_url``, holding a copy of the once-migrated database."""
    if db_url.startswith("sqlite:///"):
        target = Path(db_url.removeprefix("sqlite:///"))
        if not target.exists():
            shutil.copyfile(request.getfixturevalue("migrated_sqlite"), target)
    else:
        _replay(db_url, request.getfixturevalue("postgres_migration"))
    return db_url


@pytest.fixture
async def engine(migrated_db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(migrated_db_url)
    await migrate(eng)  # finds the database at head: proves the copy is a migrated one
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
