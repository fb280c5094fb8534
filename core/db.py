"""Engine, sessions and migrations. SQLite (aiosqlite) by default, PostgreSQL (psycopg 3) by URL."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import weakref
from collections.abc import (
    AsyncIterator,
    Callable,
    Hashable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import (
    Engine,
    Select,
    String,
    any_,
    bindparam,
    event,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import BindParameter, ClauseElement, ColumnElement
from sqlalchemy.types import UserDefinedType

from core.postgres.direct import DirectConnections, hung_up, register_int_array_dumper
from core.postgres.direct import IntArray as IntArray  # re-exported: ids for one_of and the batch
from core.postgres.direct import engine_errors as engine_errors  # re-exported

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
Sessions = async_sessionmaker[AsyncSession]
M = TypeVar("M")
Query = Select[*tuple[Any, ...]]  # a SELECT of any columns
_SQLITE = sqlite.dialect()  # compiles InlineReads' statements and converts their values
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


# Pages are read from the file mapped into memory instead of copied by a read() each into
# a per-connection cache of 2 MB: a library of a million insights is 2.5 GB, and a search or
# a link reads pages all over it. The mapping is shared by every connection (the OS page
# cache); SQLite's own build caps it (about 2 GB for Python's).
SQLITE_MMAP_BYTES = 1 << 32


def _enable_sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets the chat side read while ingest writes; foreign keys make cascades real.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = normalise_url(url)
    # Connections kept open, up to what many concurrent chat turns use at once: a connection
    # beyond pool_size is closed when returned, and opening one (a thread and a file for
    # aiosqlite; a login and a server process for PostgreSQL) costs far more than a query.
    # Under load the pool of 10 was opening and closing connections all the time.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    if url.startswith("sqlite"):
        if ":memory:" in url or url.rstrip("/").endswith("sqlite+aiosqlite:"):
            kwargs.pop("pool_size"), kwargs.pop("max_overflow")  # a static pool: no sizes
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _enable_sqlite_pragmas)
        return engine
    # No pre-ping: it costs a round trip on every checkout, and a chat turn checks out several
    # sessions (a third of its PostgreSQL round trips under load). A connection the server
    # closed (a restart) is noticed at checkout without one (_refuse_closed_connection).
    kwargs.setdefault("pool_recycle", 1800)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "postgresql":
        event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
        event.listen(engine.sync_engine, "connect", _dump_int_arrays_as_text)
    return engine


class _IntArrayType(UserDefinedType[list[int]]):
    """``integer[]`` whose values go to the driver as they are (an ``IntArray``): the
    generic array type copies them into a plain list, which psycopg then dumps slowly."""

    cache_ok = True
    render_bind_cast = True

    def get_col_spec(self, **_kw: Any) -> str:
        return "INTEGER[]"


_INT_ARRAY = _IntArrayType()


def int_array_param(name: str) -> BindParameter[list[int]]:
    """A PostgreSQL ``integer[]`` parameter of a ``text()`` statement, given an ``IntArray``."""
    return bindparam(name, type_=_INT_ARRAY)


def _dump_int_arrays_as_text(dbapi_conn: Any, _record: Any) -> None:
    register_int_array_dumper(dbapi_conn.driver_connection)


def _refuse_closed_connection(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server has closed is swapped for a new one at checkout.

    A server restart or ``pg_terminate_backend`` closes the socket of every idle pooled
    connection (the server says why, then hangs up). Without this the first statement on
    each fails, and with it whatever was being written down, such as a message that just
    went out. No round trip: an idle connection has nothing to read unless the server has
    spoken, which one syscall tells; raising DisconnectionError makes the pool discard it
    and connect it afresh."""
    driver = getattr(dbapi_conn, "driver_connection", None)
    if driver is not None and hung_up(driver):
        raise DisconnectionError("the server closed this connection")


def session_factory(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with sessions() as session, session.begin():
        yield session


class InlineReads:
    """Small indexed reads the chat does many times, without an ORM session.

    On SQLite every statement through the async session is several hand-offs to aiosqlite's
    thread and back, which cost 10-100 times the read itself (more on a busy machine). A read
    of a few indexed rows costs microseconds, less than one hand-off, so it runs here on one
    plain sqlite3 connection kept for reads: autocommit (no read transaction is held between
    reads, so each sees the latest commit and never holds back a checkpoint), query-only, and
    never waiting on a lock (WAL readers do not wait; if one would, the read goes the async
    way instead). On PostgreSQL it runs on a psycopg connection of ``DirectConnections``
    (autocommit, no SQLAlchemy execution: a sixth of the CPU).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._direct = direct_connections(engine)
        self._dialect = engine.dialect if self._direct is not None else _SQLITE
        self._sql: dict[Callable[[], Query], tuple[SQLCompiler, list[Any] | None]] = {}
        self._stmts: dict[Callable[[], Query], Query] = {}
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

    async def scalars(self, query: Callable[[], Query], params: dict[str, Any]) -> list[Any]:
        """The first column of the rows of ``query()``, a statement whose named ``bindparam``s
        take their values from ``params``. Built and compiled once per ``query``."""
        return [row[0] for row in await self.rows(query, params)]

    async def rows(
        self, query: Callable[[], Query], params: dict[str, Any]
    ) -> list[tuple[Any, ...]]:
        """The rows of ``query()`` as tuples, values converted like the ORM would (JSON,
        dates, booleans). An ``expanding`` bindparam takes a list (``IN``)."""
        if self._direct is not None:
            compiled, processors = self._compiled(query)
            state = compiled.construct_expanded_state(_bound(compiled, params))
            async with self._direct.connection() as pg:
                cursor = await pg.execute(state.statement, state.parameters)
                found = await cursor.fetchall()
            if processors is None:  # PostgreSQL's: they depend on the result's column types
                processors = self._pg_processors(query, cursor.description or [])
            return _converted(found, processors)
        conn = self.sqlite_connection()
        if conn is not None:
            compiled, processors = self._compiled(query)
            try:
                found = conn.execute(*_sqlite_call(compiled, params)).fetchall()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            else:
                return _converted(found, processors or [])
        # Autocommit: no ROLLBACK round trip when the connection goes back to the pool.
        async with self._autocommit.connect() as connection:
            return [tuple(row) for row in await connection.execute(self._statement(query), params)]

    def _statement(self, query: Callable[[], Query]) -> Query:
        stmt = self._stmts.get(query)
        if stmt is None:
            stmt = self._stmts[query] = query()
        return stmt

    def _compiled(self, query: Callable[[], Query]) -> tuple[SQLCompiler, list[Any] | None]:
        """The statement compiled once, with its columns' result processors (on PostgreSQL
        known only from a result: None until then)."""
        found = self._sql.get(query)
        if found is None:
            stmt = self._statement(query)
            processors = None
            if self._direct is None:
                processors = [
                    column.type._cached_result_processor(self._dialect, None)
                    for column in stmt.selected_columns
                ]
            compiled = stmt.compile(dialect=self._dialect)
            found = self._sql[query] = (compiled, processors)
        return found

    def _pg_processors(self, query: Callable[[], Query], description: Sequence[Any]) -> list[Any]:
        compiled, _ = self._sql[query]
        columns = self._statement(query).selected_columns
        processors = [
            column.type._cached_result_processor(self._dialect, found.type_code)
            for column, found in zip(columns, description, strict=True)
        ]
        self._sql[query] = (compiled, processors)
        return processors


def _converted(rows: Sequence[Sequence[Any]], processors: list[Any]) -> list[tuple[Any, ...]]:
    """``rows`` with each column's result processor applied (where its type has one)."""
    if not any(processors):
        return [tuple(row) for row in rows]
    return [
        tuple(v if p is None else p(v) for p, v in zip(processors, row, strict=True))
        for row in rows
    ]


async def driver_rows(
    session: AsyncSession, stmt: ClauseElement, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """The rows of ``stmt`` (compiled once) run on the session's own driver connection, inside
    its transaction: on SQLite one hand-off to aiosqlite's thread instead of four (cursor,
    execute, fetch, close), and no SQLAlchemy execution or Row objects. For statements a hot
    path runs with thousands of rows (linking an episode); values come as the driver gives
    them, so only for columns that need no result processing (numbers, text, bytes).
    Listeners of ``before_cursor_execute`` see the statement, as from the engine."""
    connection = await session.connection()
    compiled = _compiled_once(stmt, connection.dialect)
    driver = await _driver(connection)
    if connection.dialect.name == "postgresql":
        state = compiled.construct_expanded_state(_bound(compiled, params))
        _announce(connection, state.statement, state.parameters, many=False)
        async with engine_errors():
            cursor = await driver.execute(state.statement, state.parameters)
            return list(await cursor.fetchall()) if cursor.description else []
    sql, values = _sqlite_call(compiled, params)
    _announce(connection, sql, values, many=False)
    with _sqlite_errors(sql, values):
        return [tuple(row) for row in await driver.execute_fetchall(sql, values)]


async def driver_executemany(
    session: AsyncSession, sql: str, rows: Sequence[tuple[Any, ...]]
) -> None:
    """SQLite: ``sql`` (qmark parameters) once per row of ``rows`` on the session's own
    connection, in one hand-off, without SQLAlchemy's per-row parameter processing."""
    connection = await session.connection()
    driver = await _driver(connection)
    _announce(connection, sql, rows, many=True)
    with _sqlite_errors(sql, rows):
        await driver.executemany(sql, rows)


@contextmanager
def _sqlite_errors(sql: str, params: Any) -> Iterator[None]:
    """sqlite3's errors raised as SQLAlchemy's (``OperationalError`` for a full disk or a
    lock, ``IntegrityError``...), as the same statement through the engine raises them."""
    try:
        yield
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc


async def _driver(connection: AsyncConnection) -> Any:
    """The driver's own connection (aiosqlite's or psycopg's async one) under ``connection``."""
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is None:
        raise RuntimeError("the session's connection is closed")
    return driver


def _announce(connection: AsyncConnection, sql: str, params: Any, *, many: bool) -> None:
    sync = connection.sync_connection
    if sync is not None and sync.dispatch.before_cursor_execute:
        sync.dispatch.before_cursor_execute(sync, None, sql, params, None, many)


_COMPILED: weakref.WeakKeyDictionary[ClauseElement, dict[str, SQLCompiler]] = (
    weakref.WeakKeyDictionary()
)


def _compiled_once(stmt: ClauseElement, dialect: Dialect) -> SQLCompiler:
    by_dialect = _COMPILED.setdefault(stmt, {})
    compiled = by_dialect.get(dialect.name)
    if compiled is None:
        compiled = by_dialect[dialect.name] = cast(SQLCompiler, stmt.compile(dialect=dialect))
    return compiled


class SingleWrites:
    """One-statement writes the chat does on most turns, without an ORM session.

    Through the async session a one-row UPDATE on SQLite is a dozen hand-offs to aiosqlite's
    thread (begin, execute, commit, close, reset) and the ORM's machinery: about 1 ms of CPU
    on an idle machine, against under 0.1 ms for the same UPDATE on a plain sqlite3
    connection in one hand-off to a thread kept for it. That thread waits for SQLite's write
    lock like the engine's connections do (busy timeout), never the event loop. On
    PostgreSQL the statement runs alone on an autocommit psycopg connection of
    ``DirectConnections``: one round trip instead of BEGIN, UPDATE and COMMIT, and no
    SQLAlchemy execution.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._direct = direct_connections(engine)
        self._dialect = engine.dialect if self._direct is not None else _SQLITE
        self._sql: dict[Hashable, SQLCompiler] = {}
        self._conn: sqlite3.Connection | None = None
        self._opened = False
        self._thread: ThreadPoolExecutor | None = None

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
        if self._conn is not None:
            self._conn.close()
        self._conn, self._thread, self._opened = None, None, False

    async def execute(
        self, key: Hashable, statement: Callable[[], UpdateBase], params: dict[str, Any]
    ) -> int:
        """Run ``statement()`` (built and compiled once per ``key``) in its own transaction;
        the number of rows it changed."""
        if self._direct is None and not self._opened:
            self._opened = True
            self._conn = _open_write_connection(self.engine.sync_engine)
            if self._conn is not None:
                self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writes")
        if self._direct is None and (self._conn is None or self._thread is None):
            async with self._autocommit.connect() as connection:
                result = await connection.execute(statement(), params)
            return int(getattr(result, "rowcount", 0) or 0)
        compiled = self._sql.get(key)
        if compiled is None:
            compiled = self._sql[key] = statement().compile(dialect=self._dialect)
        # Python-side onupdate values (e.g. updated_at) the engine would have filled in.
        for column in compiled.update_prefetch:
            if column.key not in params and column.onupdate is not None:
                arg = getattr(column.onupdate, "arg", None)
                params = params | {column.key: arg(None) if callable(arg) else arg}
        state = compiled.construct_expanded_state(_bound(compiled, params))
        if self._direct is not None:
            async with self._direct.connection() as pg:
                cursor = await pg.execute(state.statement, state.parameters)
                return cursor.rowcount
        conn, thread = self._conn, self._thread
        assert conn is not None and thread is not None

        def write() -> int:
            with conn:  # BEGIN ... COMMIT, or ROLLBACK on error
                return conn.execute(state.statement, state.positional_parameters).rowcount

        return await asyncio.get_running_loop().run_in_executor(thread, write)


def _open_write_connection(engine: Engine) -> sqlite3.Connection | None:
    """A plain connection to the engine's SQLite file for ``SingleWrites``; else None."""
    read = _open_read_connection(engine)
    if read is None:
        return None
    read.close()
    database = engine.url.database
    assert database
    conn = sqlite3.connect(database, check_same_thread=False)  # implicit BEGIN before writes
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    return conn


_QuickPath = TypeVar("_QuickPath", "InlineReads", "SingleWrites", DirectConnections)
_QUICK_PATHS: weakref.WeakKeyDictionary[Engine, dict[type[Any], Any]] = weakref.WeakKeyDictionary()


def _per_engine(engine: AsyncEngine, kind: type[_QuickPath]) -> _QuickPath:
    """The engine's one ``kind`` (made at first use; closed when the engine is disposed)."""
    made = _QUICK_PATHS.setdefault(engine.sync_engine, {})
    path = made.get(kind)
    if path is None:
        path = made[kind] = kind(engine)
        event.listen(engine.sync_engine, "engine_disposed", lambda _: path.close())
    return cast(_QuickPath, path)


def direct_connections(engine: AsyncEngine) -> DirectConnections | None:
    """The engine's ``DirectConnections`` on PostgreSQL (one per engine); None elsewhere."""
    if engine.dialect.name != "postgresql":
        return None
    return _per_engine(engine, DirectConnections)


def _engine_of(sessions: Sessions) -> AsyncEngine:
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return engine


def upsert_into(sessions: Sessions, model: type[Any]) -> Any:
    """``INSERT INTO model`` in the engine's dialect, which has ``on_conflict_do_update``:
    an insert-or-update in one statement, so it can go through ``SingleWrites``."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    if engine.dialect.name == "postgresql":
        # Loaded with the engine's dialect already: a SQLite process never pays for it.
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(model)
    return sqlite_insert(model)


def single_writes(sessions: async_sessionmaker[AsyncSession]) -> SingleWrites:
    """The engine's ``SingleWrites`` (one per engine; closed when the engine is disposed)."""
    return _per_engine(_engine_of(sessions), SingleWrites)


def _sqlite_call(compiled: SQLCompiler, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """The SQL and positional values for sqlite3. A statement with no ``IN`` list is the same
    SQL every time, so its values are put in order directly: SQLAlchemy's expanded state costs
    more than the indexed read itself (the chat's related-insights lookup)."""
    order = _fixed_order(compiled)
    if order is None:
        state = compiled.construct_expanded_state(_bound(compiled, params))
        return state.statement, list(state.positional_parameters)
    values = []
    for name, default, bind in order:
        value = params.get(name, default)
        values.append(value if bind is None or value is None else bind(value))
    return compiled.string, values


_ORDERS: weakref.WeakKeyDictionary[SQLCompiler, list[tuple[str, Any, Any]] | None] = (
    weakref.WeakKeyDictionary()
)


def _fixed_order(compiled: SQLCompiler) -> list[tuple[str, Any, Any]] | None:
    """Each positional parameter's name, value given at build time and bind processor; None
    for a statement whose SQL is finished only at run time (an ``IN`` list, a literal value)."""
    try:
        return _ORDERS[compiled]
    except KeyError:
        pass
    order: list[tuple[str, Any, Any]] | None = None
    if not compiled.post_compile_params:
        defaults, binds = compiled.params, compiled._bind_processors
        order = [(name, defaults.get(name), binds.get(name)) for name in compiled.positiontup or ()]
    _ORDERS[compiled] = order
    return order


def _bound(compiled: SQLCompiler, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` as the ORM would store them (dates and times as SQLAlchemy's SQLite text)."""
    binds: Mapping[str, Any] = compiled._bind_processors
    bound = dict(params)
    for name, value in params.items():
        bind = binds.get(name)
        if bind is not None and value is not None:
            expanding = compiled.binds[name].expanding  # an IN list, not one JSON value
            bound[name] = [bind(v) for v in value] if expanding else bind(value)
    return bound


def inline_reads(sessions: async_sessionmaker[AsyncSession]) -> InlineReads:
    """The engine's ``InlineReads`` (one per engine; closed when the engine is disposed)."""
    return _per_engine(_engine_of(sessions), InlineReads)


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
    conn.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    return conn


def iso_utc(value: datetime | None) -> str | None:
    """A time as JSON text for a statement that reads its rows from JSON (json_to_recordset):
    the rule of ``UTCDateTime``, aware times only, written in UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).isoformat()


def mapped_columns(model: type[Any]) -> list[Any]:
    """Every mapped column of ``model``, in the order ``detached_from_row`` expects."""
    return [getattr(model, attr.key) for attr in sa_inspect(model).column_attrs]


def detached_from_row(model: type[M], row: Sequence[Any]) -> M:
    """An instance of ``model`` from a row of ``mapped_columns(model)``: detached, as if a
    session had read it and closed (what reads through a session returned before). Built
    without the constructor's per-attribute events: a fifth of the cost."""
    mapper = sa_inspect(model)
    instance: M = mapper.class_manager.new_instance()
    keys = [attr.key for attr in mapper.column_attrs]
    instance_state(instance).dict.update(zip(keys, row, strict=True))
    make_transient_to_detached(instance)
    return instance


def chunks(ids: Sequence[int], size: int = CHUNK) -> list[Sequence[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def id_chunks(session: AsyncSession, ids: Sequence[int], size: int = CHUNK) -> list[Sequence[int]]:
    """``ids`` in parts for ``one_of``: on PostgreSQL one part (an array parameter has no
    limit; every part is a statement and a round trip), elsewhere ``chunks`` of ``size``."""
    if session.get_bind().dialect.name == "postgresql":
        return [ids] if ids else []
    return chunks(ids, size)


def one_of(session: AsyncSession, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """``column IN (ids)``; on PostgreSQL ``= ANY(array)``: one parameter, so the statement
    text stays the same whatever the number of ids (psycopg parses and prepares it once).
    On SQLite a long list is one JSON parameter read by ``json_each``: thousands of ids (an
    episode's link candidates) then neither need chunks under the parameter limit nor a new
    statement to render and prepare for every length."""
    if session.get_bind().dialect.name == "postgresql":
        array = literal(IntArray(ids), _INT_ARRAY)
        return cast(ColumnElement[bool], column == any_(array))
    if len(ids) > _SQLITE_IN_LIST:
        return _in_json_list(column, literal(json.dumps([int(i) for i in ids]), String()))
    return cast(ColumnElement[bool], column.in_(list(ids)))


def one_of_param(dialect: str, column: Any, name: str) -> ColumnElement[bool]:
    """``one_of`` for a statement built once: ``column`` is one of the ids given at execution
    as parameter ``name``, the value ``ids_param(dialect, ids)`` (an array on PostgreSQL, a
    JSON list read by ``json_each`` on SQLite)."""
    if dialect == "postgresql":
        return cast(ColumnElement[bool], column == any_(bindparam(name, type_=_INT_ARRAY)))
    return _in_json_list(column, bindparam(name, type_=String()))


def _in_json_list(column: Any, ids_json: ColumnElement[str]) -> ColumnElement[bool]:
    """SQLite: ``column IN`` the ids of a JSON list, read by ``json_each``."""
    values: Select[Any] = select(literal_column("value")).select_from(func.json_each(ids_json))
    return cast(ColumnElement[bool], column.in_(values))


def ids_param(dialect: str, ids: Iterable[int]) -> object:
    """The value of a ``one_of_param`` parameter."""
    if dialect == "postgresql":
        return IntArray(ids)
    return json.dumps([int(i) for i in ids])


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


_REVISION = re.compile(r"^revision\b[^=]*=\s*(.+)$", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\b[^=]*=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")


@cache
def head_revisions() -> frozenset[str]:
    """The revisions no other migration builds on, read from the migration files' own
    ``revision`` and ``down_revision`` lines: alembic's import alone costs a process about a
    third of a second, and most starts find the database up to date."""
    revisions: set[str] = set()
    built_on: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text), _DOWN_REVISION.search(text)
        if revision is None or down is None:
            continue  # not a migration (alembic needs both lines too)
        revisions.update(_QUOTED.findall(revision.group(1)))
        built_on.update(_QUOTED.findall(down.group(1)))
    return frozenset(revisions - built_on)


def _at_head(connection: Connection) -> bool:
    """Whether the database is stamped with every head revision already (nothing to run)."""
    if not sa_inspect(connection).has_table("alembic_version"):
        return False
    stamped = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars()
    return frozenset(stamped) == head_revisions()


def _upgrade(connection: Connection) -> None:
    if _at_head(connection):
        return
    from alembic import command  # only when there is something to migrate

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
