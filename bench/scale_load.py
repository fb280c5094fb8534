"""Bulk loading of a scale library with the drivers' own bulk paths (benchmark only).

A million insights through the ORM took 27 minutes; here rows are written with ids 1..N given
(a fresh schema), by ``executemany`` in one transaction on SQLite and by ``COPY`` on PostgreSQL
(foreign-key triggers off for the session, the GIN and edge indexes built once at the end, the
sequences moved past the ids used). The FTS5 table is filled by the same triggers ingest uses.
Values are formatted by the same SQLAlchemy types the application writes them with.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.types import DateTime

from bench.scale_data import SHOW_NAMES, FakeInsight

START = datetime(2025, 1, 1, tzinfo=UTC)
_SQLITE_DATETIME = (
    DateTime().dialect_impl(sqlite_dialect.dialect()).bind_processor(sqlite_dialect.dialect())
)


def _sqlite_time(value: datetime) -> str:
    assert _SQLITE_DATETIME is not None
    return str(_SQLITE_DATETIME(value.astimezone(UTC).replace(tzinfo=None)))


def _layout(n: int, shows: int, per_episode: int) -> tuple[int, np.ndarray, np.ndarray]:
    """Episodes 1..E of ``per_episode`` insights, shows round-robin: (E, episode, feed) per
    insight (ids 1-based)."""
    episodes = (n + per_episode - 1) // per_episode
    episode = np.arange(n) // per_episode + 1
    feed = (episode - 1) % shows + 1
    return episodes, episode, feed


def _feeds(shows: int) -> list[tuple[int, str, str]]:
    return [
        (f, f"https://show{f}.example/feed.xml", f"{SHOW_NAMES[(f - 1) % len(SHOW_NAMES)]} {f}")
        for f in range(1, shows + 1)
    ]


def _episode_rows(episodes: int, shows: int) -> Iterator[tuple[int, int, str, str, int]]:
    for e in range(1, episodes + 1):
        feed = (e - 1) % shows + 1
        yield e, feed, f"scale:{feed}:{e}", f"Episode {e}", (e - 1) % 700


def load_sqlite(
    path: Path,
    rows: list[FakeInsight],
    vectors: np.ndarray,
    model: str,
    *,
    shows: int = 50,
    per_episode: int = 10,
) -> None:
    """Into a migrated, empty SQLite database."""
    n = len(rows)
    episodes, episode, feed = _layout(n, shows, per_episode)
    created = _sqlite_time(START)
    days = [_sqlite_time(START + timedelta(days=d)) for d in range(700)]
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")  # 1 GB of pages while loading
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO feeds (id, url, title, error_count, created_at, untrusted) "
            "VALUES (?, ?, ?, 0, ?, 0)",
            [(*f, created) for f in _feeds(shows)],
        )
        conn.executemany(
            "INSERT INTO episodes (id, feed_id, dedup_key, title, published_at, persons, "
            "transcript_status, insight_status, created_at, insights_rejected) "
            "VALUES (?, ?, ?, ?, ?, '[]', 'fetched', 'done', ?, 0)",
            ((e, f, k, t, days[d], created) for e, f, k, t, d in _episode_rows(episodes, shows)),
        )
        conn.executemany(
            "INSERT INTO insights (id, episode_id, feed_id, headline, body, quote, speaker, "
            "start_seconds, topics, score, extractor, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'Host', ?, ?, 0.5, 'offline', ?)",
            (
                (i + 1, int(episode[i]), int(feed[i]), r.headline, r.body, r.quote,
                 float(i % 3000), json.dumps(r.topics), created)
                for i, r in enumerate(rows)
            ),
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO insight_topics (insight_id, topic) VALUES (?, ?)",
            ((i + 1, t) for i, r in enumerate(rows) for t in r.topics),
        )
        dim = int(vectors.shape[1])
        conn.executemany(
            "INSERT INTO insight_embeddings (id, insight_id, model, dim, vector) "
            "VALUES (?, ?, ?, ?, ?)",
            ((i + 1, i + 1, model, dim, vectors[i].tobytes()) for i in range(n)),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def load_edges_sqlite(path: Path, edges: Iterator[np.ndarray]) -> None:
    """(insight_id, related_id, rank, score) blocks; the related_id index is built after."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")
        ddl = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'ix_related_edges_related_id'"
        ).fetchone()[0]
        conn.execute("BEGIN")
        conn.execute("DELETE FROM related_edges")  # a resumed build writes them again
        conn.execute("DROP INDEX ix_related_edges_related_id")
        for block in edges:
            conn.executemany(
                "INSERT INTO related_edges (insight_id, related_id, rank, score) "
                "VALUES (?, ?, ?, ?)",
                zip(
                    block[:, 0].astype(np.int64).tolist(),
                    block[:, 1].astype(np.int64).tolist(),
                    block[:, 2].astype(np.int64).tolist(),
                    block[:, 3].tolist(),
                    strict=True,
                ),
            )
        conn.execute(ddl)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


def load_postgres(
    url: str,
    rows: list[FakeInsight],
    vectors: np.ndarray,
    model: str,
    *,
    shows: int = 50,
    per_episode: int = 10,
) -> None:
    """Into a migrated, empty PostgreSQL schema (``url`` sets its search_path)."""
    n = len(rows)
    episodes, episode, feed = _layout(n, shows, per_episode)
    days = [START + timedelta(days=d) for d in range(700)]
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK checks per row
        conn.execute("SET maintenance_work_mem = '1GB'")
        search_ddl = _drop_index(conn, "ix_insights_search")
        with conn.cursor().copy(
            "COPY feeds (id, url, title, error_count, created_at, untrusted) FROM STDIN"
        ) as copy:
            for f in _feeds(shows):
                copy.write_row((*f, 0, START, False))
        with conn.cursor().copy(
            "COPY episodes (id, feed_id, dedup_key, title, published_at, persons, "
            "transcript_status, insight_status, created_at, insights_rejected) FROM STDIN"
        ) as copy:
            for e, f, k, t, d in _episode_rows(episodes, shows):
                copy.write_row((e, f, k, t, days[d], "[]", "fetched", "done", START, 0))
        with conn.cursor().copy(
            "COPY insights (id, episode_id, feed_id, headline, body, quote, speaker, "
            "start_seconds, topics, score, extractor, created_at) FROM STDIN"
        ) as copy:
            for i, r in enumerate(rows):
                copy.write_row(
                    (i + 1, int(episode[i]), int(feed[i]), r.headline, r.body, r.quote,
                     "Host", float(i % 3000), json.dumps(r.topics), 0.5, "offline", START)
                )  # fmt: skip
        with conn.cursor().copy("COPY insight_topics (insight_id, topic) FROM STDIN") as copy:
            for i, r in enumerate(rows):
                for t in r.topics:
                    copy.write_row((i + 1, t))
        dim = int(vectors.shape[1])
        with conn.cursor().copy(
            "COPY insight_embeddings (id, insight_id, model, dim, vector) FROM STDIN"
        ) as copy:
            for i in range(n):
                copy.write_row((i + 1, i + 1, model, dim, vectors[i].tobytes()))
        conn.execute(search_ddl)
        for table in ("feeds", "episodes", "insights", "insight_embeddings"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()


def load_edges_postgres(url: str, edges: Iterator[np.ndarray]) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("TRUNCATE related_edges")  # a resumed build writes them again
        ddls = [_drop_index(conn, "ix_related_edges_related_id")]
        with conn.cursor().copy(
            "COPY related_edges (insight_id, related_id, rank, score) FROM STDIN"
        ) as copy:
            for block in edges:
                for a, b, c, d in zip(
                    block[:, 0].astype(np.int64).tolist(),
                    block[:, 1].astype(np.int64).tolist(),
                    block[:, 2].astype(np.int64).tolist(),
                    block[:, 3].tolist(),
                    strict=True,
                ):
                    copy.write_row((a, b, c, d))
        for ddl in ddls:
            conn.execute(ddl)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _drop_index(conn: psycopg.Connection[Any], name: str) -> str:
    """Drop an index of the current schema; returns the statement that makes it again."""
    row = conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = %s AND schemaname = current_schema()",
        (name,),
    ).fetchone()
    assert row is not None, name
    conn.execute(f'DROP INDEX "{name}"')
    return str(row[0])
