"""Engine, sessions and migrations. SQLite (aiosqlite) by default, PostgreSQL (psycopg 3) by URL."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Engine,
    Integer,
    Select,
    String,
    any_,
    event,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.elements import ColumnElement

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
Sessions = async_sessionmaker[AsyncSession]
CHUNK = 500  # ids per IN list: well under SQLite's and psycopg's parameter limits
_SQLITE_IN_LIST = 64  # longer id lists go to SQLite as one JSON parameter


def normalise_url(url: str) -> str:
    """Pick the async driver for a plain database URL."""
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sqlite_url_for(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'podbrief.sqlite3'}"


def _enable_sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets the chat side read while ingest writes; foreign keys make cascades real.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _enable_sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    # No pre-ping: it costs a round trip on every checkout, and a chat turn checks out several
    # sessions (a third of its PostgreSQL round trips under load). A connection dropped by a
    # server restart fails one request instead; SQLAlchemy then discards the whole pool.
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with sessions() as session, session.begin():
        yield session


class InlineReads:
    """Small indexed reads the chat does many times, run on the event loop itself.

    On SQLite every statement through the async session is several hand-offs to aiosqlite's
    thread and back, which cost 10-100 times the read itself (more on a busy machine). A read
    of a few indexed rows costs microseconds, less than one hand-off, so it runs here on one
    plain sqlite3 connection kept for reads: autocommit (no read transaction is held between
    reads, so each sees the latest commit and never holds back a checkpoint), query-only, and
    never waiting on a lock (WAL readers do not wait; if one would, the read goes the async
    way instead). On PostgreSQL the driver is natively async: reads go through a connection
    of the engine, without an ORM session.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sql: dict[Callable[[], Select[Any]], tuple[str, list[str], dict[str, Any]]] = {}
        self._stmts: dict[Callable[[], Select[Any]], Select[Any]] = {}
        self._conn: sqlite3.Connection | None = None
        self._opened = False

    def sqlite_connection(self) -> sqlite3.Connection | None:
        if not self._opened:
            self._opened = True
            self._conn = _open_read_connection(self.engine.sync_engine)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn, self._opened = None, False

    async def scalars(self, query: Callable[[], Select[Any]], params: dict[str, Any]) -> list[Any]:
        """The first column of the rows of ``query()``, a statement whose named ``bindparam``s
        take their values from ``params``. Built and compiled once per ``query``."""
        conn = self.sqlite_connection()
        if conn is not None:
            sql, names, defaults = self._compiled(query)
            values = defaults | params
            try:
                rows = conn.execute(sql, [values[name] for name in names]).fetchall()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            else:
                return [row[0] for row in rows]
        async with self.engine.connect() as connection:
            return list((await connection.execute(self._statement(query), params)).scalars())

    def _statement(self, query: Callable[[], Select[Any]]) -> Select[Any]:
        stmt = self._stmts.get(query)
        if stmt is None:
            stmt = self._stmts[query] = query()
        return stmt

    def _compiled(self, query: Callable[[], Select[Any]]) -> tuple[str, list[str], dict[str, Any]]:
        found = self._sql.get(query)
        if found is None:
            compiled = self._statement(query).compile(dialect=sqlite.dialect())
            names = list(compiled.positiontup or ())
            defaults = {k: v for k, v in compiled.params.items() if v is not None}
            found = self._sql[query] = (str(compiled), names, defaults)
        return found


_INLINE: weakref.WeakKeyDictionary[Engine, InlineReads] = weakref.WeakKeyDictionary()


def inline_reads(sessions: async_sessionmaker[AsyncSession]) -> InlineReads:
    """The engine's ``InlineReads`` (one per engine; closed when the engine is disposed)."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    reads = _INLINE.get(engine.sync_engine)
    if reads is None:
        reads = _INLINE[engine.sync_engine] = InlineReads(engine)
        event.listen(engine.sync_engine, "engine_disposed", lambda _: reads.close())
    return reads


def _open_read_connection(engine: Engine) -> sqlite3.Connection | None:
    """A plain connection to the engine's SQLite file; None for PostgreSQL or in-memory."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:") or engine.url.query:
        return None  # URI options we would have to mirror: keep the async way
    conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA query_only=ON")
    conn.execute("PRAGMA busy_timeout=0")
    return conn


def chunks(ids: Sequence[int], size: int = CHUNK) -> list[Sequence[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def one_of(session: AsyncSession, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """``column IN (ids)``; on PostgreSQL ``= ANY(array)``: one parameter, so the statement
    text stays the same whatever the number of ids (psycopg parses and prepares it once).
    On SQLite a long list is one JSON parameter read by ``json_each``: thousands of ids (an
    episode's link candidates) then neither need chunks under the parameter limit nor a new
    statement to render and prepare for every length."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(ColumnElement[bool], column == any_(literal(list(ids), ARRAY(Integer))))
    if len(ids) > _SQLITE_IN_LIST:
        values = func.json_each(literal(json.dumps([int(i) for i in ids]), String()))
        return cast(
            ColumnElement[bool], column.in_(select(literal_column("value")).select_from(values))
        )
    return cast(ColumnElement[bool], column.in_(list(ids)))


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


async def migrate(engine: AsyncEngine) -> None:
    """Apply every pending migration (run on start and by `podbrief db upgrade`)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


def run_sync_migrations(url: str) -> None:
    """Blocking helper for scripts that are not inside an event loop."""

    async def _run() -> None:
        engine = create_engine(url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(_run())
