"""PostgreSQL's statistics of the brief tables, kept up with a big delivery run.

A run stores a brief and five items per recipient. Where the tables were small when last
analyzed (a new database, a first big day), PostgreSQL goes on planning the batch reads for
the small tables: what the batch's users received was read by probing every candidate for
every user (0.9 ms a batch at the start of a 100,000-recipient run, 72 ms at its end; 2.4 ms
with fresh statistics). Autovacuum catches up only a minute or more later. So a run
refreshes them once they have grown by as much again as PostgreSQL knew of (ANALYZE reads a
bounded sample: tens of milliseconds whatever the size). The check runs after every batch of
a run: straight on an autocommit psycopg connection (``DirectConnections``), without
SQLAlchemy's connection checkout and reset around it."""

from __future__ import annotations

from core.db import Sessions, direct_connections, engine_errors

GROWN_BY = 1000  # rows changed since the last ANALYZE, at the least, before another
_TABLES = ("briefs", "brief_items")
_GROWN = (  # the counter's function, not the view: that reads every table's (50 ms)
    "SELECT relname FROM pg_class"
    " WHERE oid IN (CAST('briefs' AS regclass), CAST('brief_items' AS regclass))"
    " AND pg_stat_get_mod_since_analyze(oid) >= GREATEST(%(least)s, reltuples)"
)


async def refresh_if_grown(sessions: Sessions) -> None:
    """ANALYZE each brief table that has grown by at least what its statistics count."""
    direct = direct_connections(sessions.kw["bind"])
    if direct is None:  # SQLite
        return
    async with direct.connection() as pg, engine_errors():
        grown = [
            name for (name,) in await (await pg.execute(_GROWN, {"least": GROWN_BY})).fetchall()
        ]
        for name in grown:
            if name in _TABLES:  # a name of ours, never text from elsewhere
                await pg.execute(f"ANALYZE {name}")
