"""The engine alone, for bench/scale.py: the SQL the application sent, replayed on the raw driver.

While the application links an episode or answers a query, every statement it sends (text and
parameters exactly as the driver got them) and every nearest-neighbour question it asks the
index are recorded. The bound is then the same statements through ``sqlite3`` / a sync
``psycopg`` connection with no application around them (no ORM, no async hand-offs, no
Python scoring), plus the same index searches on the usearch index itself: what the engines
must do for that answer. Writes are replayed in a transaction that is rolled back.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import SQLITE_MMAP_BYTES, _dump_int_arrays_as_text


@dataclass
class Recorded:
    statements: list[tuple[str, Any, bool]] = field(default_factory=list)
    searches: list[tuple[np.ndarray, int]] = field(default_factory=list)


class Recorder:
    """Statements sent through ``engine`` and index searches through ``library``, while on."""

    def __init__(self, engine: AsyncEngine, library: Any) -> None:
        self.on: Recorded | None = None
        event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
        neighbours = library.neighbours

        async def recorded_neighbours(queries: np.ndarray, k: int) -> Any:
            if self.on is not None:
                self.on.searches.append((np.array(queries, dtype=np.float32), k))
            return await neighbours(queries, k)

        library.neighbours = recorded_neighbours

    def _statement(self, _conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any,
                   many: bool) -> None:  # fmt: skip
        if self.on is not None:
            # An INSERT of many rows with RETURNING is one execute of a many-VALUES statement
            # ("insertmanyvalues"), though the event says executemany.
            many = (
                many
                and isinstance(params, (list, tuple))
                and bool(params)
                and isinstance(params[0], (list, tuple, dict))
            )
            self.on.statements.append((statement, params, many))

    @contextmanager
    def recording(self) -> Iterator[Recorded]:
        self.on = Recorded()
        try:
            yield self.on
        finally:
            self.on = None


class RawReplay:
    """Replays recorded work on a raw connection; returns (wall s, CPU s: this process and,
    on PostgreSQL, the server backend serving the raw connection)."""

    def __init__(self, db: str, target: str, library: Any) -> None:
        self.db = db
        self._library = library
        if db == "sqlite":
            self.conn: Any = sqlite3.connect(target, isolation_level=None, timeout=30)
            for pragma in (
                "journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL",
                f"mmap_size={SQLITE_MMAP_BYTES}",
            ):  # fmt: skip
                self.conn.execute(f"PRAGMA {pragma}")  # as the application's connections
            self._pid = 0
        else:
            import psycopg

            self.conn = psycopg.connect(target)
            _dump_int_arrays_as_text(SimpleNamespace(driver_connection=self.conn), None)
            self._pid = self.conn.info.backend_pid

    def close(self) -> None:
        self.conn.close()

    def run(self, work: Recorded, *, writes: bool, timed_from: int) -> tuple[float, float]:
        """Replays ``work``; only its searches and its statements from ``timed_from`` on are
        timed (those before set up what they read: an episode's rows, stored before linking)."""
        statements = work.statements
        if self.db == "sqlite":
            if writes:
                self.conn.execute("BEGIN")
            self._sqlite(statements[:timed_from])
        else:
            self._postgres(statements[:timed_from])
        cpu = self._cpu()
        t = time.perf_counter()
        index = self._library._index  # the usearch adapter itself, no catch-up around it
        for queries, k in work.searches:
            index.search(queries, k)
        if self.db == "sqlite":
            self._sqlite(statements[timed_from:])
        else:
            self._postgres(statements[timed_from:])
        wall, used = time.perf_counter() - t, self._cpu() - cpu
        if self.db == "sqlite":
            if writes:
                self.conn.execute("ROLLBACK")
        else:
            self.conn.rollback()
        return wall, used

    def _sqlite(self, statements: list[tuple[str, Any, bool]]) -> None:
        for statement, params, many in statements:
            cursor = (self.conn.executemany if many else self.conn.execute)(
                statement, [tuple(p) for p in params] if many else tuple(params)
            )
            cursor.fetchall()

    def _postgres(self, statements: list[tuple[str, Any, bool]]) -> None:
        with self.conn.cursor() as cursor:
            for statement, params, many in statements:
                if many:
                    cursor.executemany(statement, params)
                else:
                    cursor.execute(statement, params)
                    if cursor.description is not None:
                        cursor.fetchall()

    def _cpu(self) -> float:
        from bench.scale import _proc_cpu

        return time.process_time() + (_proc_cpu(self._pid) if self._pid else 0.0)

    def sequences(self) -> list[tuple[str, int | None]]:
        """PostgreSQL: every sequence of the schema and its last value (a rolled-back run
        consumed ids: they are set back so the replay and the real run get the same ones)."""
        if self.db != "postgres":
            return []
        with self.conn.cursor() as cursor:
            cursor.execute(
                "SELECT quote_ident(sequencename), last_value FROM pg_sequences "
                "WHERE schemaname = current_schema()"
            )
            found = [(str(name), value) for name, value in cursor.fetchall()]
        self.conn.rollback()
        return found

    def set_sequences(self, values: list[tuple[str, int | None]]) -> None:
        if not values:
            return
        with self.conn.cursor() as cursor:
            for name, value in values:
                if value is None:
                    cursor.execute("SELECT setval(%s, 1, false)", (name,))
                else:
                    cursor.execute("SELECT setval(%s, %s)", (name, value))
        self.conn.commit()
