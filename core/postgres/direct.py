"""One-statement PostgreSQL work straight on psycopg connections of our own, in autocommit.

A chat turn makes several small indexed reads and one write. Through SQLAlchemy each one
checked a connection out of the engine's pool, switched it to autocommit and back, ran the
statement through a greenlet and reset the connection on return: about 300-500 µs of CPU,
against about 50 µs for the statement on a psycopg connection held for it (measured on this
machine, one user row by its chat). These connections stay in autocommit, so nothing is
switched or reset, and psycopg keeps its prepared statements on them.
"""

from __future__ import annotations

import asyncio
import select as io_select
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:  # psycopg is loaded with the first connection: SQLite never needs it
    from psycopg import AsyncConnection

DIRECT_CONNECTIONS = 20  # at most this many at once: beyond it a statement waits for one


class DirectConnections:
    """A small pool of autocommit psycopg connections for one engine's database.

    Made for one event loop at a time (a connection belongs to the loop that opened it): on
    another loop the idle ones are dropped and new ones opened."""

    def __init__(self, engine: AsyncEngine, size: int = DIRECT_CONNECTIONS) -> None:
        self._cargs, self._cparams = engine.dialect.create_connect_args(engine.url)
        self._size = size
        self._idle: list[AsyncConnection[Any]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(size)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        """A connection for one statement; back to the pool after it if it is still sound."""
        self._follow_loop()
        async with self._slots:
            conn = self._take() or await self._open()
            try:
                yield conn
            finally:
                self._give_back(conn)

    def close(self) -> None:
        """Close the idle connections (those in use are closed when given back)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            _close_now(conn)

    def _follow_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self.close()
            self._loop, self._slots = loop, asyncio.Semaphore(self._size)

    def _take(self) -> AsyncConnection[Any] | None:
        while self._idle:
            conn = self._idle.pop()  # the last one used: its prepared statements are warm
            if not hung_up(conn):
                return conn
            _close_now(conn)
        return None

    async def _open(self) -> AsyncConnection[Any]:
        from psycopg import AsyncConnection

        conn = await AsyncConnection.connect(*self._cargs, autocommit=True, **self._cparams)
        register_int_array_dumper(conn)
        return conn

    def _give_back(self, conn: AsyncConnection[Any]) -> None:
        from psycopg.pq import TransactionStatus

        # A statement cut off (cancelled, or the server went away) leaves the connection in
        # an unknown state: closed, not reused. An SQL error in autocommit leaves it idle.
        sound = not conn.broken and conn.info.transaction_status == TransactionStatus.IDLE
        if sound and not conn.closed and len(self._idle) < self._size:
            self._idle.append(conn)
        else:
            _close_now(conn)


class IntArray(list[int]):
    """Ids sent to PostgreSQL as one ``integer[]`` parameter in its text form. psycopg's own
    list dumper works in Python a cell at a time: a tenth of a delivery worker's CPU went
    there. Still a typed array parameter, so the planner's estimates are unchanged."""


def register_int_array_dumper(psycopg_conn: Any) -> None:
    """``IntArray`` parameters go to this psycopg connection in PostgreSQL's text form."""
    # psycopg is imported here, not at the top: a SQLite deployment never loads it (230 ms).
    from psycopg import postgres
    from psycopg.adapt import Dumper
    from psycopg.pq import Format

    class IntArrayDumper(Dumper):
        format = Format.TEXT
        oid = postgres.types["int4"].array_oid

        def dump(self, obj: Any) -> bytes:
            return ("{" + ",".join(map(str, obj)) + "}").encode()

    psycopg_conn.adapters.register_dumper(IntArray, IntArrayDumper)


@asynccontextmanager
async def engine_errors() -> AsyncIterator[None]:
    """psycopg's errors raised as SQLAlchemy's (``DBAPIError`` and its kinds, e.g.
    ``IntegrityError``): what the same statement run through the engine raises, so callers
    catch one kind whichever way it went."""
    from psycopg import Error

    try:
        yield
    except Error as exc:
        raise DBAPIError.instance(None, None, exc, Error) from exc


def hung_up(conn: Any) -> bool:
    """Whether the server has closed this idle psycopg connection (a restart or
    ``pg_terminate_backend``), told without a round trip: an idle connection has nothing to
    read unless the server has spoken before hanging up."""
    from psycopg import OperationalError

    if conn.closed:
        return True
    try:
        readable, _, _ = io_select.select([conn.pgconn.socket], [], [], 0)
    except (OSError, ValueError, OperationalError):
        return True
    return bool(readable)


def _close_now(conn: AsyncConnection[Any]) -> None:
    """Close without awaiting (psycopg's close only finishes the libpq connection)."""
    if not conn.closed:
        conn.pgconn.finish()
