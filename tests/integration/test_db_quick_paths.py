"""The session-free chat paths of core.db read and write what the ORM would, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import UpdateBase

from core.chat.context import load_context, save_context
from core.chat.types import ChatRef
from core.db import (
    Query,
    Sessions,
    _open_read_connection,
    _open_write_connection,
    create_engine,
    detached_from_row,
    driver_executemany,
    driver_rows,
    ids_param,
    inline_reads,
    mapped_columns,
    migrate,
    one_of_param,
    session_factory,
    single_writes,
    transaction,
)
from core.models import Brief, ChatContext, Feed, User
from tests.conftest import PG_URL


def _users_query() -> Query:
    return select(*mapped_columns(User)).where(User.id.in_(bindparam("ids", expanding=True)))


def _briefs_on_query() -> Query:
    return select(Brief.id, Brief.created_at).where(
        Brief.local_date == bindparam("day"), Brief.created_at >= bindparam("since")
    )


def _save_listing() -> UpdateBase:
    return (
        update(ChatContext)
        .where(ChatContext.chat_id == bindparam("of_chat"))
        .values(last_listing=bindparam("listing"))
    )


async def test_inline_rows_convert_and_bind_like_the_orm(sessions: Sessions) -> None:
    created = datetime(2026, 3, 1, 8, 30, 15, 250_000, tzinfo=UTC)
    async with transaction(sessions) as session:
        ada = User(platform="telegram", external_id="1", settings={"compact": True}, paused=True)
        bob = User(platform="telegram", external_id="2")
        session.add_all([ada, bob])
        await session.flush()
        session.add(Brief(user_id=ada.id, local_date=date(2026, 3, 1), created_at=created))
    reads = inline_reads(sessions)

    rows = await reads.rows(_users_query, {"ids": [ada.id, bob.id, 999]})
    users = sorted((detached_from_row(User, row) for row in rows), key=lambda u: u.id)
    assert [u.external_id for u in users] == ["1", "2"]
    assert users[0].settings == {"compact": True} and users[0].paused is True
    assert users[1].paused is False and users[1].created_at is not None

    found = await reads.rows(
        _briefs_on_query, {"day": date(2026, 3, 1), "since": created.replace(microsecond=0)}
    )
    assert [(c.replace(tzinfo=UTC) if c.tzinfo is None else c) for _, c in found] == [created]
    later: dict[str, Any] = {"day": date(2026, 3, 1), "since": datetime(2026, 3, 2, tzinfo=UTC)}
    assert await reads.rows(_briefs_on_query, later) == []


def _named_on_platform_query() -> Query:
    # A value written into the statement ("telegram") beside one given at each run.
    return select(User.external_id).where(
        User.platform == "telegram", User.external_id == bindparam("external_id")
    )


async def test_inline_reads_use_values_given_when_the_statement_was_built(
    sessions: Sessions,
) -> None:
    async with transaction(sessions) as session:
        session.add_all(
            [User(platform="telegram", external_id="7"), User(platform="slack", external_id="8")]
        )
    reads = inline_reads(sessions)

    assert await reads.scalars(_named_on_platform_query, {"external_id": "7"}) == ["7"]
    assert await reads.scalars(_named_on_platform_query, {"external_id": "8"}) == []


async def test_single_write_stores_json_and_counts_rows(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        session.add(ChatContext(platform="slack", workspace="T1", chat_id="D1"))
    writes = single_writes(sessions)

    changed = await writes.execute("listing", _save_listing, {"of_chat": "D1", "listing": ["7"]})
    missing = await writes.execute("listing", _save_listing, {"of_chat": "D2", "listing": []})

    assert (changed, missing) == (1, 0)
    async with sessions() as session:
        stored = await session.scalar(select(ChatContext.last_listing))
    assert stored == ["7"]


async def test_first_saves_of_a_chat_context_racing_keep_both_fields(sessions: Sessions) -> None:
    """The first save is one INSERT-or-UPDATE: two at once (say a press and a message) make
    one row holding what each wrote, not an error."""
    chat = ChatRef("telegram", "77")
    await asyncio.gather(
        save_context(sessions, chat, last_listing=[3, 4]),
        save_context(sessions, chat, pending={"confirm": "forget"}),
    )
    context = await load_context(sessions, chat)
    assert context.last_listing == [3, 4] and context.pending == {"confirm": "forget"}
    await save_context(sessions, chat, last_listing=[5])  # later saves update that row
    assert (await load_context(sessions, chat)).last_listing == [5]
    async with sessions() as session:
        assert len((await session.scalars(select(ChatContext))).all()) == 1


def _backend_pid() -> Query:
    return select(func.pg_backend_pid())


def _terminate(pid: int) -> None:
    """What a server restart does to a connection (waiting until the backend is gone)."""
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))


async def test_postgres_quick_paths_reconnect_after_the_server_hangs_up(
    postgres_schema_url: str,
) -> None:
    """The quick paths keep psycopg connections of their own on PostgreSQL: one the server
    closed while it was idle is replaced without failing the next read or write."""
    engine = create_engine(postgres_schema_url)
    try:
        await migrate(engine)
        sessions = session_factory(engine)
        async with transaction(sessions) as session:
            session.add(ChatContext(platform="slack", workspace="T1", chat_id="D1"))
        reads, writes = inline_reads(sessions), single_writes(sessions)
        [first] = await reads.scalars(_backend_pid, {})

        _terminate(first)
        [second] = await reads.scalars(_backend_pid, {})
        _terminate(second)
        changed = await writes.execute(
            "listing", _save_listing, {"of_chat": "D1", "listing": ["9"]}
        )

        assert second != first and changed == 1
        assert (await load_context(sessions, ChatRef("slack", "D1", "T1"))).last_listing == [9]
    finally:
        await engine.dispose()


async def test_every_sqlite_connection_maps_the_database_file(tmp_path: Path) -> None:
    """Pages of a large library are read from the mapped file, not copied into a small cache
    of each connection: the pooled connections and the session-free paths' own."""
    engine = create_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            mapped = (await conn.exec_driver_sql("PRAGMA mmap_size")).scalar()
        assert mapped and mapped >= 1 << 30
        for plain in (
            _open_read_connection(engine.sync_engine),
            _open_write_connection(engine.sync_engine),
        ):
            assert plain is not None
            assert plain.execute("PRAGMA mmap_size").fetchone()[0] == mapped
            plain.close()
    finally:
        await engine.dispose()


async def test_driver_statements_run_inside_the_session_transaction(sessions: Sessions) -> None:
    """What a hot path sends on the session's own connection commits or rolls back with the
    session's other work, and a read there sees the session's uncommitted rows."""
    async with transaction(sessions) as session:
        session.add_all([Feed(url="https://a.example/f", title="A"),
                         Feed(url="https://b.example/f", title="B")])  # fmt: skip
        await session.flush()
        dialect = session.get_bind().dialect.name
        stmt = select(Feed.id, Feed.title).where(one_of_param(dialect, Feed.id, "ids"))
        ids = list((await session.execute(select(Feed.id).order_by(Feed.id))).scalars())
        rows = await driver_rows(session, stmt.order_by(Feed.id), {"ids": ids_param(dialect, ids)})
        assert rows == [(ids[0], "A"), (ids[1], "B")]
        rename = text("UPDATE feeds SET title = :title WHERE id = :id")
        await driver_rows(session, rename, {"title": "A2", "id": ids[0]})
    async with sessions() as session:
        assert await session.scalar(select(Feed.title).where(Feed.id == ids[0])) == "A2"
    try:
        async with transaction(sessions) as session:
            await driver_rows(session, rename, {"title": "lost", "id": ids[0]})
            raise RuntimeError("undo")
    except RuntimeError:
        pass
    async with sessions() as session:
        assert await session.scalar(select(Feed.title).where(Feed.id == ids[0])) == "A2"


async def test_driver_errors_come_as_the_engines_and_store_nothing(sessions: Sessions) -> None:
    """A statement the database refuses raises SQLAlchemy's error (callers catch one kind
    whichever way a statement went) and the transaction stores none of its work."""
    async with transaction(sessions) as session:
        session.add(Feed(url="https://taken.example/f", title="Taken"))
    duplicate = text("INSERT INTO feeds (url, title, error_count, untrusted, created_at) "
                     "VALUES (:url, 'Again', 0, false, CURRENT_TIMESTAMP)")  # fmt: skip
    for attempt in ("rows", "many"):
        try:
            async with transaction(sessions) as session:
                dialect = session.get_bind().dialect.name
                await driver_rows(session, duplicate, {"url": "https://new.example/f"})
                if attempt == "rows" or dialect == "postgresql":
                    await driver_rows(session, duplicate, {"url": "https://taken.example/f"})
                else:
                    await driver_executemany(
                        session,
                        "INSERT INTO feeds (url, title, error_count, untrusted, created_at) "
                        "VALUES (?, 'Again', 0, 0, CURRENT_TIMESTAMP)",
                        [("https://other.example/f",), ("https://taken.example/f",)],
                    )
        except IntegrityError:
            pass  # SQLAlchemy's, not sqlite3's or psycopg's own
        else:
            raise AssertionError(f"{attempt}: the duplicate was stored")
    async with sessions() as session:
        urls = set((await session.execute(select(Feed.url))).scalars())
    assert urls == {"https://taken.example/f"}
